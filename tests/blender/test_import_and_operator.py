"""Operators on real data: import of NVIDIA-layout CSVs at several scene rates, bake with the bundled backend, undo."""

from __future__ import annotations

import shutil
from pathlib import Path

import bpy
import numpy as np
import pytest
from blender_helpers import HELLO, read_keys, snapshot, wave_clip, write_nvidia_csv

from a2f_core.names import ARKIT_52
from addon.bake import shapekey_action, steps


def select(ob):
    for o in bpy.context.view_layer.objects:
        o.select_set(False)
    ob.select_set(True)
    bpy.context.view_layer.objects.active = ob


@pytest.mark.parametrize("fps,base", [(60, 1.0), (24, 1.0), (25, 1.0), (30, 1.001)])
@pytest.mark.parametrize("mode", ["SUBFRAME", "RESAMPLE"])
def test_nvidia_csv_at_30fps_lands_on_the_right_frames(addon, head, tmp_path, fps, base, mode):
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = fps, base
    scene.a2f.fps_mode = mode
    scene.a2f.start_frame = 12
    clip = wave_clip(46, fps=30.0)  # 1.5 s at 30 fps, as the NIM sample client writes it
    csv = write_nvidia_csv(tmp_path / "animation_frames.csv", clip)
    select(head)
    assert bpy.ops.a2f.import_clip(filepath=str(csv)) == {"FINISHED"}
    rate = fps / base
    frames = np.arange(12, 12 + int(1.5 * rate) + 1)
    t = (frames - 12) / rate
    expect = np.stack([np.interp(t, clip.times, clip.weights[:, j]) for j in range(52)], axis=1)
    got = read_keys(head, ARKIT_52, frames)
    np.testing.assert_allclose(got, expect, atol=1e-5)
    assert head.data.shape_keys.animation_data.action.name == "animation_frames"


def test_operator_bake_with_the_bundled_backend_equals_the_clip(addon, head):
    scene = bpy.context.scene
    scene.render.fps = 60
    s = scene.a2f
    s.audio_path = str(HELLO)
    s.transcript = str(HELLO.with_suffix(".txt"))
    s.backend = "local"
    s.start_frame = 1
    select(head)
    assert bpy.ops.a2f.bake() == {"FINISHED"}
    assert "Baked 'hello'" in s.last_report
    from addon.operators.bake import last_report

    rep = last_report[0]
    keyed, frames = rep.clip, rep.frames
    assert frames[0] == 1 and np.allclose(np.diff(frames), 1.0)
    names = [n for n in ARKIT_52 if n in keyed.names]
    got = read_keys(head, names, frames)
    np.testing.assert_allclose(got, keyed.select(names).weights, atol=1e-5)
    assert np.ptp(keyed.channel("jawOpen")) > 0.2  # the mouth really moves
    strips = steps.sound_strip.sound_strips(scene)
    if bpy.app.version >= (4, 3, 0):  # the 4.2 wheel has no Audaspace
        assert [st.name for st in strips] == ["hello"] and steps.sound_strip.content_start(strips[0]) == 1


def test_heard_words_can_become_the_transcript(addon, head, tmp_path):
    """Without a transcript the panel shows the words it heard; "Use as Transcript" copies them into the
    Transcript field for correcting, and a bake with a transcript clears them."""
    scene = bpy.context.scene
    s = scene.a2f
    shutil.copy(HELLO, tmp_path / "line.wav")  # without the sample's transcript twin
    s.audio_path, s.transcript, s.backend = str(tmp_path / "line.wav"), "", "local"
    select(head)
    assert bpy.ops.a2f.use_heard.poll() is False  # nothing heard yet
    assert bpy.ops.a2f.bake() == {"FINISHED"}
    heard = s.heard
    assert len(heard.split()) >= 5, heard
    assert bpy.ops.a2f.use_heard() == {"FINISHED"}
    assert s.transcript == heard
    s.transcript = HELLO.with_suffix(".txt").read_text()  # the artist corrects the words
    assert bpy.ops.a2f.bake() == {"FINISHED"}
    assert s.heard == "" and bpy.ops.a2f.use_heard.poll() is False
    script = tmp_path / "lines.csv"  # a dialogue script in the Transcript field: the file's row is used
    script.write_text(f'file,text\nline.wav,"{HELLO.with_suffix(".txt").read_text().strip()}"\n')
    s.transcript = str(script)
    assert bpy.ops.a2f.bake() == {"FINISHED"}
    assert s.heard == ""
    from addon.operators.bake import last_report

    assert "transcript: its line in lines.csv" in last_report[0].notes
    s.heard = "words of the line before"
    s.audio_path = str(HELLO)  # another line: its words are not those
    assert s.heard == ""


