"""The ``sdk`` backend: NVIDIA's Audio2Face-3D SDK on a local NVIDIA GPU, through a user-built Python binding.

NVIDIA ships no Python binding, so users build one (docs/sdk.md). This adapter expects this surface:

- a native module ``audio2face_py`` (PyBind11, wrapping the SDK's diffusion blendshape-solve bundle);
- a wrapper class ``Audio2FaceSDK(character_index=0, use_gpu_solver=False)`` whose ``process_audio(audio)``
  takes 16 kHz mono float32 numpy audio and returns a dict: ``blendshapes`` (frames x 52, NVIDIA order),
  ``timestamps`` (frames, seconds), ``fps``, ``duration``, ``num_frames``.

The wrapper class is looked up in the modules ``audio2face_sdk``, ``a2f_wrapper``, ``audio2face_py`` (first
that defines it). Optional extras, used only when present: a ``model_path`` constructor keyword (else the
wrapper reads ``$A2F_SDK_MODEL_PATH``, which is set before construction), ``set_face_params(dict)``,
``cuda_device_count()`` on the native module or wrapper class, result keys ``names`` (channel names) and
``emotions`` (frames x 10, A2F emotion order), class attribute ``emits_emotions``.

Nothing here was run against NVIDIA's SDK on a GPU; it is tested with a stand-in binding (tests/sdk/standin).
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import Audio
from ..clip import Clip, EmotionTrack
from ..config import FACE_PARAM_RANGES, RunConfig
from ..errors import A2FError, BackendError, ConfigError
from ..names import ARKIT_52, ARKIT_TONGUE_16, EMOTIONS, to_arkit
from .base import Availability, CancelToken, Capabilities, ProgressFn, report

SAMPLE_RATE = 16000
NATIVE_FPS = 60.0
NATIVE_MODULE = "audio2face_py"
WRAPPER_MODULES = ("audio2face_sdk", "a2f_wrapper", NATIVE_MODULE)
WRAPPER_CLASS = "Audio2FaceSDK"
ENV_BINDING = "A2F_SDK_BINDING_PATH"
ENV_MODEL = "A2F_SDK_MODEL_PATH"
# Identities of the multi-identity diffusion model (Audio2Face-3D-v3.0), in the order the SDK expects.
CHARACTER_INDEX = {"claire": 0, "james": 1, "mark": 2}
# The SDK's animator parameters; passed on only through the optional set_face_params() hook.
SDK_FACE_PARAMS = tuple(FACE_PARAM_RANGES)

_CUDA_HINTS = ("cuda", "cudart", "cublas", "nvinfer", "tensorrt", "audio2x", "dll load failed")
_PROC_GPUS = Path("/proc/driver/nvidia/gpus")
_DLL_DIRS: dict[str, Any] = {}
# Loaded wrappers: (class, model path, character index, GPU solver) -> instance. One native call at a time.
_LOADED: dict[tuple, Any] = {}
_RUN_LOCK = threading.Lock()  # Windows DLL directory handles, kept for the process lifetime


@dataclass
class _Probe:
    """What was found; ``problems`` lists each missing piece (empty = ready)."""

    problems: list[str]
    wrapper_cls: Any = None
    wrapper_module: str = ""
    native: Any = None
    model_path: Path | None = None


def _opt_path(value: str | os.PathLike | None, env: str) -> Path | None:
    """The option, else the environment variable; empty means unset."""
    raw = os.fspath(value).strip() if value is not None else ""
    raw = raw or os.environ.get(env, "").strip()
    return Path(raw).expanduser() if raw else None


def cuda_devices_from_system(
    nvidia_smi: str | None = None, proc_dir: Path = _PROC_GPUS, timeout: float = 5.0
) -> tuple[int, str]:
    """(device count, how it was found) without a GPU library: ``nvidia-smi -L``, then the Linux driver's /proc."""
    smi = nvidia_smi if nvidia_smi is not None else shutil.which("nvidia-smi")
    if smi:
        try:
            out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.SubprocessError) as e:
            return 0, f"nvidia-smi could not run ({e})"
        gpus = [ln for ln in out.stdout.splitlines() if ln.startswith("GPU ")]
        if gpus:
            return len(gpus), "nvidia-smi"
        detail = (out.stderr or out.stdout).strip().splitlines()
        return 0, f"nvidia-smi lists no GPU ({detail[0] if detail else f'exit code {out.returncode}'})"
    if proc_dir.is_dir():
        n = sum(1 for _ in proc_dir.iterdir())
        if n:
            return n, str(proc_dir)
    return 0, "no NVIDIA driver found (nvidia-smi is not on PATH and the driver reports no GPU)"


