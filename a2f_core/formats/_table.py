"""Shared CSV plumbing for the A2F CSV readers/writers (csv module, no pandas).

NVIDIA's sample client writes its CSVs with pandas' ``DataFrame.to_csv`` defaults: an unnamed
index column (empty header cell), "\\n" line ends, floats as Python ``repr`` (shortest round-trip
text), so float32 values widened to double survive text -> float -> float32 bit-exactly.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..atomic import atomic_path
from ..errors import FormatError

INDEX_HEADERS = ("", "Unnamed: 0")


def check_file(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such {what}; check the path")
    if p.is_dir():
        raise FormatError(f"{p}: is a folder, not a {what}")
    return p


def read_rows(path: Path, what: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(line number, cells)]) with blank lines skipped."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            rows = [(reader.line_num, r) for r in reader if any(c.strip() for c in r)]
    except UnicodeDecodeError:
        raise FormatError(f"{path}: is not a text CSV file (not UTF-8); save it as a UTF-8 CSV") from None
    except csv.Error as e:
        raise FormatError(f"{path}: broken CSV ({e})") from None
    except OSError as e:
        raise FormatError(f"{path}: cannot read this file ({e})") from None
    if not rows:
        raise FormatError(f"{path}: the file is empty; expected {what} with a header line")
    header = [c.strip() for c in rows[0][1]]
    return header, rows[1:]


def parse_numbers(
    path: Path, header: Sequence[str], rows: list[tuple[int, list[str]]], columns: Sequence[int]
) -> np.ndarray:
    """float64 [rows x len(columns)] of the given column indices; FormatError names line and column."""
    for line, cells in rows:
        if len(cells) != len(header):
            raise FormatError(
                f"{path} line {line}: {len(cells)} cells, but the header has {len(header)} columns; "
                "every row needs one value per column"
            )
    if not rows:
        return np.zeros((0, len(columns)), np.float64)
    try:
        out = np.array([[cells[j] for j in columns] for _, cells in rows], dtype=np.float64)
    except ValueError:
        out = None
    bad = None
    if out is None:
        for line, cells in rows:
            for j in columns:
                try:
                    float(cells[j])
                except ValueError:
                    bad = (line, j, cells[j], "is not a number")
                    break
            if bad:
                break
    else:
        finite = np.isfinite(out)
        if not finite.all():
            r, c = np.argwhere(~finite)[0]
            bad = (rows[r][0], columns[c], rows[r][1][columns[c]], "is not a finite number")
    if bad:
        line, j, cell, why = bad
        raise FormatError(f"{path} line {line}, column '{header[j]}': {cell.strip()!r} {why}")
    assert out is not None
    return out


def check_times(path: Path, times: np.ndarray, rows: list[tuple[int, list[str]]], col: str, strict: bool) -> None:
    if len(times) and times[0] < 0:
        raise FormatError(f"{path} line {rows[0][0]}: {col} {float(times[0])!r} is negative; time starts at 0")
    if len(times) < 2:
        return
    d = np.diff(times)
    bad = np.flatnonzero(d <= 0) if strict else np.flatnonzero(d < 0)
    if len(bad):
        i = int(bad[0]) + 1
        order = "after" if strict else "at or after"
        raise FormatError(
            f"{path} line {rows[i][0]}: {col} {float(times[i])!r} is not {order} the previous {float(times[i - 1])!r}; "
            "rows must be in time order"
        )


def fmt(x: float) -> str:
    """pandas' float text: Python repr of the double."""
    return repr(float(x))


def write_rows(path: str | os.PathLike, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    p = Path(path)
    with atomic_path(p) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return p


def estimate_fps(times: np.ndarray, default: float) -> float:
    """Frame rate from the median frame step, rounded to 1/1000 fps (30.000000000000004 -> 30.0)."""
    if len(times) < 2:
        return float(default)
    step = float(np.median(np.diff(times)))
    return round(1.0 / step, 3) if step > 0 else float(default)