def test_one_undo_step_removes_the_whole_bake(addon, head, tmp_path):
    csv = write_nvidia_csv(tmp_path / "take.csv", wave_clip(30, fps=30.0))
    select(head)
    bpy.ops.ed.undo_push(message="before bake")
    before = snapshot()
    # called like a button press: execute + push an undo step
    assert bpy.ops.a2f.import_clip("EXEC_DEFAULT", True, filepath=str(csv)) == {"FINISHED"}
    assert snapshot() != before
    bpy.ops.ed.undo()
    assert snapshot() == before
    assert bpy.data.objects["A2F Demo Head"].data.shape_keys.animation_data is None


def test_auto_map_lists_unmatched_channels(addon, head):
    kbs = head.data.shape_keys.key_blocks
    head.shape_key_remove(kbs["tongueOut"])
    kbs["eyeBlinkLeft"].name = "EyeBlink_L"
    select(head)
    assert bpy.ops.a2f.auto_map() == {"FINISHED"}
    s = bpy.context.scene.a2f
    assert [c.name for c in s.unmatched] == ["tongueOut"]
    assert "51 keys driven" in s.mapping_summary


def test_check_connection_reports_a_refused_port(addon):
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(RuntimeError) as ei:
        bpy.ops.a2f.check_connection(url=f"127.0.0.1:{port}")
    assert f"127.0.0.1:{port}" in str(ei.value)


def test_check_connection_respects_online_access(addon):
    assert addon.preferences.is_loopback("localhost:52000") and not addon.preferences.is_loopback("nvcf.example:443")
    if bpy.app.online_access:
        pytest.skip("this Blender allows online access")
    with pytest.raises(RuntimeError) as ei:
        bpy.ops.a2f.check_connection(url="grpc.nvcf.nvidia.com:443")
    assert "online access is disabled" in str(ei.value)


def test_operators_are_searchable_with_tooltips(addon):
    for op in ("bake", "cancel_bake", "import_clip", "check_connection", "refresh_backends", "auto_map"):
        rna = getattr(bpy.ops.a2f, op).get_rna_type()
        assert rna.description and rna.name, op
    assert shapekey_action.SLOTTED == (bpy.app.version >= (4, 4, 0))


def test_audio_from_an_existing_sound_strip(head):
    if bpy.app.version < (4, 3, 0):
        pytest.skip("the bpy 4.2 wheel has no Audaspace: no sound strips")
    from blender_helpers import StandInBackend

    scene = bpy.context.scene
    scene.render.fps = 60
    se = scene.sequence_editor_create()
    coll = se.strips if hasattr(se, "strips") else se.sequences
    coll.new_sound("line 1", str(HELLO), 3, 40)
    rep = steps.bake(steps.BakeSpec(objects=[head.name], sound_strip="line 1"), backend=StandInBackend())
    assert rep.first_frame == 40.0 and rep.take == "hello"
    assert len(steps.sound_strip.sound_strips(scene)) == 1  # no second strip for the same audio


def test_character_emotion_and_face_parameters_reach_the_backend_config():
    from a2f_core import presets

    emotion = presets.list_emotions()[0]
    cfg = steps.run_config(steps.BakeSpec(objects=[], character="mark", emotion=emotion, emotion_strength=0.5,
                                        face_params={"lowerFaceStrength": 1.7}))
    assert cfg.character == "mark" and cfg.face("lowerFaceStrength") == 1.7
    assert cfg.emotion_timeline or cfg.beginning_emotion


def test_panel_uses_only_existing_settings_and_operators(addon):
    """The panel cannot be drawn without a window; check that every property and operator it names exists."""
    import re
    from pathlib import Path

    src = (Path(addon.__file__).parent / "ui" / "panel.py").read_text(encoding="utf-8")
    s = bpy.context.scene.a2f
    for target, name in re.findall(r"\.prop\((s(?:\.face)?), \"(\w+)\"", src):
        owner = s.face if target == "s.face" else s
        assert name in owner.bl_rna.properties, name
    for op in re.findall(r"operator\(\"a2f\.(\w+)\"", src):
        assert hasattr(bpy.ops.a2f, op) and getattr(bpy.ops.a2f, op).get_rna_type(), op
    assert "a2f.bake" in src and "A2F" in src


