"""Exports keep the shape-key animation: read the .glb back (weights and times equal the bake), re-import the FBX."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from blender_helpers import accessor, read_glb, wave_clip

from a2f_core.names import ARKIT_52
from addon.bake import shapekey_action, steps


def bake(head, clip, tmp_path, ext, start=0):
    spec = steps.BakeSpec(objects=[head.name], start_frame=start, export=str(tmp_path / f"face{ext}"))
    job = steps.Job(spec=spec, take="hello", source="synthetic", start_frame=start)
    job.clip = clip
    return steps.write(job)


@pytest.mark.parametrize("start", [0, 24])
def test_glb_morph_weights_equal_the_bake_with_time_zero_at_audio_start(head, tmp_path, start):
    bpy.context.scene.render.fps = 60
    clip = wave_clip(90)
    rep = bake(head, clip, tmp_path, ".glb", start)
    doc, binary = read_glb(tmp_path / "face.glb")
    mesh = next(m for m in doc["meshes"] if m.get("extras", {}).get("targetNames"))
    assert mesh["extras"]["targetNames"] == list(ARKIT_52)
    (anim,) = doc["animations"]
    (channel,) = [c for c in anim["channels"] if c["target"]["path"] == "weights"]
    sampler = anim["samplers"][channel["sampler"]]
    times = accessor(doc, binary, sampler["input"])
    weights = accessor(doc, binary, sampler["output"]).reshape(len(times), 52)
    np.testing.assert_allclose(times, clip.times, atol=1e-5)  # frame `start` exported as t = 0
    np.testing.assert_allclose(weights, clip.weights, atol=1e-6)
    assert rep.export.endswith("face.glb") and "export" in rep.timings
    # the scene keys were moved back after the export
    fc = shapekey_action.fcurves_of(head.data.shape_keys.animation_data.action)[0]
    assert fc.keyframe_points[0].co[0] == start


def test_fbx_round_trip_keeps_all_52_curves(head, tmp_path):
    bpy.context.scene.render.fps = 60
    clip = wave_clip(61)
    bake(head, clip, tmp_path, ".fbx", start=10)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps = 60
    bpy.ops.import_scene.fbx(filepath=str(tmp_path / "face.fbx"), anim_offset=0.0)
    ob = next(o for o in bpy.data.objects if o.type == "MESH")
    key = ob.data.shape_keys
    assert [kb.name for kb in key.key_blocks][1:] == list(ARKIT_52)
    fcs = shapekey_action.fcurves_of(key.animation_data.action)
    assert len(fcs) == 52
    kb = key.key_blocks
    scene = bpy.context.scene
    for i in (0, 17, 60):  # audio start is frame 0 in the file
        scene.frame_set(i)
        got = np.array([kb[n].value for n in ARKIT_52])
        np.testing.assert_allclose(got, clip.weights[i], atol=1e-5)


def test_export_rejects_unknown_extension(head, tmp_path):
    from a2f_core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"\.obj.*use \.glb, \.gltf or \.fbx"):
        bake(head, wave_clip(10), tmp_path, ".obj")
    assert head.data.shape_keys.animation_data is None


def test_glb_without_morph_animation_is_reported(head, tmp_path):
    from a2f_core.errors import A2FError
    from addon.export import export_file

    with pytest.raises(A2FError, match="no shape-key .morph weights. animation"):
        export_file(str(tmp_path / "still.glb"), [head])
