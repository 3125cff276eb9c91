"""STAND-IN for the Python wrapper class ``Audio2FaceSDK`` users write around NVIDIA's Audio2Face-3D SDK.

This is NOT NVIDIA's SDK: no GPU inference happens here (see audio2face_py.py in this folder). It
follows the documented surface exactly: ``Audio2FaceSDK(character_index=0, use_gpu_solver=False)``,
``process_audio(audio)`` -> dict ``blendshapes`` (frames x 52), ``timestamps``, ``fps``, ``duration``,
``num_frames``; the model path comes from $A2F_SDK_MODEL_PATH.

A2F_STANDIN_EXTRAS (comma list, read at import) adds the optional extras the backend uses when present:
``face_params`` (set_face_params), ``emotions`` (result key + emits_emotions), ``names`` (result key,
channels listed in reverse order to prove the backend maps by name). A2F_STANDIN_RESULT breaks the
result in one way per value (see process_audio).
"""

from __future__ import annotations

import os

import audio2face_py
import numpy as np

EXTRAS = {x.strip() for x in os.environ.get("A2F_STANDIN_EXTRAS", "").split(",") if x.strip()}
NVIDIA_52 = (
    "EyeBlinkLeft EyeLookDownLeft EyeLookInLeft EyeLookOutLeft EyeLookUpLeft EyeSquintLeft EyeWideLeft "
    "EyeBlinkRight EyeLookDownRight EyeLookInRight EyeLookOutRight EyeLookUpRight EyeSquintRight EyeWideRight "
    "JawForward JawLeft JawRight JawOpen MouthClose MouthFunnel MouthPucker MouthLeft MouthRight MouthSmileLeft "
    "MouthSmileRight MouthFrownLeft MouthFrownRight MouthDimpleLeft MouthDimpleRight MouthStretchLeft "
    "MouthStretchRight MouthRollLower MouthRollUpper MouthShrugLower MouthShrugUpper MouthPressLeft "
    "MouthPressRight MouthLowerDownLeft MouthLowerDownRight MouthUpperUpLeft MouthUpperUpRight BrowDownLeft "
    "BrowDownRight BrowInnerUp BrowOuterUpLeft BrowOuterUpRight CheekPuff CheekSquintLeft CheekSquintRight "
    "NoseSneerLeft NoseSneerRight TongueOut"
).split()


class Audio2FaceSDK:
    emits_emotions = "emotions" in EXTRAS

    def __init__(self, character_index: int = 0, use_gpu_solver: bool = False):
        self.bundle = audio2face_py.BlendshapeModel(
            os.environ.get("A2F_SDK_MODEL_PATH", ""), character_index, use_gpu_solver, False
        )
        self.fps = self.bundle.get_fps()
        if "face_params" in EXTRAS:
            self.set_face_params = self._set_face_params

    def _set_face_params(self, params: dict) -> None:
        self.bundle.face_params = dict(params)

    def process_audio(self, audio: np.ndarray) -> dict:
        audio = np.asarray(audio)
        if audio.dtype != np.float32 or audio.ndim != 1:
            raise TypeError(f"expected 1-D float32 audio, got {audio.dtype} {audio.shape}")
        w = self.bundle.process_audio(audio)
        n = w.shape[0]
        t = np.arange(n) / self.fps
        out = {"blendshapes": w, "timestamps": t, "fps": self.fps, "duration": float(t[-1]), "num_frames": n}
        if "emotions" in EXTRAS:
            emo = np.zeros((n, 10), np.float32)
            emo[:, 6] = np.linspace(0.0, 1.0, n)  # joy rises over the clip
            out["emotions"] = emo
        if "names" in EXTRAS:
            out["names"] = NVIDIA_52[::-1]
            out["blendshapes"] = w[:, ::-1]
        mode = os.environ.get("A2F_STANDIN_RESULT", "")
        if mode == "cols51":
            out["blendshapes"] = w[:, :51]
        elif mode == "flat":
            out["blendshapes"] = w.reshape(-1)
        elif mode == "nan":
            w[n // 2, 3] = np.nan
        elif mode == "short_timestamps":
            out["timestamps"] = t[:-1]
        elif mode == "no_frames":
            out["blendshapes"], out["timestamps"], out["num_frames"] = w[:0], t[:0], 0
        elif mode == "not_dict":
            return w  # type: ignore[return-value]
        elif mode == "no_timestamps":
            del out["timestamps"]
        elif mode == "unsorted":
            out["timestamps"] = t[::-1].copy()
        elif mode == "num_frames":
            out["num_frames"] = n + 5
        elif mode == "bad_fps":
            out["fps"] = 0
        return out
