"""`a2f infer` end to end on real speech with the bundled CPU backend (pocketsphinx), in-process and
as a subprocess: outputs, headers, frame counts, folder batches, and one-line errors with exit codes."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from a2f_core import pipeline
from a2f_core.cli import infer
from a2f_core.cli.main import main
from a2f_core.clip import frame_count
from a2f_core.formats import read_animation_csv, read_emotion_csv
from a2f_core.names import EMOTIONS, NVIDIA_52
from a2f_core.transcripts import read_script

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "samples" / "hello.wav"
OUT_FILES = ("animation_frames.csv", "a2f_3d_input_emotions.csv", "a2f_3d_smoothed_emotion_output.csv", "out.wav")


@pytest.fixture
def speech(tmp_path) -> Path:
    """hello.wav with its transcript twin, in a scratch folder."""
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(HELLO, d / "hello.wav")
    shutil.copy(HELLO.with_suffix(".txt"), d / "hello.txt")
    return d / "hello.wav"


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_infer_writes_the_sample_client_files_plot_and_progress(speech, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(infer, "LONG_AUDIO_SECONDS", 1.0)  # show the progress bar on this short clip
    out = tmp_path / "out"
    rc = main(["infer", str(speech), "--preset", "mark", "--emotion", "joy", "--emotion-strength", "0.8",
               "--fps", "30", "-o", str(out), "--plot"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    for name in OUT_FILES + ("curves.png",):
        assert (out / name).is_file(), name

    duration = sf.info(HELLO).duration
    header = (out / "animation_frames.csv").read_text().split("\n", 1)[0].split(",")
    assert header[:2] == ["", "timeCode"]
    assert header[2:54] == [f"blendShapes.{n}" for n in NVIDIA_52]
    clip = read_animation_csv(out / "animation_frames.csv")
    assert clip.n_frames == frame_count(duration, 30)
    np.testing.assert_allclose(clip.times, np.arange(clip.n_frames) / 30, atol=1e-12)
    assert clip.fps == 30.0
    assert clip.channel("jawOpen").max() > 0.2  # the mouth moves with the speech

    inp = read_emotion_csv(out / "a2f_3d_input_emotions.csv")
    assert set(inp.names) == set(EMOTIONS)
    assert inp.at(0.0)["joy"] == pytest.approx(0.8) and inp.at(duration)["fear"] == 0.0  # the preset, not the file's
    outp = (out / "a2f_3d_smoothed_emotion_output.csv").read_text().split("\n", 1)[0]
    assert outp.startswith(",time_code,emotion_values.")

    info = sf.info(out / "out.wav")
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert info.duration == pytest.approx(duration, abs=0.01)
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "curves.png").stat().st_size > 20_000

    assert "transcript from" in cap.out and "hello.txt" in cap.out
    assert "time to first frame" in cap.out and "frames/s" in cap.out and "real-time factor" in cap.out
    assert "100%" in cap.err and "[####" in cap.err


def test_subprocess_default_output_folder_is_the_next_free_index(speech, in_tmp):
    (in_tmp / "output_000001").mkdir()
    env = dict(os.environ, NVCF_API_KEY="nvapi-secret-do-not-print")
    r = subprocess.run(
        [sys.executable, "-m", "a2f_core", "infer", str(speech), "--transcript", "Bob made a movie"],
        cwd=in_tmp, capture_output=True, text=True, env=env, timeout=120,
    )
    assert r.returncode == 0, r.stderr
    # the transcript covers a third of the speech, so it is recognised instead: heard.txt holds what was heard
    assert sorted(p.name for p in (in_tmp / "output_000002").iterdir()) == sorted(OUT_FILES + ("heard.txt",))
    assert "output_000002" in r.stdout
    assert "nvapi-secret" not in r.stdout + r.stderr


def test_without_a_transcript_the_heard_words_are_shown_and_saved(tmp_path, capsys):
    """No transcript: the recognised words are printed and saved as heard.txt with a tip; put right and used as
    the twin, they become the transcript (and nothing is 'heard' any more)."""
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(HELLO, d / "line.wav")
    assert main(["infer", str(d / "line.wav"), "-o", str(tmp_path / "o1")]) == 0
    out = capsys.readouterr().out
    heard = (tmp_path / "o1" / "heard.txt").read_text().strip()
    assert len(heard.split()) >= 5 and f'heard (no transcript): "{heard}"' in out and "tip:" in out
    shutil.copy(HELLO.with_suffix(".txt"), d / "line.txt")
    assert main(["infer", str(d / "line.wav"), "-o", str(tmp_path / "o2")]) == 0
    out = capsys.readouterr().out
    assert "transcript from" in out and "heard" not in out and not (tmp_path / "o2" / "heard.txt").exists()


def test_a_dialogue_script_gives_each_file_its_words(tmp_path, capsys):
    """--script: every audio file found in the table (by name, any case or extension) is aligned to its line;
    the others are recognised; lines without audio and audio without lines are noted."""
    d = tmp_path / "vo"
    d.mkdir()
    for name in ("bob_001.wav", "bob_002.wav"):
        shutil.copy(HELLO, d / name)
    text = HELLO.with_suffix(".txt").read_text().strip()
    script = tmp_path / "lines.csv"
    script.write_text(f'Line ID,Character,Text\nBOB_001,Bob,"{text}"\nbob_009.wav,Bob,Never recorded.\n')
    assert main(["infer", str(d), "--script", str(script), "-o", str(tmp_path / "out")]) == 0
    cap = capsys.readouterr()
    blocks = {b.split(":", 1)[0]: b for b in cap.out.split("\nbob_")[1:]}
    assert "transcript from lines.csv" in blocks["001.wav"] and "heard" not in blocks["001.wav"]
    assert "heard (no transcript)" in blocks["002.wav"]
    assert "1 line of lines.csv has no audio file here (e.g. bob_009)" in cap.err
    assert "1 of 2 audio files are not in lines.csv (e.g. bob_002.wav)" in cap.err
    assert not (tmp_path / "out" / "bob_001" / "heard.txt").exists()
    # the batch's heard words as one script: corrected in a spreadsheet, it is the next run's --script
    heard = read_script(tmp_path / "out" / "heard.csv")
    assert list(heard.lines) == ["bob_002"] and len(heard.lines["bob_002"].split()) >= 5
    assert "run again with --script" in cap.out
    (tmp_path / "out" / "heard.csv").write_text(f'file,text\nbob_002.wav,"{text}"\n')
    assert main(["infer", str(d / "bob_002.wav"), "--script", str(tmp_path / "out" / "heard.csv"),
                 "--skip-print-to-files"]) == 0
    out = capsys.readouterr().out
    assert "transcript from heard.csv" in out and "heard (no transcript)" not in out


def test_script_errors_exit_2_before_any_work(tmp_path, capsys):
    bad = tmp_path / "notes.csv"
    bad.write_text("speaker,mood,take\nBob,happy,1\n")
    assert main(["infer", str(HELLO), "--script", str(bad), "-o", str(tmp_path / "o")]) == 2
    assert "notes.csv: cannot tell which column names the audio file" in capsys.readouterr().err
    assert main(["infer", str(HELLO), "--script", str(bad), "--transcript", "hi"]) == 2
    assert "pass one of them" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_skip_print_to_files_writes_nothing(speech, in_tmp, capsys):
    assert main(["infer", str(speech), "--skip-print-to-files", "--preset", "james"]) == 0
    assert list(in_tmp.glob("output_*")) == []
    assert "real-time factor" in capsys.readouterr().out


def test_folder_batch_reports_the_broken_file_and_finishes_the_others(speech, tmp_path, capsys):
    d = speech.parent
    data, rate = sf.read(speech)
    sf.write(d / "second.flac", data[: rate * 2], rate)  # a second, shorter take as FLAC
    (d / "broken.wav").write_text("not audio at all")
    (d / "notes.md").write_text("ignored: not audio")
    out = tmp_path / "batch"
    rc = main(["infer", str(d), "-o", str(out), "--jobs", "2", "--emotion", "sadness"])
    cap = capsys.readouterr()
    assert rc == 2
    assert "broken.wav" in cap.err and "cannot read this audio file" in cap.err
    assert "Traceback" not in cap.err
    for stem in ("hello", "second"):
        assert all((out / stem / n).is_file() for n in OUT_FILES), stem
    assert not (out / "broken" / "animation_frames.csv").exists()
    assert "3 files: 2 done, 1 failed (broken.wav)" in cap.out
    second = read_animation_csv(out / "second" / "animation_frames.csv")
    assert second.n_frames == frame_count(2.0, 60)


def _run_error(argv, capsys) -> tuple[int, str]:
    rc = main(argv)
    err = capsys.readouterr().err
    return rc, err


@pytest.mark.parametrize(
    "setup, extra, pattern",
    [
        (None, [], r"missing\.wav: no such audio file"),
        ("text", [], r"bad\.wav: cannot read this audio file"),
        ("empty", [], r"bad\.wav: the file holds no audio samples"),
        ("short", [], r"bad\.wav: only 50 ms of audio"),
        ("silence", [], r"bad\.wav: the audio is digital silence"),
        ("speech", ["--max-seconds", "1"], r"hello\.wav: 4\.\d s of audio is longer than the limit of 1 s"),
        ("speech", ["--preset", "bob"], r"unknown preset 'bob'; choose one of: claire, mark, james"),
        ("speech", ["--preset", "cfg.yml"], r"cfg\.yml line 2: face_parameters\.skinStrength = 9 is out of range; allowed 0\.0 \.\. 2\.0"),
        ("speech", ["--preset", "keys.yml"], r"keys\.yml line 1: unknown key 'face_params'"),
        ("speech", ["--emotion", "happy"], r"unknown emotion 'happy'; choose one of: neutral"),
        ("speech", ["--emotion", "joy", "--emotion-strength", "3"], r"emotion strength 3\.0 is out of range"),
        ("speech", ["--emotion-strength", "0.5"], r"--emotion-strength needs --emotion"),
        ("speech", ["--fps", "0"], r"--fps 0 is out of range"),
        ("speech", ["--transcript", "words.txt"], r"words\.txt: no such transcript file"),
        ("folder", ["--transcript", "hi"], r"for a folder put <stem>\.txt beside each audio file"),
        ("emptyfolder", [], r"no audio files"),
    ],
)
def test_user_errors_exit_2_with_one_line_and_no_output(speech, in_tmp, capsys, setup, extra, pattern):
    (in_tmp / "cfg.yml").write_text("face_parameters:\n  skinStrength: 9\n")
    (in_tmp / "keys.yml").write_text("face_params:\n  skinStrength: 1\n")
    target = in_tmp / "bad.wav"
    if setup is None:
        target = in_tmp / "missing.wav"
    elif setup == "text":
        target.write_text("RIFF? no.")
    elif setup == "empty":
        sf.write(target, np.zeros(0, np.float32), 16000)
    elif setup == "short":
        sf.write(target, np.full(800, 0.1, np.float32), 16000)
    elif setup == "silence":
        sf.write(target, np.zeros(16000, np.float32), 16000)
    elif setup == "speech":
        target = speech
    elif setup == "folder":
        target = speech.parent
    elif setup == "emptyfolder":
        target = in_tmp / "nothing"
        target.mkdir()
    rc, err = _run_error(["infer", str(target), *extra], capsys)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("a2f infer: error: ")
    import re

    assert re.search(pattern, lines[0]), lines[0]
    assert list(in_tmp.glob("output_*")) == []


def test_bad_option_values_are_rejected_by_the_parser(speech, capsys):
    for argv in (["--backend", "cloud"], ["--api-key", "x"], ["--secure-mode", "ssl"], ["--fps", "fast"]):
        with pytest.raises(SystemExit) as e:
            main(["infer", str(speech), *argv])
        assert e.value.code == 2
    assert "usage:" in capsys.readouterr().err


def _args(**kw) -> argparse.Namespace:
    base = {n: None for n in infer.CONNECTION_OPTIONS}
    base.update(backend="local")
    base.update(kw)
    return argparse.Namespace(**base)


def test_connection_options_go_only_to_backends_that_take_them(monkeypatch, capsys):
    monkeypatch.setenv("NVCF_API_KEY", "nvapi-from-env")
    console = infer.Console()
    opts = infer.backend_options(_args(backend="nim", url="a:1,b:2", secure_mode="tls", function_id="f"), console)
    assert opts == {"url": "a:1,b:2", "secure_mode": "tls", "function_id": "f", "api_key": "nvapi-from-env"}
    opts = infer.backend_options(_args(backend="local", url="a:1"), console)
    assert "url" not in opts and "api_key" not in opts
    assert "workers" not in opts  # files in parallel threads share the bundled backend's one worker pool
    assert "--url is not used by the local backend" in capsys.readouterr().err


def test_a_transcript_that_does_not_fit_is_reported(speech, in_tmp, capsys):
    """The backend's warnings reach the user: here the transcript was dropped for recognition."""
    assert main(["infer", str(speech), "--transcript", "zebra", "--skip-print-to-files"]) == 0
    out = capsys.readouterr().out
    assert "warning: the transcript covers only part of the speech" in out and "recognised the speech instead" in out


