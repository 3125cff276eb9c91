"""Viseme segments -> 52 ARKit mouth curves at a fixed frame rate (numpy only).

Cohen-Massaro dominance blending of the viseme targets (each segment dominates inside itself and
fades out exponentially, with its own anticipation and carry-over times), a loudness-scaled jaw
(JALI's jaw axis), zero-phase one-pole smoothing, then the hard lip constraints are re-imposed:
lips closed on p/b/m, lower lip on the teeth on f/v.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ...names import ARKIT_52
from .tables import VisemeTable
from .visemes import VISEMES, Segment

IDX = {n: i for i, n in enumerate(ARKIT_52)}
JAW = [IDX[n] for n in ("jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight")]
_V = {v: i for i, v in enumerate(VISEMES)}

# re-imposed during bilabials: (channel, "max" = at least, "min" = at most, value)
CLOSURE_RULES = [
    ("jawOpen", "min", 0.05), ("mouthLowerDownLeft", "min", 0.03), ("mouthLowerDownRight", "min", 0.03),
    ("mouthUpperUpLeft", "min", 0.03), ("mouthUpperUpRight", "min", 0.03), ("mouthFunnel", "min", 0.15),
    ("mouthClose", "max", 0.30), ("mouthPressLeft", "max", 0.40), ("mouthPressRight", "max", 0.40),
]
LABIODENTAL_RULES = [("jawOpen", "min", 0.12), ("mouthRollLower", "max", 0.45), ("mouthFunnel", "min", 0.2)]
DEFAULT_TAU = 0.0133  # s, one-pole time constant = a 12 Hz cutoff


def loudness(samples: np.ndarray, rate: int, times: np.ndarray, window: float = 0.04) -> np.ndarray:
    """Speech loudness in [0, 1] at ``times``: RMS in dB over ``window``, 0 at 30 dB below the loud parts."""
    x = np.asarray(samples, np.float64)
    if len(x) == 0:
        return np.zeros(len(times))
    c = np.concatenate([[0.0], np.cumsum(x * x)])
    half = max(1, int(window * rate / 2))
    centre = np.clip(np.round(times * rate).astype(np.int64), 0, len(x))
    a = np.clip(centre - half, 0, len(x))
    b = np.clip(centre + half, 0, len(x))
    rms = np.sqrt((c[b] - c[a]) / np.maximum(b - a, 1))
    db = 20 * np.log10(rms + 1e-9)
    top = np.percentile(db, 95)
    return np.clip((db - (top - 30.0)) / 30.0, 0.0, 1.0)


def dominance_weights(segments: Sequence[Segment], times: np.ndarray, table: VisemeTable) -> np.ndarray:
    """(frames, 15) viseme weights, rows summing to 1 (Cohen-Massaro blend)."""
    num = np.zeros((len(times), len(VISEMES)))
    den = np.zeros(len(times))
    for s in segments:
        v = _V[s.viseme]
        alpha, ant, car = table.dominance[v], table.anticipation[v], table.carryover[v]
        lo = np.searchsorted(times, s.start - 6 * ant)
        hi = np.searchsorted(times, s.end + 6 * car, side="right")
        t = times[lo:hi]
        d = np.where(t < s.start, np.exp(-(s.start - t) / ant), np.where(t >= s.end, np.exp(-(t - s.end) / car), 1.0))
        d *= alpha
        num[lo:hi, v] += d
        den[lo:hi] += d
    empty = den <= 1e-12
    num[empty, _V["sil"]] = 1.0
    den[empty] = 1.0
    return num / den[:, None]


def smooth(x: np.ndarray, tau: float, fps: float) -> np.ndarray:
    """Zero-phase (forward-backward) one-pole low-pass along axis 0."""
    if tau <= 0 or len(x) < 2:
        return x.copy()
    a = 1.0 - np.exp(-1.0 / (tau * fps))
    y = np.array(x, np.float64)
    for i in range(1, len(y)):
        y[i] = a * y[i] + (1 - a) * y[i - 1]
    for i in range(len(y) - 2, -1, -1):
        y[i] = a * y[i] + (1 - a) * y[i + 1]
    return y


def segment_mask(segments: Sequence[Segment], times: np.ndarray, visemes: set[str]) -> np.ndarray:
    """1.0 on frames inside segments of ``visemes`` (at least the nearest frame of each), 0.5 on
    the frames either side (a one-frame ease), else 0."""
    m = np.zeros(len(times))
    for s in segments:
        if s.viseme not in visemes:
            continue
        lo = int(np.searchsorted(times, s.start))
        hi = int(np.searchsorted(times, s.end))
        if hi <= lo:
            lo = min(int(np.argmin(np.abs(times - s.center))), len(times) - 1)
            hi = lo + 1
        m[lo:hi] = 1.0
    soft = m.copy()
    soft[1:] = np.maximum(soft[1:], 0.5 * m[:-1])
    soft[:-1] = np.maximum(soft[:-1], 0.5 * m[1:])
    return soft


def _impose(w: np.ndarray, mask: np.ndarray, rules) -> None:
    on = mask > 0
    if not on.any():
        return
    k = mask[on][:, None]
    for name, kind, value in rules:
        i = IDX[name]
        cur = w[on, i]
        target = np.minimum(cur, value) if kind == "min" else np.maximum(cur, value)
        w[on, i] = cur + (target - cur) * k[:, 0]


def mouth_curves(
    segments: Sequence[Segment],
    times: np.ndarray,
    fps: float,
    table: VisemeTable,
    energy: np.ndarray | None = None,
    tau: float = DEFAULT_TAU,
) -> np.ndarray:
    """(frames, 52) mouth/jaw/tongue weights in [0, 1]."""
    vw = dominance_weights(segments, times, table)
    w: np.ndarray = vw @ table.matrix.astype(np.float64)
    if energy is not None:
        w[:, JAW] *= (0.6 + 0.6 * energy)[:, None]
    w = smooth(w, tau, fps)
    impose_lip_constraints(w, segments, times)
    return np.clip(w, 0.0, 1.0)


def impose_lip_constraints(w: np.ndarray, segments: Sequence[Segment], times: np.ndarray) -> None:
    """In place: lips closed during p/b/m, lower lip on the teeth during f/v."""
    _impose(w, segment_mask(segments, times, {"PP"}), CLOSURE_RULES)
    _impose(w, segment_mask(segments, times, {"FF"}), LABIODENTAL_RULES)
