"""Lip-sync measures against known phone timings (used by tests/local and bench/bench_local_quality.py).

A frame has the lips closed when the jaw is nearly shut and the lips are pressed or closed; a
frame is rounded when pucker or funnel is visible. Phone windows are widened by ``TOL`` because
reference phone events and 60 fps frames are both quantised (10-17 ms).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...clip import Clip
from .curves import loudness, mouth_curves
from .phones import Phone
from .tables import load_viseme_table
from .visemes import BILABIAL, OPEN_VOWELS, ROUNDED, to_segments

TOL = 0.02  # s
CLOSED_JAW = 0.10
CLOSED_LIPS = 0.20
ROUND = 0.20
MIN_VOWEL = 0.05  # s: shorter open vowels are not judged


def _avg(clip: Clip, a: str, b: str) -> np.ndarray:
    return 0.5 * (clip.channel(a) + clip.channel(b))


def lips_closed(clip: Clip) -> np.ndarray:
    """Per frame: jaw nearly shut, lips closed or pressed, lips not parted."""
    press = _avg(clip, "mouthPressLeft", "mouthPressRight")
    parted = np.maximum(_avg(clip, "mouthLowerDownLeft", "mouthLowerDownRight"),
                        _avg(clip, "mouthUpperUpLeft", "mouthUpperUpRight"))
    return (clip.channel("jawOpen") <= CLOSED_JAW) & (np.maximum(clip.channel("mouthClose"), press) >= CLOSED_LIPS) \
        & (parted <= 0.1)


def rounded(clip: Clip) -> np.ndarray:
    return np.maximum(clip.channel("mouthPucker"), clip.channel("mouthFunnel")) >= ROUND


def _window(clip: Clip, p: Phone, tol: float = TOL) -> slice:
    lo = int(np.searchsorted(clip.times, p.start - tol))
    hi = int(np.searchsorted(clip.times, p.end + tol, side="right"))
    return slice(lo, max(hi, lo + 1))


def phones_from_json(meta: dict) -> list[Phone]:
    return [Phone(p["phone"], p["start"], p["end"]) for p in meta["phones"]]


@dataclass
class Scores:
    closure: float  # share of p/b/m phones during which the lips close
    open_closed: float  # share of open vowels with the lips wrongly closed in their middle
    rounding: float  # share of oo/oh/w phones with visible rounding
    jaw_lag: float  # s, jawOpen timing against curves from the known phones (+ = late)
    jaw_r: float  # correlation of jawOpen with those curves
    n_bilabial: int
    n_open: int
    n_rounded: int
    missed: list[str]  # which phones failed, for messages


def reference_jaw(clip: Clip, known: Sequence[Phone], samples: np.ndarray, rate: int) -> np.ndarray:
    """jawOpen from the known phones through the same curve stage."""
    energy = loudness(samples, rate, clip.times)
    w = mouth_curves(to_segments(known), clip.times, clip.fps, load_viseme_table(), energy)
    return w[:, clip.names.index("jawOpen")]


def jaw_lag(jaw: np.ndarray, ref: np.ndarray, fps: float, max_lag: float = 0.15) -> tuple[float, float]:
    """(lag s, r) where ``jaw`` best matches ``ref`` shifted by lag (sub-frame, parabolic peak)."""
    a = jaw - jaw.mean()
    b = ref - ref.mean()
    m = int(round(max_lag * fps))
    lags = np.arange(-m, m + 1)
    cc = np.array([
        np.dot(a[max(0, k):len(a) + min(0, k)], b[max(0, -k):len(b) - max(0, k)]) for k in lags
    ]) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12)
    i = int(np.argmax(cc))
    frac = 0.0
    if 0 < i < len(cc) - 1:
        den = cc[i - 1] - 2 * cc[i] + cc[i + 1]
        frac = 0.5 * (cc[i - 1] - cc[i + 1]) / den if den < 0 else 0.0
    return float((lags[i] + frac) / fps), float(cc[lags == 0][0])


def score(clip: Clip, known: Sequence[Phone], samples: np.ndarray, rate: int) -> Scores:
    closed = lips_closed(clip)
    rnd = rounded(clip)
    missed: list[str] = []
    bil = [p for p in known if p.name in BILABIAL]
    hit_b = 0
    for p in bil:
        if closed[_window(clip, p)].any():
            hit_b += 1
        else:
            missed.append(f"{p.name}@{p.start:.2f} not closed")
    opn = [p for p in known if p.name in OPEN_VOWELS and p.end - p.start >= MIN_VOWEL]
    bad_o = 0
    for p in opn:
        q = 0.25 * (p.end - p.start)
        mid = closed[_window(clip, Phone(p.name, p.start + q, p.end - q), 0.0)]
        if mid.mean() > 0.5:
            bad_o += 1
            missed.append(f"{p.name}@{p.start:.2f} closed")
    rph = [p for p in known if p.name in ROUNDED]
    hit_r = 0
    for p in rph:
        if rnd[_window(clip, p)].any():
            hit_r += 1
        else:
            missed.append(f"{p.name}@{p.start:.2f} not rounded")
    lag, r = jaw_lag(clip.channel("jawOpen"), reference_jaw(clip, known, samples, rate), clip.fps)
    return Scores(
        closure=hit_b / len(bil) if bil else 1.0,
        open_closed=bad_o / len(opn) if opn else 0.0,
        rounding=hit_r / len(rph) if rph else 1.0,
        jaw_lag=lag, jaw_r=r, n_bilabial=len(bil), n_open=len(opn), n_rounded=len(rph), missed=missed,
    )
