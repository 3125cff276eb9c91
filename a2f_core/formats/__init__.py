"""A2F file formats as Clips: NVIDIA's CSVs and Omniverse's blendshape JSON.

``load_clip(path)`` / ``save_clip(path, clip)`` pick the format by extension; ``write_outputs``
writes the four files NVIDIA's sample client writes (animation_frames.csv, the two emotion CSVs,
out.wav).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..atomic import ensure_dir
from ..clip import Clip, EmotionTrack
from ..config import EmotionKey
from ..errors import FormatError
from ..names import EMOTIONS
from .a2f_csv import FILENAME as ANIMATION_FILENAME
from .a2f_csv import read_animation_csv, write_animation_csv
from .emotion_csv import INPUT_FILENAME, OUTPUT_FILENAME, read_emotion_csv, write_emotion_csv
from .omniverse_json import read_omniverse_json, write_omniverse_json

AUDIO_FILENAME = "out.wav"
AUDIO_RATE = 16000
CLIP_SUFFIXES = (".csv", ".json")


def load_clip(path: str | os.PathLike, *, default_fps: float = 60.0) -> Clip:
    """A Clip from an A2F animation CSV (.csv) or an Omniverse blendshape JSON (.json)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return read_animation_csv(p, default_fps=default_fps)
    if suffix == ".json":
        return read_omniverse_json(p, default_fps=default_fps)
    raise FormatError(
        f"{p}: unknown animation file type '{p.suffix}'; use an A2F animation_frames.csv or an Omniverse .json export"
    )


def save_clip(path: str | os.PathLike, clip: Clip) -> Path:
    """Write ``clip`` as A2F CSV (.csv, PascalCase) or Omniverse JSON (.json, camelCase)."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        return write_animation_csv(p, clip)
    if suffix == ".json":
        return write_omniverse_json(p, clip)
    raise FormatError(f"{p}: cannot write '{p.suffix}' files; use .csv (A2F) or .json (Omniverse)")


def timeline_track(keys: list[EmotionKey]) -> EmotionTrack:
    """The emotion timeline as a track of all ten emotions (unnamed ones 0) at the keys' time codes."""
    values = np.array([[k.emotions.get(e, 0.0) for e in EMOTIONS] for k in keys], np.float32).reshape(len(keys), len(EMOTIONS))
    return EmotionTrack(list(EMOTIONS), np.array([k.time_code for k in keys], np.float64), values)


def write_outputs(
    outdir: str | os.PathLike,
    clip: Clip,
    audio=None,
    *,
    timeline: list[EmotionKey] | None = None,
) -> dict[str, Path]:
    """NVIDIA's sample-client outputs in ``outdir``; returns {file name: path}.

    Input emotions: the clip's own track, else ``timeline`` (what was sent); smoothed output
    emotions: the clip's track, else a header-only file. ``audio`` (an audio.Audio) is written as
    16 kHz PCM16 out.wav.
    """
    from ..audio import save_wav

    d = ensure_dir(outdir)
    out = {ANIMATION_FILENAME: write_animation_csv(d / ANIMATION_FILENAME, clip)}
    inp = clip.input_emotions
    if inp is None and timeline:
        inp = timeline_track(timeline)
    out[INPUT_FILENAME] = write_emotion_csv(d / INPUT_FILENAME, inp)
    out[OUTPUT_FILENAME] = write_emotion_csv(d / OUTPUT_FILENAME, clip.output_emotions)
    if audio is not None:
        save_wav(d / AUDIO_FILENAME, audio.resampled(AUDIO_RATE))
        out[AUDIO_FILENAME] = d / AUDIO_FILENAME
    return out


__all__ = [
    "ANIMATION_FILENAME",
    "AUDIO_FILENAME",
    "INPUT_FILENAME",
    "OUTPUT_FILENAME",
    "load_clip",
    "save_clip",
    "write_outputs",
    "timeline_track",
    "read_animation_csv",
    "write_animation_csv",
    "read_emotion_csv",
    "write_emotion_csv",
    "read_omniverse_json",
    "write_omniverse_json",
]
