"""The upper face and the emotions: blinks, brow and eye micro-motion, emotion shaping.

Everything random comes from a seeded generator, so the same input gives the same face.
"""

from __future__ import annotations

import numpy as np

from ...config import RunConfig
from ...names import ARKIT_52, EMOTIONS
from .tables import EmotionTable

IDX = {n: i for i, n in enumerate(ARKIT_52)}
BLINK_MEAN = 3.5  # s between blinks (exponential), at least BLINK_MIN
BLINK_MIN = 1.2
EMOTION_TAU = 0.25  # s, smoothing of the requested emotions (the "smoothed output")


def blinks(times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0..1 blink curve: close in ~70 ms, hold 30 ms, open in ~150 ms."""
    out = np.zeros(len(times))
    if len(times) == 0:
        return out
    t = float(rng.uniform(0.4, 1.6))
    end = float(times[-1])
    while t < end:
        close, hold, open_ = 0.07, 0.03, 0.15
        x = times - t
        shape = np.where(
            (x >= 0) & (x < close), x / close,
            np.where((x >= close) & (x < close + hold), 1.0,
                     np.where((x >= close + hold) & (x < close + hold + open_),
                              1.0 - (x - close - hold) / open_, 0.0)),
        )
        out = np.maximum(out, np.sin(0.5 * np.pi * shape) ** 2)
        t += BLINK_MIN + float(rng.exponential(BLINK_MEAN - BLINK_MIN))
    return out


def _steps(times: np.ndarray, rng: np.random.Generator, amp: float, mean_gap: float) -> np.ndarray:
    """Piecewise-constant random targets (eye fixations) with quick 40 ms moves between them."""
    out = np.zeros(len(times))
    if len(times) == 0:
        return out
    t, value = 0.0, 0.0
    knots_t, knots_v = [0.0], [0.0]
    while t < times[-1]:
        t += 0.3 + float(rng.exponential(mean_gap))
        knots_t += [t, t + 0.04]
        knots_v += [value, (value := float(rng.normal(0.0, amp)))]
    return np.interp(times, knots_t, knots_v)


def upper_face(times: np.ndarray, energy: np.ndarray, seed: int, config: RunConfig) -> np.ndarray:
    """(frames, 52): blinks, eye saccades, brows following speech emphasis."""
    rng = np.random.default_rng(seed)
    w = np.zeros((len(times), len(ARKIT_52)))
    b = blinks(times, rng) * config.face("blinkStrength") + config.face("blinkOffset")
    w[:, IDX["eyeBlinkLeft"]] = b
    w[:, IDX["eyeBlinkRight"]] = b * 0.97
    # eyelid opening relative to the SDK default offset
    lid = config.face("eyelidOpenOffset") - 0.06
    if lid > 0:
        w[:, [IDX["eyeWideLeft"], IDX["eyeWideRight"]]] += lid
    else:
        w[:, [IDX["eyeBlinkLeft"], IDX["eyeBlinkRight"]]] += -lid
    # gaze: horizontal and vertical fixations; looking right = right eye out + left eye in
    h = _steps(times, rng, 0.08, 1.2)
    v = _steps(times, rng, 0.05, 1.6)
    for side, sign in (("Left", -1.0), ("Right", 1.0)):
        w[:, IDX[f"eyeLookOut{side}"]] = np.maximum(0.0, sign * h)
        w[:, IDX[f"eyeLookIn{side}"]] = np.maximum(0.0, -sign * h)
        w[:, IDX[f"eyeLookUp{side}"]] = np.maximum(0.0, v)
        w[:, IDX[f"eyeLookDown{side}"]] = np.maximum(0.0, -v)
    # brows rise a little on loudness onsets (emphasis)
    if len(energy) > 1:
        onset = np.maximum(0.0, np.diff(energy, prepend=energy[0]))
        k = np.exp(-np.arange(0, 30) / 9.0)  # ~150 ms decay at 60 fps
        rise = np.convolve(onset, k)[: len(onset)]
        rise = 0.18 * np.clip(rise / (np.percentile(rise, 98) + 1e-6), 0.0, 1.0)
        w[:, IDX["browInnerUp"]] = rise
        w[:, IDX["browOuterUpLeft"]] = rise * 0.7
        w[:, IDX["browOuterUpRight"]] = rise * 0.7
    return w


def _vector(values: dict[str, float]) -> np.ndarray:
    v = np.zeros(len(EMOTIONS))
    for k, x in values.items():
        if k in EMOTIONS:
            v[EMOTIONS.index(k)] = float(x)
    return v


def emotion_tracks(times: np.ndarray, config: RunConfig) -> tuple[np.ndarray, np.ndarray]:
    """(requested, smoothed) emotion values (frames, 10).

    Requested: the beginning emotion, replaced by each timeline key from its time code on.
    Smoothed: a causal one-pole follower (as a live stream would see it), keeping the
    ``max_emotions`` strongest, scaled by ``emotion_strength``.
    """
    req = np.tile(_vector(config.beginning_emotion), (len(times), 1))
    for key in sorted(config.emotion_timeline, key=lambda k: k.time_code):
        req[times >= key.time_code] = _vector(key.emotions)
    out = req.copy()
    if len(times) > 1:
        a = 1.0 - np.exp(-(times[1] - times[0]) / EMOTION_TAU)
        for i in range(1, len(out)):
            out[i] = out[i - 1] + a * (req[i] - out[i - 1])
    keep = int(config.post("max_emotions"))
    if keep < len(EMOTIONS):
        order = np.argsort(-out, axis=1)
        drop = order[:, keep:]
        np.put_along_axis(out, drop, 0.0, axis=1)
    out *= float(config.post("emotion_strength"))
    return req.astype(np.float32), np.clip(out, 0.0, 1.0).astype(np.float32)


def emotion_face(smoothed: np.ndarray, table: EmotionTable) -> np.ndarray:
    """(frames, 52) what the emotions add to the face."""
    return smoothed.astype(np.float64) @ table.matrix.astype(np.float64)
