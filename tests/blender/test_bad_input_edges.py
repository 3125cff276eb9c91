"""Issue #13, Blender side: bad input to bake.py and the add-on operators is one line naming the thing and what to
do, with the documented exit code; frames stay inside Blender's range; exports and saves are never partial; a
failed bake leaves the scene as it was. Real bpy, real files, `python bake.py scene.blend -- ...` subprocesses."""

from __future__ import annotations

import resource
import shutil
import signal

import bpy
import pytest
from blender_helpers import (
    HELLO,
    StandInBackend,
    run_bake,
    save_face_scene,
    snapshot,
    wave_clip,
    write_nvidia_csv,
)

from a2f_core.atomic import TMP_PREFIX
from a2f_core.errors import AudioError, ConfigError
from addon.bake import steps


@pytest.fixture
def scene_file(tmp_path):
    return save_face_scene(tmp_path / "scene.blend", segments=16, rings=12)


def error_lines(r) -> list[str]:
    return [ln for ln in r.stderr.splitlines() if ln.startswith(("bake.py:", "[FAILED]"))]


def no_temporaries(folder) -> bool:
    return not any(p.name.startswith(TMP_PREFIX) for p in folder.rglob("*"))


@pytest.mark.parametrize("args, words", [
    (["--backend", "bogus"], "unknown backend 'bogus'; choose one of: local"),
    (["--jobs", "0"], "--jobs 0 must be 1 or more"),
    (["--jobs", "-1"], "--jobs -1 must be 1 or more"),
    (["--max-seconds", "0"], "--max-seconds 0 must be more than 0"),
    (["--start-frame", "2000000000"], "--start-frame 2000000000 is out of range; Blender's frames run from -1048574"),
    (["--start-frame", "-2000000000"], "--start-frame -2000000000 is out of range"),
    (["--export", "/sys/face.glb"], "/sys: cannot write here"),
    (["--export", "{tmp}/file/face.glb"], "file: is a file, not a folder; choose another --export path"),
    (["--export", "{tmp}/face.obj"], "cannot export to '.obj'; use .glb, .gltf or .fbx"),
    (["--export", "{tmp}"], "is a folder; give a file name"),
    (["--save", "/sys/baked.blend"], "/sys: cannot write here"),
    (["--save", "{tmp}/baked.txt"], "--save {tmp}/baked.txt: give a .blend file name"),
    (["--max-seconds", "1"], "longer than the limit of 1 s; split the file or raise the limit (--max-seconds)"),
])
def test_bad_options_are_one_line_with_exit_2(scene_file, tmp_path, args, words):
    (tmp_path / "file").write_text("in the way")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    r = run_bake(scene_file, "--audio", HELLO, "--object", "Face", "--no-sound", *args)
    assert r.returncode == 2, r.stderr + r.stdout
    assert "Traceback" not in r.stderr
    lines = error_lines(r)
    assert len(lines) == 1 and words.replace("{tmp}", str(tmp_path)) in lines[0], r.stderr


def test_max_seconds_is_an_option_and_lets_a_long_file_bake(scene_file, tmp_path):
    r = run_bake(scene_file, "--audio", HELLO, "--object", "Face", "--no-sound", "--max-seconds", "5",
                 "--save", tmp_path / "out.blend")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.blend").is_file()


@pytest.mark.parametrize("scene, words", [
    ("missing.blend", "missing.blend: no such scene file; give the .blend to bake onto"),
    ("notes.txt", "notes.txt: not a .blend file"),
    ("fake.blend", "fake.blend: Blender cannot open this file"),
    ("folder.blend", "folder.blend: is a folder"),
])
def test_the_scene_argument(tmp_path, scene, words):
    (tmp_path / "notes.txt").write_text("not a scene")
    (tmp_path / "fake.blend").write_bytes(b"BLENDER? no, just text")
    (tmp_path / "folder.blend").mkdir()
    r = run_bake(tmp_path / scene, "--audio", HELLO, "--object", "Face")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    lines = error_lines(r)
    assert len(lines) == 1 and words in lines[0], r.stderr


def test_an_export_failure_in_a_folder_run_is_named_and_the_rest_bakes(scene_file, tmp_path):
    voices = tmp_path / "voices"
    voices.mkdir()
    shutil.copy(HELLO, voices / "a.wav")
    shutil.copy(HELLO, voices / "b.wav")
    out = tmp_path / "out"
    (out / "face_b.glb").mkdir(parents=True)  # the second take's export path is taken by a folder
    r = run_bake(scene_file, "--audio", voices, "--object", "Face", "--no-sound", "--export", out / "face.glb",
                 "--save", tmp_path / "batch.blend")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    lines = error_lines(r)
    assert lines == [f"[FAILED] b.wav: {out / 'face_b.glb'}: is a folder; give a file name"], r.stderr
    assert (out / "face_a.glb").is_file() and no_temporaries(out)
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "batch.blend"))
    assert sorted(a.name for a in bpy.data.actions) == ["a"]  # the failed take left nothing behind


def _limit_file_size(nbytes: int):
    def pre() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return pre


