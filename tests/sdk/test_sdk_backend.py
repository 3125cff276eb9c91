"""The sdk backend at its boundary, with a stand-in binding (tests/sdk/standin: NOT NVIDIA's SDK).

These tests check detection, error messages, conversion, timing, name order, parameters, character
mapping and cancellation. No GPU inference is tested here: none of our machines has an NVIDIA GPU.
"""

from __future__ import annotations

import os
import stat
import sys

import numpy as np
import pytest
from sdk_helpers import STANDIN, burst_audio

from a2f_core import backends
from a2f_core.backends.base import CancelToken
from a2f_core.backends.sdk import (
    SDK_FACE_PARAMS,
    SdkBackend,
    character_index,
    cuda_devices_from_system,
    unload_models,
)
from a2f_core.config import RunConfig
from a2f_core.errors import BackendError, Cancelled, ConfigError
from a2f_core.names import ARKIT_52, ARKIT_TONGUE_16, EMOTIONS


def make(model_json, **kw) -> SdkBackend:
    return SdkBackend(binding_path=kw.pop("binding_path", STANDIN), model_path=kw.pop("model_path", model_json), **kw)


def infer(backend: SdkBackend, config: RunConfig | None = None, **kw):
    return backend.infer(burst_audio(), config or RunConfig(character="claire"), **kw)


# --- availability: one clear reason per missing piece -------------------------------------------
def test_available_with_binding_model_and_device(model_json):
    a = make(model_json).availability()
    assert a.ok, a.reason
    assert "audio2face_sdk.Audio2FaceSDK" in a.reason and str(model_json) in a.reason


def test_registry_builds_the_backend_with_its_options(model_json):
    b = backends.get("sdk", binding_path=str(STANDIN), model_path=str(model_json), use_gpu_solver=True)
    assert not b.capabilities.parallel and b.capabilities.parameters is None
    assert b.capabilities.label == "NVIDIA A2F-3D SDK (local GPU)"
    assert backends.available(sdk={"binding_path": str(STANDIN), "model_path": str(model_json)})["sdk"].ok


def test_environment_variables_configure_binding_and_model(model_json, monkeypatch):
    monkeypatch.setenv("A2F_SDK_BINDING_PATH", str(STANDIN))
    monkeypatch.setenv("A2F_SDK_MODEL_PATH", str(model_json.parent))  # the folder holding model.json works too
    a = SdkBackend().availability()
    assert a.ok, a.reason
    assert SdkBackend(binding_path="", model_path="").availability().ok  # empty add-on fields: the environment


