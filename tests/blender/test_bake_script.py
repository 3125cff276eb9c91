"""bake.py as users run it: `python bake.py scene.blend -- ...` in a fresh process (the bpy module stands in for
`blender -b scene.blend -P bake.py -- ...`)."""

from __future__ import annotations

import shutil

import bpy
import numpy as np
import pytest
from blender_helpers import (
    HELLO,
    accessor,
    read_glb,
    read_keys,
    run_bake,
    save_face_scene,
    wave_clip,
    write_nvidia_csv,
)

from a2f_core.names import ARKIT_52


@pytest.fixture
def scene_file(tmp_path):
    return save_face_scene(tmp_path / "scene.blend")


def test_clip_bake_export_and_save(scene_file, tmp_path):
    clip = wave_clip(46, fps=30.0)
    csv = write_nvidia_csv(tmp_path / "animation_frames.csv", clip)
    out = tmp_path / "baked.blend"
    r = run_bake(scene_file, "--clip", csv, "--object", "Face", "--start-frame", 3, "--export", tmp_path / "f.glb",
                 "--save", out)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "1 of 1 baked" in r.stdout and "key_write" in r.stdout
    bpy.ops.wm.open_mainfile(filepath=str(out))
    ob = bpy.data.objects["Face"]
    assert ob.data.shape_keys.animation_data.action.name == "animation_frames"
    frames = 3 + np.arange(0, 91)
    expect = np.stack([np.interp((frames - 3) / 60.0, clip.times, clip.weights[:, j]) for j in range(52)], axis=1)
    np.testing.assert_allclose(read_keys(ob, ARKIT_52, frames), expect, atol=1e-5)
    doc, binary = read_glb(tmp_path / "f.glb")
    sampler = doc["animations"][0]["samplers"][0]
    times = accessor(doc, binary, sampler["input"])
    assert times[0] == 0.0 and abs(times[-1] - 1.5) < 1e-5


def test_folder_batch_with_one_broken_file(scene_file, tmp_path):
    voices = tmp_path / "voices"
    voices.mkdir()
    shutil.copy(HELLO, voices / "a_hello.wav")
    shutil.copy(HELLO, voices / "c_hello.wav")
    (voices / "b_broken.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt garbage" * 4)
    (voices / "notes.txt").write_text("not audio")
    out = tmp_path / "batch.blend"
    r = run_bake(scene_file, "--audio", voices, "--object", "Face", "--jobs", 2, "--transcript",
                 HELLO.with_suffix(".txt"), "--save", out, "--no-sound")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "b_broken.wav" in r.stderr and "cannot read" in r.stderr
    assert "2 of 3 baked" in r.stdout
    for stage in ("decode", "inference", "key_write", "export"):
        assert stage in r.stdout
    bpy.ops.wm.open_mainfile(filepath=str(out))
    assert {"a_hello", "c_hello"} <= set(bpy.data.actions.keys())
    assert "b_broken" not in bpy.data.actions
    assert bpy.data.objects["Face"].data.shape_keys.animation_data.action.name == "c_hello"


def test_folder_batch_uses_each_files_transcript_twin(scene_file, tmp_path):
    """line.txt beside line.wav is that line's transcript (as in `a2f infer`); files without one are
    recognised. A twin that does not fit its audio is reported for that file only."""
    voices = tmp_path / "voices"
    voices.mkdir()
    for name in ("a_hello", "b_hello", "c_hello"):
        shutil.copy(HELLO, voices / f"{name}.wav")
    shutil.copy(HELLO.with_suffix(".txt"), voices / "a_hello.txt")
    (voices / "b_hello.txt").write_text("zebra")  # covers a fraction of the speech: recognised instead
    r = run_bake(scene_file, "--audio", voices, "--object", "Face", "--jobs", 2, "--no-sound")
    assert r.returncode == 0, r.stdout + r.stderr
    blocks = {b.split(":", 1)[0].split()[-1]: b for b in r.stdout.split("\n[")[1:]}
    assert "transcript: a_hello.txt (beside the audio)" in blocks["a_hello.wav"]
    assert "recognised the speech instead" not in blocks["a_hello.wav"]
    assert "transcript: b_hello.txt" in blocks["b_hello.wav"]
    assert "recognised the speech instead" in blocks["b_hello.wav"]
    assert "transcript:" not in blocks["c_hello.wav"] and "heard (no transcript)" in blocks["c_hello.wav"]


