"""Shared bits of the sdk backend tests (uniquely named: tests/ has no packages)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from a2f_core.audio import Audio

# The stand-in binding: NOT NVIDIA's SDK (see the docstrings in that folder).
STANDIN = Path(__file__).resolve().parent / "standin"


def burst_audio(rate: int = 44100, start: float = 0.5, end: float = 1.0, total: float = 1.5) -> Audio:
    """Silence, a loud 220 Hz burst from ``start`` to ``end`` s, silence: the jaw must open only in the burst."""
    t = np.arange(int(round(total * rate))) / rate
    x = np.where((t >= start) & (t < end), 0.5 * np.sin(2 * np.pi * 220 * t), 0.0).astype(np.float32)
    return Audio(x, rate, "burst.wav", rate, 1)
