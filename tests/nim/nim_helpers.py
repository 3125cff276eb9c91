"""Helpers shared by the NIM tests (a module of its own: `from conftest import ...` is ambiguous when
pytest collects several test folders that each have a conftest.py)."""

from __future__ import annotations

import numpy as np

from a2f_core.audio import Audio

TINY = "tiny_backend:TinyBackend"


def speechlike(seconds: float = 2.0, rate: int = 16000, seed: int = 1) -> Audio:
    """Syllable-like bursts of a harmonic tone with pauses (deterministic)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    voice = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 6))
    gate = (np.sin(2 * np.pi * 3.0 * t) > -0.2).astype(np.float64)
    x = 0.3 * voice * gate + 0.003 * rng.standard_normal(len(t))
    return Audio(x.astype(np.float32), rate, source=f"speechlike{seconds:g}s")
