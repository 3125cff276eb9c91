"""Cutting audio at pauses: one cutter for the bundled backend (pieces for the worker processes) and `a2f serve`
(pieces of a long clip streamed as each is done)."""

from __future__ import annotations

import numpy as np

FRAME = 0.01  # s: energy is measured per 10 ms frame
QUIET_WINDOW = 0.15  # s: "quiet" = lowest mean energy over this window (a pause rather than a stop closure)


def frame_energy(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mean square of each 10 ms frame (the trailing partial frame is dropped)."""
    hop = max(1, int(round(rate * FRAME)))
    n = len(samples) // hop
    return (samples[: n * hop].astype(np.float64).reshape(n, hop) ** 2).mean(axis=1)


def quiet_cuts(samples: np.ndarray, rate: int, pieces: int, reach: float) -> list[float]:
    """Cut times (s) from 0 to the end for ``pieces`` pieces: each inner cut at the quietest point (lowest energy
    over QUIET_WINDOW) within ``reach`` s of even spacing; among equals (digital silence) the nearest one."""
    total = len(samples) / rate
    if pieces <= 1:
        return [0.0, total]
    energy = frame_energy(samples, rate)
    n = len(energy)
    k = max(1, int(round(QUIET_WINDOW / FRAME)))
    quiet = np.log(np.convolve(energy, np.ones(k) / k, mode="same") + 1e-12)
    step = total / pieces
    per_s = 1.0 / FRAME
    cuts = [0.0]
    for i in range(1, pieces):
        ideal = i * step
        lo = max(int((ideal - reach) * per_s), int(cuts[-1] * per_s) + 1)
        hi = min(int((ideal + reach) * per_s) + 1, n - 1)
        frames = np.arange(lo, hi)
        if len(frames) == 0:
            continue
        j = frames[np.argmin(quiet[lo:hi] + 1e-3 * np.abs(frames * FRAME - ideal))]
        cuts.append(float(j) * FRAME)
    cuts.append(total)
    return cuts