def test_no_module_names_the_folder_and_what_to_do(model_json, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    a = make(model_json, binding_path=empty).availability()
    assert not a.ok
    assert "module audio2face_py not found" in a.reason and str(empty) in a.reason
    assert "A2F_SDK_BINDING_PATH" in a.reason


def test_missing_binding_folder(model_json, tmp_path):
    a = make(model_json, binding_path=tmp_path / "nope").availability()
    assert not a.ok and f"SDK binding folder '{tmp_path / 'nope'}' does not exist" in a.reason


def test_binding_built_for_another_python_is_named(model_json, tmp_path):
    (tmp_path / "audio2face_py.cpython-39-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    a = make(model_json, binding_path=tmp_path).availability()
    assert not a.ok
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "audio2face_py.cpython-39-x86_64-linux-gnu.so does not match this Python " + py in a.reason


def test_import_error_text_is_shown_with_a_library_hint(model_json, monkeypatch):
    monkeypatch.setenv("A2F_STANDIN_IMPORT_ERROR", "libcudart.so.12: cannot open shared object file")
    a = make(model_json).availability()
    assert not a.ok
    assert "libcudart.so.12: cannot open shared object file" in a.reason
    assert "LD_LIBRARY_PATH" in a.reason


def test_missing_wrapper_class(model_json, tmp_path):
    (tmp_path / "audio2face_py.py").write_text("def cuda_device_count():\n    return 1\n")
    a = make(model_json, binding_path=tmp_path).availability()
    assert not a.ok and "no Python wrapper class Audio2FaceSDK" in a.reason


def test_no_cuda_device_reported_by_the_binding(model_json, monkeypatch):
    monkeypatch.setenv("A2F_STANDIN_CUDA_DEVICES", "0")
    a = make(model_json).availability()
    assert not a.ok and a.reason.startswith("no CUDA device: the binding reports no CUDA device")


@pytest.mark.parametrize(
    "which, expected",
    [
        (None, "no SDK model path"),
        ("missing", "does not exist"),
        ("folder", "holds no model.json"),
    ],
)
def test_model_path_problems(tmp_path, which, expected):
    model = {None: None, "missing": tmp_path / "gone" / "model.json", "folder": tmp_path}[which]
    a = SdkBackend(binding_path=STANDIN, model_path=model).availability()
    assert not a.ok and expected in a.reason
    if which is None:
        assert "A2F_SDK_MODEL_PATH" in a.reason
    else:
        assert str(model) in a.reason


def test_every_missing_piece_is_listed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    a = SdkBackend(binding_path=tmp_path, model_path=None).availability()
    assert not a.ok
    assert "module audio2face_py not found" in a.reason and "no SDK model path" in a.reason
    if not (os.path.isdir("/proc/driver/nvidia/gpus") and os.listdir("/proc/driver/nvidia/gpus")):
        assert "no CUDA device" in a.reason


# --- CUDA device detection without a GPU library -----------------------------------------------
def _script(path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as nvidia-smi")
def test_device_probe_reads_nvidia_smi(tmp_path):
    smi = _script(tmp_path / "nvidia-smi", 'echo "GPU 0: NVIDIA RTX A6000 (UUID: GPU-0000)"\n')
    assert cuda_devices_from_system(smi, tmp_path / "none") == (1, "nvidia-smi")
    broken = _script(
        tmp_path / "smi2", "echo \"NVIDIA-SMI has failed because it couldn't communicate with the driver\"\nexit 9\n"
    )
    n, how = cuda_devices_from_system(broken, tmp_path / "none")
    assert n == 0 and "couldn't communicate with the driver" in how


def test_device_probe_without_driver(tmp_path):
    n, how = cuda_devices_from_system("", tmp_path / "none")
    assert n == 0 and "nvidia-smi is not on PATH" in how
    (tmp_path / "gpus" / "0000:01:00.0").mkdir(parents=True)
    assert cuda_devices_from_system("", tmp_path / "gpus")[0] == 1


@pytest.mark.skipif(sys.platform == "win32", reason="uses a POSIX shell script as nvidia-smi")
def test_documented_minimal_surface_with_system_device_probe(model_json, tmp_path, monkeypatch, standin):
    """No optional extras at all: device found through nvidia-smi, model path through the environment."""
    monkeypatch.delenv("A2F_STANDIN_CUDA_DEVICES")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _script(bindir / "nvidia-smi", 'echo "GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-1111)"\n')
    monkeypatch.setenv("PATH", str(bindir))
    b = make(model_json)
    assert b.availability().ok
    clip = infer(b)
    assert clip.names == list(ARKIT_52)
    assert not hasattr(standin(), "cuda_device_count")
    assert standin().CALLS[0]["model_path"] == str(model_json)


# --- conversion, timing, names --------------------------------------------------------------------
def test_clip_has_nvidia_order_60fps_and_timestamps(model_json, standin):
    clip = infer(make(model_json))
    assert clip.names == list(ARKIT_52)
    assert clip.fps == 60.0
    n = int(1.5 * 60) + 1
    assert clip.n_frames == n
    np.testing.assert_allclose(clip.times, np.arange(n) / 60.0)
    # column j of the stand-in holds 0.01 * j: each name got its own column
    for j, name in enumerate(ARKIT_52):
        if name != "jawOpen":
            np.testing.assert_allclose(clip.channel(name), 0.01 * j, atol=1e-6)
    assert clip.meta["backend"] == "sdk" and clip.meta["binding"] == "audio2face_sdk.Audio2FaceSDK"
    assert clip.output_emotions is None


def test_audio_is_resampled_to_16k_mono_float32(model_json, standin):
    infer(make(model_json))
    call = [c for c in standin().CALLS if c["call"] == "process_audio"][0]
    assert call["n_samples"] == 1.5 * 16000
    assert call["dtype"] == "float32" and call["ndim"] == 1


def test_jaw_opens_only_while_there_is_sound(model_json):
    clip = infer(make(model_json))
    jaw = clip.channel("jawOpen")
    open_t = clip.times[jaw > 0.2]
    assert open_t.min() == pytest.approx(0.5, abs=1.5 / 60)
    assert open_t.max() == pytest.approx(1.0, abs=1.5 / 60)
    assert jaw[clip.times < 0.45].max() < 0.01 and jaw[clip.times > 1.05].max() < 0.01


def test_binding_channel_names_are_mapped_by_name(model_json, monkeypatch):
    monkeypatch.setenv("A2F_STANDIN_EXTRAS", "names")  # stand-in lists its channels in reverse order
    clip = infer(make(model_json))
    assert clip.names == list(ARKIT_52)
    np.testing.assert_allclose(clip.channel("browInnerUp"), 0.01 * ARKIT_52.index("browInnerUp"), atol=1e-6)


def test_tongue_channels_follow_the_52(model_json, monkeypatch):
    monkeypatch.setenv("A2F_STANDIN_RESULT", "tongue")
    clip = infer(make(model_json))
    assert clip.names == list(ARKIT_52) + list(ARKIT_TONGUE_16)
    np.testing.assert_allclose(clip.channel("tongueNarrow"), 0.67, atol=1e-6)


def test_emotions_when_the_binding_provides_them(model_json, monkeypatch):
    monkeypatch.setenv("A2F_STANDIN_EXTRAS", "emotions")
    b = make(model_json)
    assert b.availability().ok
    clip = infer(b)
    emo = clip.output_emotions
    assert emo is not None and emo.names == list(EMOTIONS)
    assert emo.values.shape == (clip.n_frames, 10)
    assert emo.at(0.0)["joy"] == pytest.approx(0.0) and emo.at(clip.duration)["joy"] == pytest.approx(1.0)


# --- parameters and character ---------------------------------------------------------------------
def test_multipliers_offsets_and_clamp_are_applied(model_json):
    cfg = RunConfig(
        character="claire",
        bs_multipliers={"JawOpen": 0.5, "EyeBlinkLeft": 3.0, "BrowInnerUp": 2.0},
        bs_offsets={"TongueOut": 0.7, "MouthClose": -0.5},
        enable_clamping_bs_weight=True,
    )
    plain = infer(make(model_json))
    clip = infer(make(model_json), cfg)
    np.testing.assert_allclose(clip.channel("jawOpen"), 0.5 * plain.channel("jawOpen"), atol=1e-6)
    np.testing.assert_allclose(clip.channel("browInnerUp"), 2.0 * 0.43, atol=1e-6)
    np.testing.assert_allclose(clip.channel("tongueOut"), 1.0)  # 0.51 + 0.7 clamped
    np.testing.assert_allclose(clip.channel("mouthClose"), 0.0)  # 0.18 - 0.5 clamped
    unclamped = infer(make(model_json), RunConfig(bs_offsets={"TongueOut": 0.7}))
    np.testing.assert_allclose(unclamped.channel("tongueOut"), 1.21, atol=1e-6)


def test_shipped_character_preset_drives_identity_and_multipliers(model_json, standin):
    from a2f_core import presets

    cfg = presets.load_character("james")
    clip = infer(make(model_json), cfg)
    assert standin().CALLS[0]["character_index"] == 1
    np.testing.assert_allclose(clip.channel("mouthClose"), 0.18 * cfg.bs_multipliers["MouthClose"], atol=1e-6)
    np.testing.assert_allclose(clip.channel("eyeLookUpLeft"), 0.0)  # multiplier 0 in NVIDIA's file


def test_face_params_go_to_the_binding_when_it_takes_them(model_json, monkeypatch, standin):
    monkeypatch.setenv("A2F_STANDIN_EXTRAS", "face_params")
    b = make(model_json)
    low = infer(b, RunConfig(face_params={"lowerFaceStrength": 0.5}))
    high = infer(b, RunConfig(face_params={"lowerFaceStrength": 1.0, "skinStrength": 1.1}))
    sent = [c["face_params"] for c in standin().CALLS if c["call"] == "process_audio"]
    assert set(sent[1]) == set(SDK_FACE_PARAMS)
    assert sent[0]["lowerFaceStrength"] == 0.5 and sent[1]["skinStrength"] == 1.1
    assert sent[1]["eyelidOpenOffset"] == pytest.approx(0.06)  # unset -> the SDK default
    assert high.channel("jawOpen").max() == pytest.approx(2 * low.channel("jawOpen").max(), rel=1e-4)
    assert high.meta["face_params_passed"] and high.meta["face_params_not_applied"] == []


def test_face_params_not_applied_without_the_hook_is_recorded(model_json):
    clip = infer(make(model_json), RunConfig(face_params={"lowerFaceStrength": 0.5}))
    assert clip.meta["face_params_passed"] is False
    assert "lowerFaceStrength" in clip.meta["face_params_not_applied"]


@pytest.mark.parametrize("character, index", [("claire", 0), ("james", 1), ("mark", 2), ("Mark", 2)])
def test_character_preset_selects_the_identity(model_json, standin, character, index):
    clip = infer(make(model_json, use_gpu_solver=True), RunConfig(character=character))
    init = standin().CALLS[0]
    assert init["call"] == "init" and init["character_index"] == index and init["use_gpu_solver"] is True
    assert clip.meta["character_index"] == index


def test_unknown_character_is_a_config_error():
    with pytest.raises(ConfigError, match="character 'aki' has no identity.*claire, james, mark"):
        character_index("aki")


def test_model_is_loaded_once_per_character_and_process(model_json, standin):
    infer(make(model_json))
    infer(make(model_json))  # a new backend object (each Blender bake makes one) reuses the loaded model
    infer(make(model_json), RunConfig(character="mark"))
    infer(make(model_json, use_gpu_solver=True))
    inits = [(c["character_index"], c["use_gpu_solver"]) for c in standin().CALLS if c["call"] == "init"]
    assert inits == [(0, False), (2, False), (0, True)]
    unload_models()
    infer(make(model_json))
    assert len([c for c in standin().CALLS if c["call"] == "init"]) == 4


# --- failures ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "mode, message",
    [
        ("cols51", "has 51 columns per frame; expected 52"),
        ("flat", "'blendshapes' has shape"),
        ("nan", "'blendshapes' contains NaN"),
        ("short_timestamps", "91 blendshape frames but 90 timestamps"),
        ("no_frames", "holds no frames"),
        ("not_dict", "returned ndarray; expected a dict"),
        ("no_timestamps", "lacks timestamps"),
        ("unsorted", "timestamps are not increasing"),
        ("num_frames", "num_frames=96 but holds 91 frames"),
        ("bad_fps", "fps is 0"),
        ("raise", "the Audio2Face-3D SDK failed: RuntimeError: CUDA error 700"),
    ],
)
def test_bad_results_are_clear_backend_errors(model_json, monkeypatch, mode, message):
    monkeypatch.setenv("A2F_STANDIN_RESULT", mode)
    with pytest.raises(BackendError) as e:
        infer(make(model_json))
    assert message in str(e.value)


def test_model_that_does_not_load_names_the_path(tmp_path):
    bad = tmp_path / "model.json"
    bad.write_text("not json")
    with pytest.raises(BackendError, match="could not load model '.*model.json' for character index 0"):
        infer(SdkBackend(binding_path=STANDIN, model_path=bad))


def test_infer_when_unavailable_gives_the_reason(tmp_path):
    with pytest.raises(BackendError, match="sdk backend is not available: .*no SDK model path"):
        infer(SdkBackend(binding_path=STANDIN))


# --- progress and cancellation ----------------------------------------------------------------------
def test_progress_runs_from_0_to_1(model_json):
    seen: list[float] = []
    infer(make(model_json), progress=lambda f, m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_cancel_before_the_native_call(model_json, standin):
    tok = CancelToken()
    b = make(model_json)

    def progress(f, msg):
        if "loading" in msg:
            tok.cancel()

    with pytest.raises(Cancelled):
        infer(b, progress=progress, cancel=tok)
    assert not [c for c in standin().CALLS if c["call"] == "process_audio"]


def test_cancel_during_the_native_call_discards_the_result(model_json, standin):
    tok = CancelToken()

    def progress(f, msg):
        if "running" in msg:
            tok.cancel()  # the native call cannot be interrupted; its result is dropped

    with pytest.raises(Cancelled):
        infer(make(model_json), progress=progress, cancel=tok)
    assert len([c for c in standin().CALLS if c["call"] == "process_audio"]) == 1


def test_already_cancelled_does_nothing(model_json):
    tok = CancelToken()
    tok.cancel()
    with pytest.raises(Cancelled):
        infer(make(model_json), cancel=tok)
    assert "audio2face_py" not in sys.modules


# --- the command line ----------------------------------------------------------------------------
def test_cli_infer_with_the_sdk_backend_configured_by_environment(model_json, tmp_path, monkeypatch, capsys):
    import csv

    from a2f_core.audio import save_wav
    from a2f_core.cli.main import main

    wav = tmp_path / "burst.wav"
    save_wav(wav, burst_audio())
    monkeypatch.setenv("A2F_SDK_BINDING_PATH", str(STANDIN))
    monkeypatch.setenv("A2F_SDK_MODEL_PATH", str(model_json))
    rc = main(["infer", str(wav), "--backend", "sdk", "--preset", "mark", "-o", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err
    with open(tmp_path / "out" / "animation_frames.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == int(1.5 * 60) + 1
    jaw = np.array([float(r["blendShapes.JawOpen"]) for r in rows])
    t = np.array([float(r["timeCode"]) for r in rows])
    assert jaw[(t > 0.55) & (t < 0.95)].min() > 0.2 and jaw[t < 0.45].max() < 0.01


def test_cli_reports_what_is_missing(tmp_path, capsys):
    from a2f_core.audio import save_wav
    from a2f_core.cli.main import main

    wav = tmp_path / "burst.wav"
    save_wav(wav, burst_audio())
    rc = main(["infer", str(wav), "--backend", "sdk", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert "sdk backend is not available" in err and "no SDK model path" in err and "Traceback" not in err


def test_cli_flags_configure_the_sdk_backend(model_json, tmp_path, monkeypatch, capsys, standin):
    from a2f_core.audio import save_wav
    from a2f_core.cli.main import main

    monkeypatch.delenv("A2F_SDK_BINDING_PATH", raising=False)
    monkeypatch.delenv("A2F_SDK_MODEL_PATH", raising=False)
    wav = tmp_path / "burst.wav"
    save_wav(wav, burst_audio())
    rc = main(["infer", str(wav), "--backend", "sdk", "--binding-path", str(STANDIN), "--model-path",
               str(model_json), "--use-gpu-solver", "-o", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "out" / "animation_frames.csv").stat().st_size > 0
    inits = [c for c in standin().CALLS if c["call"] == "init"]
    assert inits and inits[-1]["use_gpu_solver"] is True and inits[-1]["model_path"] == str(model_json)
