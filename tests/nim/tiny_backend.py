"""A tiny deterministic backend for protocol tests (real audio in, loudness-driven curves out).

It exists so the protocol tests do not depend on speech recognition; the comparison with the bundled
backend is in test_nim_vs_local.py.
"""

from __future__ import annotations

import time

import numpy as np

from a2f_core.backends.base import Availability, Capabilities
from a2f_core.clip import Clip, EmotionTrack, frame_count, frame_times
from a2f_core.names import ARKIT_52, EMOTIONS


class TinyBackend:
    name = "tiny"
    # `a2f serve` may run it in several stream threads at once
    capabilities = Capabilities(label="tiny", description="test backend", parallel=True)

    def __init__(self, delay: float = 0.0, cheek: float = 0.0):
        self.delay = delay
        self.cheek = cheek  # cheekPuff for every frame: tells which options a server used

    def availability(self) -> Availability:
        return Availability(True)

    def infer(self, audio, config, *, transcript=None, progress=None, cancel=None) -> Clip:
        deadline = time.monotonic() + self.delay
        while time.monotonic() < deadline:
            if cancel is not None:
                cancel.check()
            time.sleep(0.01)
        fps = 60.0
        n = frame_count(audio.duration, fps)
        t = frame_times(n, fps)
        hop = audio.rate / fps
        x = audio.samples
        env = np.array(
            [float(np.sqrt(np.mean(x[min(int(i * hop), len(x) - 1) : int((i + 1) * hop) + 1] ** 2) + 1e-12)) for i in range(n)],
            np.float32,
        )
        env = env / max(1e-6, float(env.max()))
        w = np.zeros((n, len(ARKIT_52)), np.float32)
        w[:, ARKIT_52.index("jawOpen")] = env
        w[:, ARKIT_52.index("mouthClose")] = 1.0 - env
        w[:, ARKIT_52.index("browInnerUp")] = 0.5 * np.sin(t) ** 2
        w[:, ARKIT_52.index("eyeBlinkLeft")] = config.face("lowerFaceStrength") / 2.0
        w[:, ARKIT_52.index("cheekPuff")] = self.cheek
        clip = Clip(list(ARKIT_52), t, w, fps, meta={"backend": "tiny"})
        clip = clip.postprocess(config.bs_multipliers, config.bs_offsets, config.enable_clamping_bs_weight)
        keys = config.emotion_timeline
        if keys:
            et = np.array([k.time_code for k in keys])
            ev = np.array([[k.emotions.get(e, 0.0) for e in EMOTIONS] for k in keys], np.float32)
            clip.input_emotions = EmotionTrack(list(EMOTIONS), et, ev)
            ot = np.arange(0.0, audio.duration, 0.25)
            ov = np.array([[np.interp(tt, et, ev[:, j]) * 0.6 for j in range(len(EMOTIONS))] for tt in ot], np.float32)
            clip.output_emotions = EmotionTrack(list(EMOTIONS), ot, ov)
        return clip


def local_in_fresh_process(audio, config):
    """The bundled backend's first inference in a new process (its decoder keeps state between calls)."""
    from a2f_core.backends import get

    return get("local", workers=1).infer(audio, config)


class ExplodingBackend(TinyBackend):
    """A backend with a bug (raises a non-A2FError)."""

    def infer(self, audio, config, **kw):
        raise ZeroDivisionError("oops")
