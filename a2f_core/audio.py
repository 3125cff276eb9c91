"""Audio in: anything libsndfile reads -> mono float32 at a chosen rate (soundfile + soxr)."""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import AudioError

DEFAULT_MAX_SECONDS = 600.0  # 10 minutes
MIN_SECONDS = 0.1
SILENCE_PEAK = 1e-4  # peak below this (about -80 dBFS) counts as digital silence
MAX_FLOAT_PEAK = 2.0  # float samples above this (+6 dBFS) are a broken export, not speech to clip
CANCEL_RATIO = 0.01  # a mono mix 40 dB below its loudest channel: the channels cancel (one is inverted)


@dataclass
class Audio:
    """Mono float32 samples in [-1, 1] at ``rate`` Hz."""

    samples: np.ndarray
    rate: int
    source: str = ""
    original_rate: int = 0
    original_channels: int = 1
    extra: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.rate)

    def resampled(self, rate: int) -> Audio:
        """The same audio at ``rate`` Hz (soxr HQ); returns self when the rate already matches."""
        if rate == self.rate:
            return self
        import soxr

        out = soxr.resample(self.samples, self.rate, rate, "HQ").astype(np.float32, copy=False)
        return Audio(out, rate, self.source, self.original_rate or self.rate, self.original_channels)

    def pcm16(self) -> bytes:
        """Little-endian signed 16-bit PCM (the NIM's input encoding)."""
        return to_pcm16(self.samples)

    def slice(self, start_s: float, end_s: float) -> Audio:
        a = max(0, int(round(start_s * self.rate)))
        b = min(len(self.samples), int(round(end_s * self.rate)))
        return Audio(self.samples[a:b], self.rate, self.source, self.original_rate, self.original_channels)


def to_pcm16(samples: np.ndarray) -> bytes:
    # Same scale as from_pcm16 (1/32768), so 16-bit audio survives a float round trip exactly.
    scaled = np.round(np.asarray(samples, dtype=np.float32) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()


def from_pcm16(data: bytes, rate: int, source: str = "") -> Audio:
    if len(data) % 2:
        raise AudioError(f"{source or 'PCM data'}: odd byte count {len(data)}; 16-bit PCM needs an even number of bytes")
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    return Audio(samples, int(rate), source, int(rate), 1)


def check(audio: Audio, *, max_seconds: float | None = DEFAULT_MAX_SECONDS, name: str | None = None) -> Audio:
    """Raise AudioError for audio that cannot give a useful animation."""
    label = name or audio.source or "audio"
    n = len(audio.samples)
    if n == 0:
        raise AudioError(f"{label}: the file holds no audio samples; export the take again or pick another file")
    if audio.duration < MIN_SECONDS:
        raise AudioError(
            f"{label}: only {audio.duration * 1000:.0f} ms of audio; at least {MIN_SECONDS * 1000:.0f} ms is needed"
        )
    if not np.all(np.isfinite(audio.samples)):
        raise AudioError(f"{label}: the audio contains NaN or infinite samples; re-export it as PCM")
    peak = float(np.max(np.abs(audio.samples)))
    if peak < SILENCE_PEAK:
        raise AudioError(f"{label}: the audio is digital silence (peak {peak:.1e}); check the recording or the export")
    if max_seconds and audio.duration > max_seconds:
        raise AudioError(
            f"{label}: {audio.duration:.1f} s of audio is longer than the limit of {max_seconds:.0f} s; "
            "split the file or raise the limit (--max-seconds)"
        )
    return audio


def _info(path: str | os.PathLike):
    """(path, libsndfile's info) for a readable audio file; AudioError naming the file otherwise."""
    import soundfile as sf

    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such audio file; check the path")
    if p.is_dir():
        raise AudioError(f"{p}: is a folder, not an audio file")
    try:
        return p, sf.info(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioError(
            f"{p}: cannot read this audio file ({e}); use WAV, FLAC, OGG or MP3, "
            "or convert it with e.g. `ffmpeg -i in.m4a out.wav`"
        ) from None


def probe(path: str | os.PathLike) -> Path:
    """Check that ``path`` is an audio file libsndfile can read (without decoding it); AudioError otherwise."""
    p, info = _info(path)
    if not info.frames:
        raise AudioError(f"{p}: the file holds no audio samples; export the take again or pick another file")
    return p


def check_channels(data: np.ndarray, label: str) -> None:
    """Checks on the file's own samples (frames x channels) before they are mixed to mono: float samples far
    above full scale, and channels that cancel when mixed (one channel the other with its polarity inverted,
    which would otherwise be reported as digital silence)."""
    if data.size == 0:
        return
    peaks = np.max(np.abs(data), axis=0)
    top = float(np.max(peaks))
    if not np.isfinite(top):
        return  # check() names NaN/inf
    if top > MAX_FLOAT_PEAK:
        raise AudioError(
            f"{label}: the samples reach {top:.3g}, {20 * np.log10(top):.0f} dB above full scale (1.0); "
            "normalise the file to a peak of 1.0 or less and export it again"
        )
    if data.shape[1] > 1 and top >= SILENCE_PEAK:
        mix = float(np.max(np.abs(data.mean(axis=1, dtype=np.float32))))
        if mix < CANCEL_RATIO * top:
            raise AudioError(
                f"{label}: its {data.shape[1]} channels cancel out when mixed to mono (one is the other with "
                "inverted polarity); fix the polarity or keep one channel, e.g. "
                "`ffmpeg -i in.wav -af 'pan=mono|c0=c0' out.wav`"
            )


def load(
    path: str | os.PathLike,
    *,
    rate: int | None = None,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> Audio:
    """Read ``path`` (WAV/FLAC/OGG/MP3 ... whatever libsndfile reads) to mono float32.

    ``rate``: resample to this rate (soxr HQ); None keeps the file's rate.
    Raises AudioError naming the file for anything unreadable, empty, too short, silent or too long.
    """
    import soundfile as sf

    p, info = _info(path)
    if max_seconds and info.frames and info.samplerate and info.frames / info.samplerate > max_seconds:
        raise AudioError(
            f"{p}: {info.frames / info.samplerate:.1f} s of audio is longer than the limit of {max_seconds:.0f} s; "
            "split the file or raise the limit (--max-seconds)"
        )
    try:
        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as e:
        raise AudioError(
            f"{p}: cannot read this audio file ({e}); use WAV, FLAC, OGG or MP3, "
            "or convert it with e.g. `ffmpeg -i in.m4a out.wav`"
        ) from None
    check_channels(data, str(p))
    channels = data.shape[1]
    mono = data.mean(axis=1, dtype=np.float32) if channels > 1 else data[:, 0]
    audio = Audio(np.ascontiguousarray(mono, dtype=np.float32), int(sr), str(p), int(sr), int(channels))
    check(audio, max_seconds=max_seconds, name=str(p))
    if rate is not None:
        audio = audio.resampled(rate)
    return audio


def save_wav(path: str | os.PathLike, audio: Audio, subtype: str = "PCM_16") -> None:
    import soundfile as sf

    from .atomic import write_bytes

    # Encoded in memory, then written by Python: libsndfile reports a failed write (a full disk) only as
    # "System error." without its cause, a plain file write names it (and the rename keeps it atomic).
    buf = io.BytesIO()
    sf.write(buf, audio.samples, audio.rate, subtype=subtype, format=(Path(path).suffix[1:] or "wav").upper())
    write_bytes(path, buf.getvalue())
