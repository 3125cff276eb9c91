"""Bad input: a clear message naming the problem, and the scene exactly as it was."""

from __future__ import annotations

import shutil

import bpy
import numpy as np
import pytest
from blender_helpers import HELLO, StandInBackend, snapshot

from a2f_core.errors import AudioError, BackendError, Cancelled, ConfigError, MappingError
from addon.bake import steps
from addon.operators.bake import BakeJob


def artist_scene(head):
    kb = head.data.shape_keys.key_blocks[17]
    kb.keyframe_insert("value", frame=3)
    head.data.shape_keys.animation_data.action.name = "artist"
    return snapshot()


def expect_error(spec, exc, words, backend=None):
    before = snapshot()
    with pytest.raises(exc) as ei:
        steps.bake(spec, backend=backend)
    msg = str(ei.value)
    for w in words:
        assert w.lower() in msg.lower(), msg
    assert snapshot() == before
    return msg


def test_no_mesh_given():
    expect_error(steps.BakeSpec(objects=[], audio=str(HELLO)), ConfigError, ["no target mesh", "select a mesh"])


def test_mesh_without_shape_keys():
    me = bpy.data.meshes.new("Plain")
    ob = bpy.data.objects.new("Plain", me)
    bpy.context.scene.collection.objects.link(ob)
    expect_error(steps.BakeSpec(objects=["Plain"], audio=str(HELLO)), MappingError, ["'Plain'", "no shape keys"])


def test_no_channel_maps(head):
    for i, kb in enumerate(head.data.shape_keys.key_blocks[1:]):
        kb.name = f"Shape.{i:03d}"
    artist_scene(head)
    msg = expect_error(steps.BakeSpec(objects=[head.name], audio=str(HELLO)), MappingError, ["no clip channel maps"])
    assert "Shape.000" in msg and "mapping" in msg


def test_unreadable_audio(head, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk" * 10)
    artist_scene(head)
    expect_error(steps.BakeSpec(objects=[head.name], audio=str(bad)), AudioError, ["broken.wav", "cannot read"],
                 backend=StandInBackend())


def test_transcript_twin_that_is_not_utf8(head, tmp_path):
    take = tmp_path / "take.wav"
    shutil.copy(HELLO, take)
    take.with_suffix(".txt").write_bytes("Bob made a movie \xe0 Rome".encode("latin-1"))
    artist_scene(head)
    expect_error(steps.BakeSpec(objects=[head.name], audio=str(take)), ConfigError,
                 ["take.txt", "not UTF-8", "save it as UTF-8"], backend=StandInBackend())


def test_missing_audio_and_bad_mapping_preset(head):
    expect_error(steps.BakeSpec(objects=[head.name], audio="/no/such/take.wav"), AudioError, ["take.wav"],
                 backend=StandInBackend())
    expect_error(steps.BakeSpec(objects=[head.name], audio=str(HELLO), mapping="nope"), ConfigError,
                 ["unknown rig mapping preset 'nope'", "arkit"])


def _link_head(head, tmp_path):
    coll = bpy.data.collections.new("HeadColl")
    coll.objects.link(head)
    lib = tmp_path / "lib.blend"
    bpy.data.libraries.write(str(lib), {coll})
    bpy.ops.wm.read_factory_settings(use_empty=True)
    with bpy.data.libraries.load(str(lib), link=True) as (_src, dst):
        dst.collections = ["HeadColl"]
    return dst.collections[0]


def test_linked_data_is_refused(head, tmp_path):
    coll = _link_head(head, tmp_path)
    ob = coll.objects[0]
    bpy.context.scene.collection.objects.link(ob)
    assert ob.library is not None
    expect_error(steps.BakeSpec(objects=[ob.name], audio=str(HELLO)), ConfigError,
                 ["linked from", "lib.blend", "library override"])


def test_library_override_with_editable_mesh_bakes(head, tmp_path):
    from blender_helpers import read_keys, wave_clip

    from a2f_core.names import ARKIT_52

    coll = _link_head(head, tmp_path)
    scene = bpy.context.scene
    scene.render.fps = 60
    coll.override_hierarchy_create(scene, bpy.context.view_layer, do_fully_editable=True)
    ob = next(o for o in bpy.data.objects if o.type == "MESH" and o.library is None)
    with pytest.raises(ConfigError, match="mesh data is linked"):  # object overridden, mesh still linked
        steps.resolve(steps.BakeSpec(objects=[ob.name], audio=str(HELLO)))
    ob.data.override_create(remap_local_usages=True)
    job = steps.Job(spec=steps.BakeSpec(objects=[ob.name]), take="t", source="synthetic")
    job.clip = wave_clip(30)
    steps.write(job)
    np.testing.assert_allclose(read_keys(ob, ARKIT_52, np.arange(30)), job.clip.weights, atol=1e-6)


def test_backend_failure_mid_bake_leaves_scene_unchanged(head):
    artist_scene(head)
    backend = StandInBackend(fail=True)
    expect_error(steps.BakeSpec(objects=[head.name], audio=str(HELLO)), BackendError, ["closed the stream"],
                 backend=backend)
    assert backend.started.is_set()


def test_cancel_from_the_ui_path_leaves_scene_unchanged(head):
    before = artist_scene(head)
    backend = StandInBackend(wait_for_cancel=True)
    job = BakeJob(steps.BakeSpec(objects=[head.name], audio=str(HELLO)), backend=backend).start()
    assert backend.started.wait(10)
    assert job.fraction == 0.5 and job.message == "half way"
    job.cancel.cancel()
    assert job.wait(10)
    with pytest.raises(Cancelled):
        job.finish()
    assert snapshot() == before


def test_ui_path_bakes_when_not_cancelled(head):
    job = BakeJob(steps.BakeSpec(objects=[head.name], audio=str(HELLO), add_sound_strip=False),
                  backend=StandInBackend())
    job.start()
    assert job.wait(20)
    rep = job.finish()
    assert rep.actions == ["hello"] and rep.samples > 60


def test_operator_reports_errors_instead_of_tracebacks(addon):
    bpy.context.scene.a2f.audio_path = str(HELLO)
    with pytest.raises(RuntimeError) as ei:
        bpy.ops.a2f.bake()
    assert "no target mesh" in str(ei.value)
