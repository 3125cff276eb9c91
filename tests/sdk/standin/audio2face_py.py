"""STAND-IN for a user-built PyBind11 module ``audio2face_py`` of NVIDIA's Audio2Face-3D SDK.

This is NOT NVIDIA's SDK and runs no model, no CUDA and no TensorRT. It only follows the Python
surface the sdk backend expects (docs/sdk.md), so the adapter can be tested at its boundary.
Its output is a deterministic function of the audio: column j holds 0.01 * j, except jawOpen,
which follows the audio's loudness. Knobs (environment variables, read at import or call time):

- A2F_STANDIN_IMPORT_ERROR: importing raises ImportError with this text (a binding whose libraries fail).
- A2F_STANDIN_CUDA_DEVICES: defines the optional ``cuda_device_count()`` returning this number.
- A2F_STANDIN_RESULT: what the model returns (see ``_shape_mode``); default a normal result.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

if os.environ.get("A2F_STANDIN_IMPORT_ERROR"):
    raise ImportError(os.environ["A2F_STANDIN_IMPORT_ERROR"])

SAMPLE_RATE = 16000
FPS = 60
JAW_OPEN = 17  # column of JawOpen in NVIDIA's order

# Every call made to the stand-in, for tests to inspect.
CALLS: list[dict] = []

if "A2F_STANDIN_CUDA_DEVICES" in os.environ:

    def cuda_device_count() -> int:
        return int(os.environ["A2F_STANDIN_CUDA_DEVICES"])


class BlendshapeModel:
    """Stands in for the SDK's diffusion blendshape-solve executor bundle (one track)."""

    def __init__(self, model_path: str, character_index: int = 0, use_gpu_solver: bool = False,
                 constant_noise: bool = False):
        try:
            json.loads(Path(model_path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise RuntimeError(f"Failed to create executor bundle from model: {model_path} ({e})") from None
        self.model_path = model_path
        self.character_index = character_index
        self.use_gpu_solver = use_gpu_solver
        self.face_params: dict[str, float] = {}
        self.tongue = os.environ.get("A2F_STANDIN_RESULT") == "tongue"
        CALLS.append({"call": "init", "model_path": model_path, "character_index": character_index,
                      "use_gpu_solver": use_gpu_solver})

    def get_num_blendshapes(self) -> int:
        return 68 if self.tongue else 52

    def get_fps(self) -> int:
        return FPS

    def process_audio(self, audio: np.ndarray) -> np.ndarray:
        CALLS.append({"call": "process_audio", "n_samples": int(audio.shape[0]), "dtype": str(audio.dtype),
                      "ndim": audio.ndim, "character_index": self.character_index,
                      "face_params": dict(self.face_params)})
        if os.environ.get("A2F_STANDIN_RESULT") == "raise":
            raise RuntimeError("CUDA error 700: an illegal memory access was encountered")
        n = len(audio) * FPS // SAMPLE_RATE + 1
        k = self.get_num_blendshapes()
        w = np.tile(np.arange(k, dtype=np.float32) * 0.01, (n, 1))
        half = SAMPLE_RATE // FPS
        for i in range(n):
            c = i * SAMPLE_RATE // FPS
            seg = audio[max(0, c - half): c + half]
            rms = float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) if len(seg) else 0.0
            w[i, JAW_OPEN] = min(1.0, 2.0 * rms * self.face_params.get("lowerFaceStrength", 1.0))
        return w
