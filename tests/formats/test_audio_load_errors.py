"""audio.load(): what libsndfile reads becomes mono float32; every unusable file is a clear AudioError."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from a2f_core.audio import load
from a2f_core.errors import AudioError


def tone(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize(
    "name, subtype",
    [("a.wav", "PCM_16"), ("b.wav", "PCM_24"), ("c.wav", "PCM_32"), ("d.wav", "FLOAT"), ("e.flac", "PCM_16"),
     ("f.ogg", "VORBIS"), ("g.wav", "PCM_U8")],
)
def test_common_formats_load_as_mono_float32(tmp_path, name, subtype):
    p = tmp_path / name
    sf.write(p, tone(0.5, 44100, channels=2), 44100, subtype=subtype)
    a = load(p)
    assert a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert a.rate == 44100 and a.original_channels == 2
    assert a.duration == pytest.approx(0.5, abs=0.01)
    assert 0.25 < np.abs(a.samples).max() < 0.35
    b = load(p, rate=16000)
    assert b.rate == 16000 and len(b.samples) == pytest.approx(8000, abs=2)


@pytest.mark.parametrize(
    "make, pattern",
    [
        (lambda p: None, r"no such audio file; check the path"),
        (lambda p: p.write_text("this is not audio"), r"cannot read this audio file .*use WAV, FLAC, OGG or MP3"),
        (lambda p: sf.write(p, np.zeros(0, np.float32), 16000), r"holds no audio samples"),
        (lambda p: sf.write(p, tone(0.05, 16000), 16000), r"only 50 ms of audio; at least 100 ms is needed"),
        (lambda p: sf.write(p, np.zeros(16000, np.float32), 16000), r"is digital silence"),
        (lambda p: sf.write(p, tone(2.0, 8000), 8000), r"2\.0 s of audio is longer than the limit of 1 s; split the file or raise the limit \(--max-seconds\)"),
        (lambda p: sf.write(p, np.full(1600, np.nan, np.float32), 16000, subtype="FLOAT"), r"NaN or infinite samples"),
    ],
    ids=["missing", "unreadable", "empty", "too-short", "silence", "too-long", "nan"],
)
def test_unusable_audio_gives_one_clear_error_naming_the_file(tmp_path, make, pattern):
    p = tmp_path / "take 1.wav"
    make(p)
    with pytest.raises(AudioError, match=pattern) as e:
        load(p, max_seconds=1.0)
    msg = str(e.value)
    assert msg.startswith(str(p)) and "\n" not in msg
    assert e.value.exit_code == 2


def test_folder_is_not_an_audio_file(tmp_path):
    with pytest.raises(AudioError, match="is a folder, not an audio file"):
        load(tmp_path)
