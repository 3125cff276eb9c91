"""The clip: what every backend returns and every writer consumes.

Channels carry ARKit camelCase names (see names.py), times are seconds from the start of the
audio, weights are float32 [frames x channels]. Emotion tracks travel with the clip.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

import numpy as np

from .errors import FormatError
from .names import to_arkit


def frame_count(duration: float, fps: float) -> int:
    """Frames at t = i/fps covering [0, duration] (frame 0 = audio start)."""
    return int(np.floor(duration * fps + 1e-6)) + 1


def frame_times(n: int, fps: float) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / float(fps)


@dataclass
class EmotionTrack:
    """Emotion values over time (``names`` are A2F emotion names)."""

    names: list[str]
    times: np.ndarray  # (T,) seconds
    values: np.ndarray  # (T, E) float32

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        self.values = np.asarray(self.values, dtype=np.float32).reshape(len(self.times), len(self.names))

    def at(self, t: float) -> dict[str, float]:
        """Values at time t (linear interpolation, held at the ends)."""
        if len(self.times) == 0:
            return {n: 0.0 for n in self.names}
        return {n: float(np.interp(t, self.times, self.values[:, i])) for i, n in enumerate(self.names)}


@dataclass
class Clip:
    names: list[str]
    times: np.ndarray
    weights: np.ndarray
    fps: float
    input_emotions: EmotionTrack | None = None
    output_emotions: EmotionTrack | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = [to_arkit(n) for n in self.names]
        self.times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        self.weights = np.asarray(self.weights, dtype=np.float32)
        if self.weights.ndim != 2 or self.weights.shape != (len(self.times), len(self.names)):
            raise FormatError(
                f"clip weights have shape {self.weights.shape}; expected ({len(self.times)} frames, "
                f"{len(self.names)} channels)"
            )
        if len(set(self.names)) != len(self.names):
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise FormatError(f"clip has duplicate channel names: {', '.join(dup)}")
        if self.fps <= 0:
            raise FormatError(f"clip fps must be positive, got {self.fps}")

    # --- shape -----------------------------------------------------------------------------
    @property
    def n_frames(self) -> int:
        return len(self.times)

    @property
    def duration(self) -> float:
        return float(self.times[-1]) if len(self.times) else 0.0

    def index(self, name: str) -> int:
        return self.names.index(to_arkit(name))

    def channel(self, name: str) -> np.ndarray:
        return self.weights[:, self.index(name)]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {n: self.weights[:, i] for i, n in enumerate(self.names)}

    # --- transforms (each returns a new Clip) ------------------------------------------------
    def resample(self, fps: float, duration: float | None = None) -> Clip:
        """Linear interpolation in time onto frames at i/fps covering [0, duration]."""
        if duration is None:
            duration = self.duration
        n = frame_count(duration, fps)
        t = frame_times(n, fps)
        if self.n_frames == 0:
            w = np.zeros((n, len(self.names)), np.float32)
        elif self.n_frames == 1:
            w = np.repeat(self.weights, n, axis=0)
        else:
            w = np.empty((n, len(self.names)), np.float32)
            for i in range(len(self.names)):
                w[:, i] = np.interp(t, self.times, self.weights[:, i])
        return replace(self, times=t, weights=w, fps=float(fps), meta=dict(self.meta))

    def postprocess(
        self,
        multipliers: Mapping[str, float] | None = None,
        offsets: Mapping[str, float] | None = None,
        clamp: bool = False,
    ) -> Clip:
        """The NIM's blendshape post-processing: out = raw * multiplier + offset, optional clamp to [0, 1].

        Keys may be PascalCase (YAML) or camelCase; channels not named keep multiplier 1, offset 0.
        """
        mul = np.ones(len(self.names), np.float32)
        off = np.zeros(len(self.names), np.float32)
        lookup = {n: i for i, n in enumerate(self.names)}
        for src, arr in ((multipliers, mul), (offsets, off)):
            for k, v in (src or {}).items():
                i = lookup.get(to_arkit(k))
                if i is not None:
                    arr[i] = float(v)
        w = self.weights * mul + off
        if clamp:
            np.clip(w, 0.0, 1.0, out=w)
        return replace(self, weights=w.astype(np.float32), meta=dict(self.meta))

    def select(self, names: Sequence[str]) -> Clip:
        """Only ``names`` in that order; missing channels are zeros."""
        out = np.zeros((self.n_frames, len(names)), np.float32)
        lookup = {n: i for i, n in enumerate(self.names)}
        for j, n in enumerate(names):
            i = lookup.get(to_arkit(n))
            if i is not None:
                out[:, j] = self.weights[:, i]
        return replace(self, names=list(names), weights=out, meta=dict(self.meta))

    def shifted(self, seconds: float) -> Clip:
        return replace(self, times=self.times + seconds, meta=dict(self.meta))
