"""The key writer: values read back equal the clip at every frame, in every frame-rate mode; artist data kept."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from blender_helpers import read_keys, snapshot, wave_clip

from a2f_core.names import ARKIT_52
from addon.bake import shapekey_action, steps


def bake_clip(ob, clip, **kw):
    kw.setdefault("start_frame", 0)  # frame 0 = audio start, so sample i lands on frame i * rate
    spec = steps.BakeSpec(objects=[ob.name], clip="", audio="", **kw)
    job = steps.Job(spec=spec, take=kw.get("take_name") or "take", source="synthetic", start_frame=spec.start_frame)
    job.clip = clip
    return steps.write(job)


def set_fps(fps: int, base: float = 1.0) -> None:
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = fps, base


def test_60fps_scene_every_frame_equals_the_clip(head):
    set_fps(60)
    clip = wave_clip(181)
    rep = bake_clip(head, clip, start_frame=5, take_name="hello")
    assert (rep.first_frame, rep.last_frame) == (5.0, 185.0)
    got = read_keys(head, ARKIT_52, np.arange(5, 186))
    np.testing.assert_allclose(got, clip.weights, atol=1e-6)
    # before the take: the first sample holds; the scene range covers the take
    assert bpy.context.scene.frame_end >= 185


@pytest.mark.parametrize("fps,base", [(24, 1.0), (25, 1.0), (30, 1.001)])
def test_subframe_mode_keeps_audio_timing_exact(head, fps, base):
    set_fps(fps, base)
    clip = wave_clip(121)
    bake_clip(head, clip, fps_mode="SUBFRAME", start_frame=10)
    rate = fps / base
    frames = 10 + clip.times * rate  # where each 60 fps sample lands
    got = read_keys(head, ARKIT_52[:8], frames[::7])
    np.testing.assert_allclose(got, clip.weights[::7, :8], atol=1e-5)


def test_resample_mode_one_key_per_scene_frame(head):
    set_fps(25)
    clip = wave_clip(121)  # 2 s
    rep = bake_clip(head, clip, fps_mode="RESAMPLE")
    assert rep.samples == 51
    action = head.data.shape_keys.animation_data.action
    fcs = shapekey_action.fcurves_of(action)
    assert len(fcs) == 52 and all(len(fc.keyframe_points) == 51 for fc in fcs)
    expect = clip.resample(25.0)
    got = read_keys(head, ARKIT_52, np.arange(51))
    np.testing.assert_allclose(got, expect.weights, atol=1e-5)


def test_scene_mode_switches_to_60fps(head):
    set_fps(24)
    clip = wave_clip(61)
    rep = bake_clip(head, clip, fps_mode="SCENE")
    assert (bpy.context.scene.render.fps, bpy.context.scene.render.fps_base) == (60, 1.0)
    assert any("60 fps" in n for n in rep.notes)
    np.testing.assert_allclose(read_keys(head, ARKIT_52, np.arange(61)), clip.weights, atol=1e-6)


def test_take_is_a_new_owned_active_action_named_after_the_audio(head):
    rep = bake_clip(head, wave_clip(30), take_name="hello")
    ad = head.data.shape_keys.animation_data
    assert ad.action.name == "hello" == rep.actions[0]
    assert shapekey_action.is_owned(ad.action)
    fcs = shapekey_action.fcurves_of(ad.action)
    assert sorted(fc.data_path for fc in fcs) == sorted(f'key_blocks["{n}"].value' for n in ARKIT_52)
    assert {kp.interpolation for fc in fcs for kp in fc.keyframe_points} == {"LINEAR"}
    # a second take is another Action; the first one stays in the file
    bake_clip(head, wave_clip(30, seed=1), take_name="hello")
    assert ad.action.name != "hello" and "hello" in bpy.data.actions
    assert bpy.data.actions["hello"].use_fake_user


def _artist_action(ob):
    key = ob.data.shape_keys
    kb = key.key_blocks["browInnerUp"]
    kb.value = 0.25
    kb.keyframe_insert("value", frame=1)
    kb.value = 0.75
    kb.keyframe_insert("value", frame=20)
    act = key.animation_data.action
    act.name = "artist_brows"
    return act


def test_existing_artist_action_is_kept(head):
    art = _artist_action(head)
    bake_clip(head, wave_clip(30), existing_action="KEEP")
    assert "artist_brows" in bpy.data.actions and bpy.data.actions["artist_brows"].use_fake_user
    assert head.data.shape_keys.animation_data.action.name == "take"
    fc = shapekey_action.fcurves_of(art)[0]
    assert [tuple(k.co) for k in fc.keyframe_points] == [(1.0, 0.25), (20.0, 0.75)]


def test_existing_artist_action_pushed_to_nla(head):
    _artist_action(head)
    bake_clip(head, wave_clip(30), existing_action="NLA", push_to_nla=True)
    ad = head.data.shape_keys.animation_data
    tracks = {t.name: [s.action.name for s in t.strips] for t in ad.nla_tracks}
    assert tracks["A2F artist: artist_brows"] == ["artist_brows"]
    assert tracks["A2F take: take"] == ["take"]
    assert ad.action.name == "take"  # still active, so glTF export sees it


def test_shared_key_datablock_written_once(head):
    twin = head.copy()  # same mesh and Key
    bpy.context.scene.collection.objects.link(twin)
    spec = steps.BakeSpec(objects=[head.name, twin.name])
    job = steps.Job(spec=spec, take="t", source="synthetic")
    job.clip = wave_clip(20)
    rep = steps.write(job)
    assert rep.actions == ["t"] and rep.objects == [head.name, twin.name]


def test_failed_write_rolls_back_everything(head, tmp_path):
    from a2f_core.errors import ConfigError

    _artist_action(head)
    bpy.context.scene.render.fps = 24
    before = snapshot()
    (tmp_path / "file").write_text("x")
    spec = steps.BakeSpec(objects=[head.name], export=str(tmp_path / "file" / "face.glb"), fps_mode="SCENE",
                         push_to_nla=True, existing_action="NLA")
    job = steps.Job(spec=spec, take="t", source="synthetic", audio_path="")
    job.clip = wave_clip(20)
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        steps.write(job)  # fails at the very end, after every other change
    assert snapshot() == before
