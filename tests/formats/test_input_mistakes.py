"""User mistakes with input files (issue #13): each is one line naming the file and what to do, with real files.

A folder given as transcript, script, preset or rig mapping; rig-mapping YAML errors; stereo whose channels
cancel; float audio far above full scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from a2f_core import presets, retarget
from a2f_core.audio import load
from a2f_core.cli.main import main
from a2f_core.errors import AudioError, ConfigError
from a2f_core.transcripts import read_script, read_transcript_file

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "samples" / "hello.wav"


def speech(channels: int = 1) -> np.ndarray:
    x, sr = sf.read(HELLO, dtype="float32")
    assert sr and x.ndim == 1
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize("option, words", [
    ("--transcript", "is a folder, not a transcript"),
    ("--script", "is a folder, not a script file"),
    ("--preset", "is a folder, not a preset file"),
])
@pytest.mark.parametrize("slash", ["", "/"])
def test_a_folder_where_a_file_belongs(tmp_path, monkeypatch, capsys, option, words, slash):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lines").mkdir()
    rc = main(["infer", str(HELLO), option, "lines" + slash, "--skip-print-to-files"])
    line = one_line(capsys)
    assert rc == 2 and words in line and "lines" in line, line


def test_folder_checks_in_the_core_readers(tmp_path):
    with pytest.raises(ConfigError, match="is a folder, not a transcript file"):
        read_transcript_file(tmp_path)
    with pytest.raises(ConfigError, match="no such transcript file; check the path"):
        read_transcript_file(tmp_path / "nope.txt")
    with pytest.raises(ConfigError, match="is a folder, not a script file"):
        read_script(tmp_path)
    with pytest.raises(ConfigError, match="is a folder, not a preset file"):
        presets.load_character(str(tmp_path))
    with pytest.raises(ConfigError, match="is a folder, not a rig mapping file"):
        retarget.load_rig_preset(str(tmp_path))


@pytest.mark.parametrize("text, words", [
    ("map:\n  jawOpen: [a, b\n", "line 3, column 1: YAML syntax error"),
    ("map:\n\tjawOpen: jaw\n", "YAML syntax error"),
    ("map:\n  a: jawOpen\n  a: mouthClose\n", "appears twice"),
    ("map: [jawOpen, mouthClose]\n", "'map' must be a mapping"),
    ("channels: 3\n", "'channels' must be a mapping"),
    ("- just\n- a list\n", "expected a mapping at the top level"),
    ("mapp: {}\n", "unknown key(s) mapp"),
])
def test_rig_mapping_yaml_errors_are_one_line(tmp_path, text, words):
    p = tmp_path / "rig.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as ei:
        retarget.load_rig_preset(str(p))
    msg = str(ei.value)
    assert "\n" not in msg and str(p) in msg and words in msg, msg


def test_rig_mapping_that_is_not_utf8(tmp_path):
    p = tmp_path / "rig.yaml"
    p.write_bytes("map: {jawOpen: m\xe2choire}\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="rig.yaml: cannot read this file"):
        retarget.load_rig_preset(str(p))


def test_stereo_whose_channels_cancel_is_named_as_such(tmp_path, capsys):
    x = speech()
    p = tmp_path / "inverted.wav"
    sf.write(p, np.stack([x, -x], axis=1), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="channels cancel out when mixed to mono"):
        load(p)
    assert main(["infer", str(p), "--skip-print-to-files"]) == 2
    line = one_line(capsys)
    assert "inverted.wav" in line and "polarity" in line and "digital silence" not in line


def test_true_digital_silence_is_still_silence(tmp_path):
    p = tmp_path / "silent.wav"
    sf.write(p, np.zeros((16000, 2), np.float32), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="digital silence"):
        load(p)


def test_ordinary_stereo_and_a_little_over_full_scale_still_load(tmp_path):
    x = speech()
    p = tmp_path / "stereo.wav"
    sf.write(p, np.stack([x, 0.5 * x], axis=1), 16000, subtype="PCM_16")
    assert load(p).original_channels == 2
    hot = tmp_path / "hot.wav"
    sf.write(hot, 1.5 * x / np.abs(x).max(), 16000, subtype="FLOAT")
    assert np.abs(load(hot).samples).max() == pytest.approx(1.5, rel=1e-3)


@pytest.mark.parametrize("gain", [10.0, 1000.0])
def test_float_audio_far_above_full_scale_is_refused(tmp_path, capsys, gain):
    x = speech()
    p = tmp_path / "loud.wav"
    sf.write(p, gain * x / np.abs(x).max(), 16000, subtype="FLOAT")
    assert main(["infer", str(p), "--skip-print-to-files"]) == 2
    line = one_line(capsys)
    assert "loud.wav" in line and "above full scale" in line and "normalise" in line
    assert "transcript" not in line