@pytest.mark.parametrize("what", ["--export", "--save"])
@pytest.mark.parametrize("source", ["clip", "audio"])
def test_a_disk_that_fills_up_leaves_no_partial_export_or_blend(scene_file, tmp_path, what, source):
    """The kernel refuses writes past 60 kB (RLIMIT_FSIZE): a real failure half way through the file."""
    clip = write_nvidia_csv(tmp_path / "animation_frames.csv", wave_clip(600, fps=60.0))
    target = tmp_path / "out" / ("face.glb" if what == "--export" else "baked.blend")
    target.parent.mkdir()
    target.write_bytes(b"an older complete file")
    src = ["--clip", clip] if source == "clip" else ["--audio", HELLO, "--no-sound"]
    limit = 60_000 if what == "--export" else 20_000  # a coarse head's .blend is small
    r = run_bake(scene_file, *src, "--object", "Face", what, target, preexec_fn=_limit_file_size(limit))
    assert r.returncode == 2, r.stderr + r.stdout
    assert "Traceback" not in r.stderr + r.stdout, r.stderr + r.stdout  # Blender prints operator reports to stdout
    lines = error_lines(r)
    # Blender names the failed write, or reports success after a short write, which the ENDB check catches
    assert len(lines) == 1 and target.name in lines[0], r.stderr
    # (Blender 4.2 words its failed save as "No such file or directory": the line also says to check the space)
    assert any(w in lines[0] for w in ("File too large", "(is the disk full?)", "check the free space")), lines
    assert target.read_bytes() == b"an older complete file"
    assert no_temporaries(tmp_path)


# --- the add-on's core and operators, in this process -------------------------------------------------------
@pytest.mark.parametrize("start", [2_000_000_000, -2_000_000_000, 1_048_575])
def test_start_frame_outside_blenders_range_is_refused(head, start):
    before = snapshot()
    spec = steps.BakeSpec(objects=[head.name], audio=str(HELLO), start_frame=start)
    with pytest.raises(ConfigError, match=f"start frame {start} is out of range"):
        steps.bake(spec, backend=StandInBackend())
    assert snapshot() == before


def test_a_take_that_would_run_past_the_last_frame(head):
    before = snapshot()
    spec = steps.BakeSpec(objects=[head.name], audio=str(HELLO), start_frame=1_048_500)
    with pytest.raises(ConfigError, match="after Blender's last frame 1048574; start it at frame"):
        steps.bake(spec, backend=StandInBackend())
    assert snapshot() == before


def test_the_panel_start_frame_is_limited_and_a_late_start_is_refused(addon, head):
    s = bpy.context.scene.a2f
    s.start_frame = 2_000_000_000
    assert s.start_frame == 1_048_574  # the property's own limit, as Blender's frame range
    s.audio_path = str(HELLO)
    s.target = head
    s.use_selected = False
    s.backend = "local"
    before = snapshot()
    with pytest.raises(RuntimeError, match="after Blender's last frame"):
        bpy.ops.a2f.bake()
    assert snapshot() == before


def test_a_start_frame_at_the_edge_still_bakes(head):
    rep = steps.bake(steps.BakeSpec(objects=[head.name], audio=str(HELLO), start_frame=-1_048_574,
                                  add_sound_strip=False), backend=StandInBackend())
    assert rep.first_frame == -1_048_574 and rep.samples > 60


@pytest.mark.parametrize("audio, words", [
    ("missing.wav", "missing.wav: no such audio file"),
    ("notes.wav", "notes.wav: cannot read this audio file"),
    ("folder", "folder: is a folder, not an audio file"),
])
def test_import_clip_with_a_bad_optional_audio_file(addon, head, tmp_path, audio, words):
    csv = write_nvidia_csv(tmp_path / "animation_frames.csv", wave_clip(46, fps=30.0))
    (tmp_path / "notes.wav").write_text("not audio at all")
    (tmp_path / "folder").mkdir()
    for o in bpy.context.view_layer.objects:
        o.select_set(o == head)
    bpy.context.view_layer.objects.active = head
    before = snapshot()
    with pytest.raises(RuntimeError) as ei:
        bpy.ops.a2f.import_clip(filepath=str(csv), audio=str(tmp_path / audio))
    assert words in str(ei.value)
    assert snapshot() == before  # no 1-frame sound strip, no action


def test_export_to_an_unwritable_place_rolls_the_bake_back(head, tmp_path):
    before = snapshot()
    (tmp_path / "in_the_way").write_text("a file")
    for target, words in (("/sys/face.glb", "cannot write here"),
                          (str(tmp_path / "in_the_way" / "face.fbx"), "is a file, not a folder")):
        with pytest.raises(ConfigError, match=words):
            steps.bake(steps.BakeSpec(objects=[head.name], audio=str(HELLO), export=target), backend=StandInBackend())
        assert snapshot() == before
    assert no_temporaries(tmp_path)


def test_probe_names_what_is_wrong(tmp_path):
    from a2f_core.audio import probe

    assert probe(HELLO) == HELLO
    (tmp_path / "x.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="x.wav: cannot read this audio file"):
        probe(tmp_path / "x.wav")


@pytest.mark.parametrize("url, words", [("127.0.0.1:99999", "port 99999 is out of range; allowed 1-65535"),
                                        ("127.0.0.1:notaport", "'notaport' is not a port number"),
                                        ("grpc://nim.example.com:1", "unknown scheme 'grpc://'")])
def test_check_connection_names_a_bad_port(addon, url, words):
    with pytest.raises(RuntimeError, match=words):
        bpy.ops.a2f.check_connection(url=url)


def test_bake_py_nim_url_with_a_bad_port(scene_file):
    r = run_bake(scene_file, "--audio", HELLO, "--object", "Face", "--backend", "nim", "--url", "127.0.0.1:99999")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert error_lines(r) == ["bake.py: 127.0.0.1:99999: port 99999 is out of range; allowed 1-65535"], r.stderr