def test_custom_yaml_without_a_file_is_reported(addon, head):
    s = bpy.context.scene.a2f
    s.audio_path = str(HELLO)
    s.mapping = "CUSTOM"
    select(head)
    before = snapshot()
    with pytest.raises(RuntimeError, match="no mapping file is set"):
        bpy.ops.a2f.bake()
    with pytest.raises(RuntimeError, match="no mapping file is set"):
        bpy.ops.a2f.auto_map()
    assert snapshot() == before


DATA = Path(__file__).resolve().parents[1] / "data"


def _read_csv_independently(path):
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    t_col = header.index("timeCode")
    cols = {h[len("blendShapes."):]: i for i, h in enumerate(header) if h.startswith("blendShapes.")}
    data = np.array([[float(x) for x in r] for r in rows[1:] if r], np.float64)
    return data[:, t_col], {n[0].lower() + n[1:]: data[:, i] for n, i in cols.items()}


@pytest.mark.parametrize("name", ["animation_frames_30fps_55.csv", "animation_frames_30fps_68.csv"])
@pytest.mark.parametrize("fps,base", [(24, 1.0), (30, 1.001), (60, 1.0)])
def test_committed_nvidia_csvs_land_on_the_right_frames(addon, head, name, fps, base):
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = fps, base
    select(head)
    assert bpy.ops.a2f.import_clip(filepath=str(path)) == {"FINISHED"}
    times, chans = _read_csv_independently(path)
    rate = fps / base
    frames = np.arange(0, int(np.floor(times[-1] * rate)) + 1)
    expect = np.stack([np.interp(frames / rate, times, chans[n]) for n in ARKIT_52], axis=1)
    start = scene.a2f.start_frame  # the take's time 0 lands on the panel's start frame
    np.testing.assert_allclose(read_keys(head, ARKIT_52, frames + start), expect, atol=1e-5)


def test_committed_omniverse_json_imports(addon, head):
    import json

    path = DATA / "omniverse_export.json"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    doc = json.loads(path.read_text(encoding="utf-8"))
    scene = bpy.context.scene
    scene.render.fps = 60
    select(head)
    assert bpy.ops.a2f.import_clip(filepath=str(path)) == {"FINISHED"}
    w = np.array(doc["weightMat"], np.float32)
    idx = [doc["facsNames"].index(n) for n in ARKIT_52]
    frames = np.arange(doc["numFrames"]) * 60 / doc["exportFps"] + scene.a2f.start_frame
    np.testing.assert_allclose(read_keys(head, ARKIT_52, frames), w[:, idx], atol=1e-5)


def test_sound_strip_goes_on_a_free_channel_and_range_grows(head):
    if bpy.app.version < (4, 3, 0):
        pytest.skip("the bpy 4.2 wheel has no Audaspace: no sound strips")
    from blender_helpers import StandInBackend

    scene = bpy.context.scene
    scene.render.fps = 60
    scene.frame_start, scene.frame_end = 1, 50
    se = scene.sequence_editor_create()
    coll = se.strips if hasattr(se, "strips") else se.sequences
    coll.new_sound("music", str(HELLO), 1, 1)
    rep = steps.bake(steps.BakeSpec(objects=[head.name], audio=str(HELLO), start_frame=20), backend=StandInBackend())
    mine = [s for s in steps.sound_strip.sound_strips(scene) if s.name != "music"]
    assert len(mine) == 1 and mine[0].channel == 2 and steps.sound_strip.content_start(mine[0]) == 20
    assert mine[0].get("a2f_owned")
    assert scene.frame_end >= rep.last_frame and scene.frame_start == 1


def test_cancel_button_stops_a_running_ui_bake(addon, head):
    from blender_helpers import StandInBackend

    from a2f_core.errors import Cancelled
    from addon.operators import bake as bake_op

    before = snapshot()
    backend = StandInBackend(wait_for_cancel=True)
    job = bake_op.BakeJob(steps.BakeSpec(objects=[head.name], audio=str(HELLO)), backend=backend).start()
    bake_op._running[bpy.context.scene.name] = job  # what the modal operator's invoke does
    try:
        assert backend.started.wait(10)
        assert not bpy.ops.a2f.bake.poll()  # one bake at a time
        assert bpy.ops.a2f.cancel_bake() == {"FINISHED"}
        assert job.wait(10)
        with pytest.raises(Cancelled):
            job.finish()
    finally:
        bake_op._running.clear()
    assert bpy.ops.a2f.bake.poll() and snapshot() == before