class SdkBackend:
    """Audio2Face-3D SDK (diffusion model, 60 fps) through a user-built Python binding."""

    name = "sdk"
    capabilities = Capabilities(
        label="NVIDIA A2F-3D SDK (local GPU)",
        description="NVIDIA's Audio2Face-3D SDK on this computer's NVIDIA GPU (CUDA + TensorRT), "
        "through a Python binding you build; diffusion model, 60 fps",
        needs_network=False,
        accepts_transcript=False,
        parallel=False,  # one GPU executor per instance
    )

    def __init__(
        self,
        binding_path: str | os.PathLike | None = None,
        model_path: str | os.PathLike | None = None,
        use_gpu_solver: bool = False,
    ):
        self.binding_path = _opt_path(binding_path, ENV_BINDING)
        self.model_path = _opt_path(model_path, ENV_MODEL)
        self.use_gpu_solver = bool(use_gpu_solver)
        self._devices: tuple[int, str] | None = None

    # --- detection ---------------------------------------------------------------------------
    def availability(self) -> Availability:
        try:
            probe = self._probe()
        except Exception as e:  # availability() never raises
            return Availability(False, f"Audio2Face-3D SDK binding check failed: {type(e).__name__}: {e}")
        if probe.problems:
            return Availability(False, "; ".join(probe.problems))
        where = getattr(probe.native, "__file__", None) or NATIVE_MODULE
        return Availability(True, f"binding {probe.wrapper_module}.{WRAPPER_CLASS} ({where}), model {probe.model_path}")

    def _probe(self) -> _Probe:
        problems: list[str] = []
        probe = _Probe(problems)
        if sys.platform == "darwin":
            problems.append("the Audio2Face-3D SDK runs only on Windows or Linux with an NVIDIA GPU")
        binding_ok = self._add_binding_path(problems)
        if binding_ok:
            self._find_binding(probe)
        self._check_model(probe)
        self._check_device(probe)
        return probe

    def _add_binding_path(self, problems: list[str]) -> bool:
        p = self.binding_path
        if p is None:
            return True
        if p.is_file():
            p = p.parent
        if not p.is_dir():
            problems.append(
                f"SDK binding folder '{p}' does not exist; set the binding path (add-on preferences "
                f"or ${ENV_BINDING}) to the folder holding {NATIVE_MODULE} and the wrapper"
            )
            return False
        entry = str(p.resolve())
        if entry not in sys.path:
            sys.path.insert(0, entry)
            importlib.invalidate_caches()
        if hasattr(os, "add_dll_directory") and entry not in _DLL_DIRS:  # Windows: audio2x.dll next to the module
            try:
                _DLL_DIRS[entry] = os.add_dll_directory(entry)
            except OSError:
                pass
        return True

    def _import(self, name: str) -> tuple[Any, str]:
        """(module or None, problem text or '')."""
        if name not in sys.modules:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError) as e:
                return None, f"{name}: {e}"
            if spec is None:
                return None, ""
        try:
            return importlib.import_module(name), ""
        except Exception as e:
            return None, f"{name} could not be imported ({type(e).__name__}: {e})"

    def _find_binding(self, probe: _Probe) -> None:
        native, err = self._import(NATIVE_MODULE)
        if native is None:
            probe.problems.append(self._native_problem(err))
        probe.native = native
        errors = []
        for mod_name in WRAPPER_MODULES:
            mod, werr = (native, "") if mod_name == NATIVE_MODULE else self._import(mod_name)
            if werr:
                errors.append(werr)
            cls = getattr(mod, WRAPPER_CLASS, None) if mod is not None else None
            if cls is not None:
                probe.wrapper_cls, probe.wrapper_module = cls, mod_name
                break
        if probe.wrapper_cls is None and native is not None:
            detail = f" ({'; '.join(errors)})" if errors else ""
            probe.problems.append(
                f"no Python wrapper class {WRAPPER_CLASS} found in module {', '.join(WRAPPER_MODULES)}{detail}; "
                f"put the wrapper (e.g. audio2face_sdk.py) next to {NATIVE_MODULE} (docs/sdk.md)"
            )

    def _native_problem(self, err: str) -> str:
        where = f"in '{self.binding_path}' or on sys.path" if self.binding_path else "on sys.path"
        if err:
            low = err.lower()
            hint = ""
            if any(h in low for h in _CUDA_HINTS):
                hint = (
                    "; its CUDA (>= 12.8) / TensorRT (>= 10.13) / audio2x libraries did not load: put their lib "
                    "folders on LD_LIBRARY_PATH (Linux) or PATH (Windows), or no CUDA device/driver is present"
                )
            return f"no usable Audio2Face-3D SDK binding: {err}{hint}"
        msg = f"no Audio2Face-3D SDK binding: module {NATIVE_MODULE} not found {where}"
        if self.binding_path is not None and self.binding_path.is_dir():
            others = sorted(f.name for f in self.binding_path.glob(f"{NATIVE_MODULE}*") if f.is_file())
            if others:
                py = f"{sys.version_info.major}.{sys.version_info.minor}"
                suffixes = ", ".join(importlib.machinery.EXTENSION_SUFFIXES)
                return (
                    f"{msg}: {', '.join(others)} does not match this Python {py} (expects {suffixes}); "
                    f"rebuild the binding with Python {py}"
                )
        return (
            f"{msg}; build the PyBind11 binding (docs/sdk.md) and set the binding path (add-on preferences "
            f"or ${ENV_BINDING})"
        )

    def _check_model(self, probe: _Probe) -> None:
        p = self.model_path
        if p is None:
            probe.problems.append(
                f"no SDK model path: set it (add-on preferences or ${ENV_MODEL}) to the diffusion "
                "model's model.json (Audio2Face-3D-v3.0 after the SDK's gen_testdata step)"
            )
        elif p.is_dir():
            if (p / "model.json").is_file():
                probe.model_path = p / "model.json"
            else:
                probe.problems.append(f"SDK model folder '{p}' holds no model.json; point the model path at model.json")
        elif p.is_file():
            probe.model_path = p
        else:
            probe.problems.append(f"SDK model path '{p}' does not exist; check the model path")

    def _check_device(self, probe: _Probe) -> None:
        if self._devices is None:
            self._devices = self._count_devices(probe)
        n, how = self._devices
        if n <= 0:
            probe.problems.append(f"no CUDA device: {how}; the SDK needs an NVIDIA GPU with a CUDA 12.8+ driver")

    def _count_devices(self, probe: _Probe) -> tuple[int, str]:
        for owner in (probe.native, probe.wrapper_cls):
            query = getattr(owner, "cuda_device_count", None) if owner is not None else None
            if callable(query):
                try:
                    return int(query()), "the binding reports no CUDA device"
                except Exception as e:
                    return 0, f"the binding's CUDA device query failed ({type(e).__name__}: {e})"
        return cuda_devices_from_system()

    # --- inference ---------------------------------------------------------------------------
    def infer(
        self,
        audio: Audio,
        config: RunConfig,
        *,
        transcript: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Clip:
        if cancel is not None:
            cancel.check()
        report(progress, 0.0, "Audio2Face-3D SDK: checking the binding")
        index = character_index(config.character)
        probe = self._probe()
        if probe.problems:
            raise BackendError("the sdk backend is not available: " + "; ".join(probe.problems))
        samples = np.ascontiguousarray(audio.resampled(SAMPLE_RATE).samples, dtype=np.float32).reshape(-1)
        report(progress, 0.05, "Audio2Face-3D SDK: loading the model")
        with _RUN_LOCK:
            sdk = self._instance(probe, index)
            face_passed = self._pass_face_params(sdk, config)
            if cancel is not None:
                cancel.check()
            report(progress, 0.1, "Audio2Face-3D SDK: running inference")
            try:
                result = sdk.process_audio(samples)
            except A2FError:
                raise
            except Exception as e:
                raise BackendError(f"the Audio2Face-3D SDK failed: {type(e).__name__}: {e}") from None
        if cancel is not None:
            cancel.check()
        report(progress, 0.9, "Audio2Face-3D SDK: converting the result")
        names = _result_names(result, sdk)
        clip = convert_result(result, names=names, audio_duration=len(samples) / SAMPLE_RATE)
        clip = clip.postprocess(config.bs_multipliers, config.bs_offsets, config.enable_clamping_bs_weight)
        clip.meta.update(
            backend=self.name,
            character=config.character,
            character_index=index,
            use_gpu_solver=self.use_gpu_solver,
            binding=f"{probe.wrapper_module}.{WRAPPER_CLASS}",
            model_path=str(probe.model_path),
            face_params_passed=face_passed,
            face_params_not_applied=[] if face_passed else list(SDK_FACE_PARAMS),
            transcript_used=False,
        )
        report(progress, 1.0, "Audio2Face-3D SDK: done")
        return clip

    def _instance(self, probe: _Probe, index: int) -> Any:
        """The loaded wrapper for this character, shared by all SdkBackend objects of the process (constructing one
        loads the TensorRT engines, which takes seconds and GPU memory)."""
        key = (probe.wrapper_cls, str(probe.model_path), index, self.use_gpu_solver)
        if key in _LOADED:
            return _LOADED[key]
        cls = probe.wrapper_cls
        kwargs: dict[str, Any] = {"character_index": index, "use_gpu_solver": self.use_gpu_solver}
        if _accepts(cls, "model_path"):
            kwargs["model_path"] = str(probe.model_path)
        os.environ[ENV_MODEL] = str(probe.model_path)  # for wrappers that read it themselves
        try:
            sdk = cls(**kwargs)
        except Exception as e:
            raise BackendError(
                f"the Audio2Face-3D SDK could not load model '{probe.model_path}' for character index {index}: "
                f"{type(e).__name__}: {e}"
            ) from None
        if not callable(getattr(sdk, "process_audio", None)):
            raise BackendError(f"{probe.wrapper_module}.{WRAPPER_CLASS} has no process_audio(audio) method")
        _LOADED[key] = sdk
        return sdk

    @staticmethod
    def _pass_face_params(sdk: Any, config: RunConfig) -> bool:
        setter = getattr(sdk, "set_face_params", None)
        if not callable(setter):
            return False
        params = {k: config.face(k) for k in SDK_FACE_PARAMS}
        try:
            setter(params)
        except Exception as e:
            raise BackendError(f"the SDK binding rejected the face parameters: {type(e).__name__}: {e}") from None
        return True


def unload_models() -> None:
    """Drop the loaded SDK models (e.g. when the add-on is disabled); the next run loads them again."""
    with _RUN_LOCK:
        _LOADED.clear()


def character_index(character: str) -> int:
    """The diffusion model's identity index for a character preset name."""
    key = (character or "").strip().lower()
    if key not in CHARACTER_INDEX:
        raise ConfigError(
            f"character '{character}' has no identity in the SDK's diffusion model; use one of: "
            f"{', '.join(CHARACTER_INDEX)} (a run-time YAML gets its character from its file name, "
            "e.g. claire_tuned.yml)"
        )
    return CHARACTER_INDEX[key]


def _accepts(cls: Any, param: str) -> bool:
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return False
    return any(p.name == param or p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values())


def _result_names(result: Any, sdk: Any) -> list[str] | None:
    if isinstance(result, Mapping) and result.get("names") is not None:
        return [str(n) for n in result["names"]]
    getter = getattr(sdk, "get_blendshape_names", None)
    if callable(getter):
        try:
            return [str(n) for n in getter()]
        except Exception:
            return None
    return None


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _array(result: Mapping, key: str, ndim: int) -> np.ndarray:
    try:
        arr = np.asarray(result[key], dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise BackendError(f"SDK result '{key}' is not numeric: {e}") from None
    if arr.ndim != ndim:
        raise BackendError(f"SDK result '{key}' has shape {arr.shape}; expected {ndim} dimension(s)")
    if not np.all(np.isfinite(arr)):
        raise BackendError(f"SDK result '{key}' contains NaN or infinite values")
    return arr


def convert_result(result: Any, *, names: list[str] | None = None, audio_duration: float | None = None) -> Clip:
    """Check an SDK result dict and turn it into a Clip (ARKit names in NVIDIA's order; tongue kept if present)."""
    if not isinstance(result, Mapping):
        raise BackendError(f"SDK process_audio() returned {type(result).__name__}; expected a dict")
    missing = [k for k in ("blendshapes", "timestamps") if k not in result]
    if missing:
        raise BackendError(f"SDK result lacks {', '.join(missing)} (keys: {', '.join(map(str, result)) or 'none'})")
    w = _array(result, "blendshapes", 2)
    t = _array(result, "timestamps", 1)
    n, k = w.shape
    if n == 0:
        raise BackendError("SDK result holds no frames; the audio may be too short for the model")
    if len(t) != n:
        raise BackendError(f"SDK result has {n} blendshape frames but {len(t)} timestamps")
    if "num_frames" in result and _as_int(result["num_frames"]) != n:
        raise BackendError(f"SDK result says num_frames={result['num_frames']!r} but holds {n} frames")
    if n > 1 and not np.all(np.diff(t) > 0):
        raise BackendError("SDK result timestamps are not increasing")
    try:
        fps = float(result.get("fps", NATIVE_FPS))
    except (TypeError, ValueError):
        fps = float("nan")
    if not np.isfinite(fps) or fps <= 0:
        raise BackendError(f"SDK result fps is {result.get('fps')!r}; expected a positive number (60)")

    default = list(ARKIT_52) + (list(ARKIT_TONGUE_16) if k == 68 else [])
    if names is None:
        if k not in (52, 68):
            raise BackendError(f"SDK result 'blendshapes' has {k} columns per frame; expected 52 (or 68 with tongue)")
        names = default
    elif len(names) != k:
        raise BackendError(f"SDK reports {len(names)} channel names but 'blendshapes' has {k} columns")
    known = set(ARKIT_52) | set(ARKIT_TONGUE_16)
    arkit = [to_arkit(x) for x in names]
    absent = [x for x in ARKIT_52 if x not in arkit]
    if absent:
        raise BackendError(f"SDK result lacks {len(absent)} of the 52 ARKit channels: {', '.join(absent[:6])}")
    keep = [i for i, x in enumerate(arkit) if x in known]
    order = list(ARKIT_52) + [x for x in ARKIT_TONGUE_16 if x in arkit]
    raw = Clip([arkit[i] for i in keep], t, w[:, keep].astype(np.float32), fps)
    clip = raw.select(order)
    clip.meta = {
        "native_fps": fps,
        "sdk_duration": float(result.get("duration", t[-1])),
        "audio_duration": audio_duration,
        "dropped_channels": [arkit[i] for i in range(k) if i not in keep],
    }
    emo = result.get("emotions")
    if emo is not None:
        clip.output_emotions = _emotions(emo, t)
    return clip


def _emotions(emo: Any, times: np.ndarray) -> EmotionTrack:
    if isinstance(emo, Mapping):
        unknown = sorted(set(map(str, emo)) - set(EMOTIONS))
        if unknown:
            raise BackendError(f"SDK result emotions has unknown names: {', '.join(unknown)}")
        cols = [np.asarray(emo.get(e, np.zeros(len(times))), dtype=np.float64).reshape(-1) for e in EMOTIONS]
        if any(len(c) != len(times) for c in cols):
            raise BackendError(f"SDK result emotions do not have one value per frame ({len(times)})")
        values = np.stack(cols, axis=1)
    else:
        values = np.asarray(emo, dtype=np.float64)
        if values.shape != (len(times), len(EMOTIONS)):
            raise BackendError(
                f"SDK result 'emotions' has shape {values.shape}; expected ({len(times)} frames, {len(EMOTIONS)})"
            )
    if not np.all(np.isfinite(values)):
        raise BackendError("SDK result 'emotions' contains NaN or infinite values")
    return EmotionTrack(list(EMOTIONS), times, values.astype(np.float32))
