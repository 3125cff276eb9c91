"""Omniverse Audio2Face blendshape JSON (Blendshape Conversion export).

Keys: ``exportFps``, ``trackPath``, ``numPoses`` (= len(facsNames)), ``numFrames`` (= len(weightMat)),
``facsNames``, ``weightMat`` [frame][pose]; optional joint tracks ``joints``, ``rotations``,
``translations``. Row i is at i / exportFps. Columns are matched by name, never by position.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_text
from ..clip import Clip, frame_times
from ..errors import FormatError
from ..names import to_nvidia
from ._table import check_file

EXTRA_KEYS = ("joints", "rotations", "translations")


def _num(p: Path, key: str, v: Any, *, positive: bool = False, integer: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise FormatError(f"{p}: '{key}' = {v!r} is not a number")
    if integer and v != int(v):
        raise FormatError(f"{p}: '{key}' = {v!r} is not a whole number")
    if (positive and v <= 0) or v < 0:
        raise FormatError(f"{p}: '{key}' = {v!r} must be {'greater than 0' if positive else '0 or more'}")
    return float(v)


def read_omniverse_json(path: str | os.PathLike, *, default_fps: float = 60.0) -> Clip:
    """A Clip from an Omniverse A2F blendshape JSON; ``default_fps`` when the file has no exportFps."""
    p = check_file(path, "Omniverse JSON file")
    try:
        with open(p, encoding="utf-8-sig") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise FormatError(f"{p} line {e.lineno}, column {e.colno}: broken JSON ({e.msg})") from None
    except UnicodeDecodeError:
        raise FormatError(f"{p}: is not a text JSON file (not UTF-8)") from None
    except OSError as e:
        raise FormatError(f"{p}: cannot read this file ({e})") from None
    if not isinstance(data, dict):
        raise FormatError(f"{p}: expected a JSON object with 'facsNames' and 'weightMat', got a {type(data).__name__}")
    for key in ("facsNames", "weightMat"):
        if key not in data:
            raise FormatError(f"{p}: no '{key}' key; this is not an Audio2Face blendshape export")
    names = data["facsNames"]
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise FormatError(f"{p}: 'facsNames' must be a list of blendshape names")
    if not names:
        raise FormatError(f"{p}: 'facsNames' is empty")
    lowered = [n.lower() for n in names]
    for i, n in enumerate(lowered):
        if n in lowered[:i]:
            raise FormatError(f"{p}: facsNames lists '{names[i]}' twice")
    mat = data["weightMat"]
    if not isinstance(mat, list):
        raise FormatError(f"{p}: 'weightMat' must be a list of rows (one per frame)")
    if "numPoses" in data and _num(p, "numPoses", data["numPoses"], integer=True) != len(names):
        raise FormatError(f"{p}: numPoses is {data['numPoses']} but facsNames has {len(names)} names")
    if "numFrames" in data and _num(p, "numFrames", data["numFrames"], integer=True) != len(mat):
        raise FormatError(f"{p}: numFrames is {data['numFrames']} but weightMat has {len(mat)} rows")
    if not mat:
        raise FormatError(f"{p}: weightMat has no frames")
    for i, row in enumerate(mat):
        if not isinstance(row, list) or len(row) != len(names):
            n = len(row) if isinstance(row, list) else type(row).__name__
            raise FormatError(f"{p}: weightMat row {i} has {n} values; numPoses/facsNames say {len(names)}")
        for j, v in enumerate(row):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise FormatError(f"{p}: weightMat row {i}, pose '{names[j]}': {v!r} is not a number")
    fps = _num(p, "exportFps", data["exportFps"], positive=True) if "exportFps" in data else float(default_fps)
    track = data.get("trackPath", "")
    meta: dict[str, Any] = {"source": str(p), "format": "omniverse_json", "track_path": track if isinstance(track, str) else ""}
    if "exportFps" not in data:
        meta["assumed_fps"] = fps
    extra = {k: v for k, v in data.items() if k in EXTRA_KEYS}
    if extra:
        meta["omniverse_extra"] = extra
    weights = np.array(mat, dtype=np.float64).astype(np.float32)
    return Clip(list(names), frame_times(len(mat), fps), weights, fps, meta=meta)


def write_omniverse_json(
    path: str | os.PathLike, clip: Clip, *, track_path: str | None = None, pascal_case: bool = False
) -> Path:
    """Write ``clip`` as Omniverse JSON (camelCase ARKit names unless ``pascal_case``).

    Frames not on the i/fps grid are resampled onto it first; joint tracks read from a file
    (meta["omniverse_extra"]) are written back.
    """
    c = clip
    grid = frame_times(c.n_frames, c.fps)
    if c.n_frames == 0 or not np.allclose(c.times, grid, rtol=0, atol=1e-6):
        c = c.resample(c.fps)
    fps: float | int = int(c.fps) if float(c.fps).is_integer() else float(c.fps)
    names = [to_nvidia(n) if pascal_case else n for n in c.names]
    tp = track_path if track_path is not None else str(c.meta.get("track_path", ""))
    parts = [
        f'    "exportFps": {json.dumps(fps)}',
        f'    "trackPath": {json.dumps(tp)}',
        f'    "numPoses": {len(names)}',
        f'    "numFrames": {c.n_frames}',
        f'    "facsNames": {json.dumps(names)}',
        '    "weightMat": [\n'
        + ",\n".join("        " + json.dumps(row) for row in c.weights.astype(np.float64).tolist())
        + "\n    ]",
    ]
    for k, v in (c.meta.get("omniverse_extra") or {}).items():
        parts.append(f"    {json.dumps(k)}: {json.dumps(v)}")
    return write_text(path, "{\n" + ",\n".join(parts) + "\n}\n")
