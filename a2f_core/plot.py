"""`a2f infer --plot`: key mouth / eye / brow curves over the waveform, as a PNG.

matplotlib is imported lazily (only when a plot is asked for) with the Agg backend: no display needed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .audio import Audio
from .clip import Clip
from .errors import A2FError

MOUTH = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthSmileLeft", "mouthPressLeft", "mouthRollLower")
EYES_BROWS = ("eyeBlinkLeft", "eyeBlinkRight", "eyeWideLeft", "eyeSquintLeft", "browInnerUp", "browDownLeft", "browOuterUpLeft")


def envelope(audio: Audio, points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """(times, peak |amplitude| normalised to 0..1) in at most ``points`` bins."""
    x = np.abs(np.asarray(audio.samples, np.float32))
    n = len(x)
    if n == 0:
        return np.zeros(1), np.zeros(1)
    bins = max(1, min(points, n))
    edges = np.linspace(0, n, bins + 1).astype(int)
    peaks = np.maximum.reduceat(x, edges[:-1])
    peak = float(peaks.max()) or 1.0
    return (edges[:-1] + edges[1:]) / 2.0 / audio.rate, peaks / peak


def plot_curves(path: str | os.PathLike, clip: Clip, audio: Audio | None = None, *, title: str = "") -> Path:
    """Write a PNG with two panels (mouth; eyes and brows) of ``clip``'s key channels over the waveform."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except ImportError:
        raise A2FError("--plot needs matplotlib; install it with `pip install matplotlib`") from None

    p = Path(path)
    fig, axes = plt.subplots(2, 1, figsize=(13, 6.5), sharex=True, constrained_layout=True)
    env = envelope(audio) if audio is not None else None
    for ax, group, label in ((axes[0], MOUTH, "mouth"), (axes[1], EYES_BROWS, "eyes and brows")):
        if env is not None:
            ax.fill_between(env[0], 0, env[1], color="0.85", lw=0, label="waveform")
        for name in group:
            if name in clip.names:
                ax.plot(clip.times, clip.channel(name), lw=1.3, label=name)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(f"{label} weight")
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    axes[-1].set_xlabel("time (s)")
    end = clip.duration if env is None else max(clip.duration, float(env[0][-1]))
    axes[-1].set_xlim(0, max(end, 1e-3))
    if title:
        fig.suptitle(title, fontsize=10)
    try:
        with atomic_path(p) as tmp:
            fig.savefig(tmp, dpi=100)
    finally:
        plt.close(fig)
    return p
