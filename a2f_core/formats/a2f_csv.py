"""NVIDIA's ``animation_frames.csv`` (the A2F-3D sample client's output).

Layout: unnamed index column (empty header cell), ``timeCode`` (seconds), then one
``blendShapes.<Name>`` column per channel in the server's header order. Real files carry 52 ARKit
channels, sometimes + HeadRoll/HeadPitch/HeadYaw (NIM 1.2) or + 16 tongue channels (NIM 2.0).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..clip import Clip
from ..errors import FormatError
from ..names import to_nvidia
from ._table import INDEX_HEADERS, check_file, check_times, estimate_fps, fmt, parse_numbers, read_rows, write_rows

FILENAME = "animation_frames.csv"
TIME_COLUMN = "timeCode"
PREFIX = "blendShapes."
_TIME_ALIASES = ("timecode", "time_code")


def read_animation_csv(path: str | os.PathLike, *, default_fps: float = 60.0) -> Clip:
    """A Clip from an A2F animation CSV (either name case; extra channels kept)."""
    p = check_file(path, "animation CSV")
    header, rows = read_rows(p, "an animation CSV (animation_frames.csv)")
    if any(h.startswith("emotion_values.") for h in header):
        raise FormatError(f"{p}: this is an A2F emotion CSV, not an animation CSV (animation_frames.csv)")
    lowered = [h.lower() for h in header]
    t_col = next((i for i, h in enumerate(lowered) if h in _TIME_ALIASES), None)
    if t_col is None:
        raise FormatError(
            f"{p}: no '{TIME_COLUMN}' column in the header; an A2F animation CSV starts with "
            "',timeCode,blendShapes.EyeBlinkLeft,...'"
        )
    prefixed = [i for i, h in enumerate(header) if h.startswith(PREFIX)]
    if prefixed:
        columns = prefixed
        names = [header[i][len(PREFIX) :] for i in prefixed]
        ignored = [h for i, h in enumerate(header) if i not in prefixed and i != t_col and not (i == 0 and h in INDEX_HEADERS)]
    else:  # bare channel names after the time column
        columns = [i for i, h in enumerate(header) if i != t_col and not (i == 0 and h in INDEX_HEADERS)]
        names = [header[i] for i in columns]
        ignored = []
    if not columns:
        raise FormatError(f"{p}: no blendshape columns; expected 'blendShapes.<Name>' columns after '{TIME_COLUMN}'")
    for i, n in zip(columns, names):
        if not n:
            raise FormatError(f"{p}: column {i + 1} of the header has no blendshape name")
    seen: dict[str, str] = {}
    for n in names:
        key = n.lower()
        if key in seen:
            raise FormatError(f"{p}: blendshape '{n}' appears twice in the header (also as '{seen[key]}')")
        seen[key] = n
    if not rows:
        raise FormatError(f"{p}: no animation frames (the file has only a header)")
    values = parse_numbers(p, header, rows, [t_col] + columns)
    times = values[:, 0]
    check_times(p, times, rows, header[t_col], strict=True)
    fps = estimate_fps(times, default_fps)
    meta: dict[str, Any] = {"source": str(p), "format": "a2f_csv"}
    if ignored:
        meta["ignored_columns"] = ignored
    return Clip(names, times, values[:, 1:].astype(np.float32), fps, meta=meta)


def write_animation_csv(path: str | os.PathLike, clip: Clip, *, pascal_case: bool = True) -> Path:
    """Write ``clip`` in NVIDIA's layout (PascalCase names like the NIM unless ``pascal_case`` is False)."""
    names = [to_nvidia(n) if pascal_case else n for n in clip.names]
    header = ["", TIME_COLUMN] + [PREFIX + n for n in names]
    times = clip.times.tolist()
    weights = clip.weights.astype(np.float64).tolist()
    rows = ([str(i), fmt(t)] + [repr(v) for v in w] for i, (t, w) in enumerate(zip(times, weights)))
    return write_rows(path, header, rows)
