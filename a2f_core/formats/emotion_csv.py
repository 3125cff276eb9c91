"""The two emotion CSVs of NVIDIA's sample client: ``a2f_3d_input_emotions.csv`` and
``a2f_3d_smoothed_emotion_output.csv``.

Layout: unnamed index column, ``time_code``, then ``emotion_values.<emotion>`` columns (lower-case
A2F emotion names, in the order of the first row the server sent).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..clip import EmotionTrack
from ..errors import FormatError
from ..names import EMOTIONS
from ._table import INDEX_HEADERS, check_file, check_times, fmt, parse_numbers, read_rows, write_rows

INPUT_FILENAME = "a2f_3d_input_emotions.csv"
OUTPUT_FILENAME = "a2f_3d_smoothed_emotion_output.csv"
TIME_COLUMN = "time_code"
PREFIX = "emotion_values."


def read_emotion_csv(path: str | os.PathLike) -> EmotionTrack:
    """An EmotionTrack from an A2F emotion CSV (a header-only file gives an empty track)."""
    p = check_file(path, "emotion CSV")
    if p.stat().st_size < 8 and p.read_bytes().strip() == b'""':  # pandas' text for a table without columns
        return EmotionTrack([], np.zeros(0), np.zeros((0, 0), np.float32))
    header, rows = read_rows(p, "an emotion CSV")
    if TIME_COLUMN not in header:
        raise FormatError(
            f"{p}: no '{TIME_COLUMN}' column in the header; an A2F emotion CSV starts with "
            "',time_code,emotion_values.<emotion>,...'"
        )
    t_col = header.index(TIME_COLUMN)
    columns = [i for i, h in enumerate(header) if h.startswith(PREFIX)]
    extra = [h for i, h in enumerate(header) if i not in columns and i != t_col and not (i == 0 and h in INDEX_HEADERS)]
    if extra:
        raise FormatError(f"{p}: unexpected column '{extra[0]}'; expected only '{TIME_COLUMN}' and 'emotion_values.*'")
    names = [header[i][len(PREFIX) :] for i in columns]
    for n in names:
        if n not in EMOTIONS:
            raise FormatError(f"{p}: unknown emotion column '{PREFIX}{n}'; known emotions: {', '.join(EMOTIONS)}")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise FormatError(f"{p}: emotion '{dup}' appears twice in the header")
    values = parse_numbers(p, header, rows, [t_col] + columns)
    times = values[:, 0]
    check_times(p, times, rows, TIME_COLUMN, strict=False)
    return EmotionTrack(names, times, values[:, 1:].astype(np.float32))


def write_emotion_csv(path: str | os.PathLike, track: EmotionTrack | None) -> Path:
    """Write ``track`` in the sample client's layout; None writes a header with the ten emotions and no rows."""
    if track is None:
        track = EmotionTrack(list(EMOTIONS), np.zeros(0), np.zeros((0, len(EMOTIONS)), np.float32))
    header = ["", TIME_COLUMN] + [PREFIX + n for n in track.names]
    values = track.values.astype(np.float64).tolist()
    rows = ([str(i), fmt(t)] + [repr(v) for v in row] for i, (t, row) in enumerate(zip(track.times.tolist(), values)))
    return write_rows(path, header, rows)