def test_transcript_text_file_and_twin(tmp_path):
    audio = tmp_path / "take.wav"
    assert pipeline.transcript_for(audio, None) == (None, "")
    (tmp_path / "take.txt").write_text("\ufeffhello there\n", encoding="utf-8")
    assert pipeline.transcript_for(audio, None) == ("hello there\n", str(tmp_path / "take.txt"))
    assert pipeline.transcript_for(audio, "just words") == ("just words", "--transcript")
    other = tmp_path / "other.txt"
    other.write_text("from a file")
    assert pipeline.transcript_for(audio, str(other)) == ("from a file", str(other))


def test_next_output_dir_counts_like_nvidias_client(tmp_path):
    (tmp_path / "output_000001").mkdir()
    (tmp_path / "output_000003").mkdir()
    assert infer.next_output_dir(tmp_path).name == "output_000002"
    assert infer.next_output_dir(tmp_path).name == "output_000004"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_exits_3_before_writing_anything(speech, in_tmp, capsys):
    rc = main(["infer", str(speech), "--backend", "nim", "--url", f"127.0.0.1:{_free_port()}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 3
    assert len(err) == 1 and err[0].startswith("a2f infer: error: the nim backend is not available: 127.0.0.1:")
    assert list(in_tmp.glob("output_*")) == []


def test_folder_batch_over_a_fleet_of_two_nim_servers(speech, tmp_path, capsys):
    """--jobs 2 with --backend nim and two addresses: both loopback servers get work, one bad file fails alone."""
    from a2f_core.nim.server import NimServer, ServeOptions

    d = speech.parent
    data, rate = sf.read(speech)
    for i in range(3):
        sf.write(d / f"take{i}.wav", data[int(rate * 0.5 * i) : int(rate * (1.2 + 0.5 * i))], rate)
    speech.unlink()
    (d / "zz_silent.wav").write_bytes(b"")
    # one worker process per server: two local backends in one process would share pocketsphinx state
    servers = [NimServer(ServeOptions(port=0, workers=1, backend="local")).start() for _ in range(2)]
    try:
        url = ",".join(f"127.0.0.1:{s.port}" for s in servers)
        out = tmp_path / "fleet"
        rc = main(["infer", str(d), "--backend", "nim", "--url", url, "--jobs", "2", "-o", str(out)])
        served = [s.service.served for s in servers]
    finally:
        for s in servers:
            s.stop(0.2)
    cap = capsys.readouterr()
    assert rc == 2, cap.err
    assert "zz_silent.wav" in cap.err and "4 files: 3 done, 1 failed (zz_silent.wav)" in cap.out
    assert sum(served) == 3 and min(served) >= 1, served
    for i in range(3):
        clip = read_animation_csv(out / f"take{i}" / "animation_frames.csv")
        assert clip.names[:52] == [n[0].lower() + n[1:] for n in NVIDIA_52]
        assert clip.n_frames == frame_count(sf.info(d / f"take{i}.wav").duration, 60)
        inp = read_emotion_csv(out / f"take{i}" / "a2f_3d_input_emotions.csv")
        assert inp.at(0.0)["joy"] == pytest.approx(1.0)  # claire's timeline went over the wire


def test_a_bug_in_one_batch_file_is_exit_1_with_its_traceback(tmp_path, capsys):
    job = infer.Job(tmp_path / "a.wav", None, "a.wav")

    try:
        raise ZeroDivisionError("bug")
    except ZeroDivisionError as e:
        res = infer._failed(job, e, infer.Console())
    err = capsys.readouterr().err
    assert (res.ok, res.exit_code) == (False, 1)
    assert "Traceback" in err and "ZeroDivisionError" in err and "internal error on a.wav (a bug)" in err