def test_heard_words_become_the_next_bakes_transcript(scene_file, tmp_path):
    """A line without a transcript prints the words it heard; --heard-dir writes them as <stem>.txt, which the
    user corrects and puts beside the audio, and the next bake aligns that transcript instead."""
    voices, heard = tmp_path / "voices", tmp_path / "heard"
    voices.mkdir()
    for name in ("a_hello", "c_hello"):
        shutil.copy(HELLO, voices / f"{name}.wav")
    shutil.copy(HELLO.with_suffix(".txt"), voices / "a_hello.txt")
    r = run_bake(scene_file, "--audio", voices, "--object", "Face", "--no-sound", "--heard-dir", heard)
    assert r.returncode == 0, r.stdout + r.stderr
    blocks = {b.split(":", 1)[0].split()[-1]: b for b in r.stdout.split("\n[")[1:]}
    assert "heard (no transcript)" not in blocks["a_hello.wav"]  # it had its twin
    words = (heard / "c_hello.txt").read_text().split()
    assert len(words) >= 5 and f'heard (no transcript): "{" ".join(words)}"' in blocks["c_hello.wav"]
    assert not (heard / "a_hello.txt").exists()
    assert "1 take(s) had no transcript" in r.stdout and "heard/<stem>.txt" in r.stdout
    assert (heard / "heard.csv").read_text().splitlines() == ["file,text", f"c_hello.wav,{' '.join(words)}"]

    shutil.copy(HELLO.with_suffix(".txt"), voices / "c_hello.txt")  # the corrected words, as the twin
    r = run_bake(scene_file, "--audio", voices / "c_hello.wav", "--object", "Face", "--no-sound")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "transcript: c_hello.txt (beside the audio)" in r.stdout and "heard (no transcript)" not in r.stdout


def test_folder_batch_takes_each_lines_words_from_a_script(scene_file, tmp_path):
    """--script lines.csv: each audio file's row is its transcript (before any .txt twin); a file without a row
    is recognised; a script the reader cannot use stops the run before anything is baked."""
    voices = tmp_path / "voices"
    voices.mkdir()
    for name in ("a_hello", "c_hello"):
        shutil.copy(HELLO, voices / f"{name}.wav")
    (voices / "a_hello.txt").write_text("zebra")  # a wrong twin: the script's row wins
    script = tmp_path / "lines.csv"
    script.write_text(f"file,speaker,text\na_hello.wav,Bob,\"{HELLO.with_suffix('.txt').read_text().strip()}\"\n")
    r = run_bake(scene_file, "--audio", voices, "--object", "Face", "--no-sound", "--script", script)
    assert r.returncode == 0, r.stdout + r.stderr
    blocks = {b.split(":", 1)[0].split()[-1]: b for b in r.stdout.split("\n[")[1:]}
    assert "transcript: its line in lines.csv" in blocks["a_hello.wav"]
    assert "heard (no transcript)" not in blocks["a_hello.wav"] and "warning" not in blocks["a_hello.wav"]
    assert "heard (no transcript)" in blocks["c_hello.wav"]
    assert "1 of 2 audio files are not in lines.csv" in r.stdout
    (tmp_path / "bad.csv").write_text("speaker,mood,take\nBob,happy,1\n")
    r = run_bake(scene_file, "--audio", voices, "--object", "Face", "--script", tmp_path / "bad.csv")
    assert r.returncode == 2 and "bad.csv: cannot tell which column" in r.stderr and "baked" not in r.stdout


def test_heard_dir_that_is_a_file_is_refused(scene_file, tmp_path):
    (tmp_path / "taken").write_text("x")
    r = run_bake(scene_file, "--audio", HELLO, "--object", "Face", "--heard-dir", tmp_path / "taken")
    assert r.returncode == 2 and "not a folder" in r.stderr


def test_bad_arguments_exit_nonzero_with_a_message(scene_file):
    r = run_bake(scene_file, "--audio", HELLO, "--object", "Nope")
    assert r.returncode == 2
    assert "no object named 'Nope'" in r.stderr
