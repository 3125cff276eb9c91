"""What the ``sdk`` backend adds around NVIDIA's Audio2Face-3D SDK, measured WITHOUT the SDK.

No machine here has an NVIDIA GPU, so **no SDK inference is measured**. The binding is the STAND-IN in
tests/sdk/standin (not NVIDIA's SDK: it runs no model, CUDA or TensorRT; it only has the documented Python
surface). Two numbers per audio length, best of ``--repeat``:

- adapter: ``convert_result`` (checks the SDK's result dict, builds the clip) + ``postprocess`` (the character's
  multipliers, offsets, clamp) on a synthetic 60 fps result;
- infer minus binding: ``SdkBackend.infer`` through the stand-in, minus the time spent inside the binding's
  ``process_audio`` (timed around that call), i.e. probing the binding, resampling checks, conversion,
  post-processing and metadata.

    .venv/bin/python bench/bench_sdk_overhead.py [--seconds 10 60 600] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Report, add_results_args  # noqa: E402

from a2f_core import presets  # noqa: E402
from a2f_core.audio import Audio  # noqa: E402
from a2f_core.backends import sdk  # noqa: E402

STANDIN = ROOT / "tests" / "sdk" / "standin"


def adapter_ms(seconds: float, config, repeat: int) -> float:
    n = int(seconds * 60) + 1
    result = {"blendshapes": np.random.default_rng(0).random((n, 52), dtype=np.float32),
              "timestamps": np.arange(n) / 60.0, "fps": 60, "duration": seconds, "num_frames": n}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sdk.convert_result(result).postprocess(config.bs_multipliers, config.bs_offsets, config.enable_clamping_bs_weight)
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def infer_overhead_ms(backend: sdk.SdkBackend, seconds: float, config, repeat: int) -> tuple[float, float]:
    """(best infer total - time inside the binding's process_audio, that binding time) in ms."""
    t = np.arange(int(seconds * sdk.SAMPLE_RATE)) / sdk.SAMPLE_RATE
    audio = Audio((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sdk.SAMPLE_RATE, "tone.wav")
    backend.infer(audio, config)  # loads the stand-in "model" once, as the SDK loads its engines once
    wrapper = next(iter(sdk._LOADED.values()))
    inner = wrapper.process_audio
    spent: list[float] = []

    def timed(samples):
        t0 = time.perf_counter()
        try:
            return inner(samples)
        finally:
            spent.append(time.perf_counter() - t0)

    wrapper.process_audio = timed
    best = None
    try:
        for _ in range(repeat):
            spent.clear()
            t0 = time.perf_counter()
            backend.infer(audio, config)
            total = time.perf_counter() - t0
            if best is None or total - spent[0] < best[0]:
                best = (total - spent[0], spent[0])
    finally:
        wrapper.process_audio = inner
        sdk.unload_models()
    return best[0] * 1000, best[1] * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0, 600.0], help="audio lengths")
    ap.add_argument("--repeat", type=int, default=5, help="runs per measurement (best is reported)")
    add_results_args(ap)
    args = ap.parse_args(argv)
    notes = ("**Stand-in binding (tests/sdk/standin), not NVIDIA's SDK: no SDK inference was measured.** "
             "These are the adapter's own costs only.")
    with Report(__file__, "sdk backend: adapter overhead (stand-in binding)", args, notes=notes) as rep, \
            tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.json"
        model.write_text('{"networkInfoPath": "network_info.json"}', encoding="utf-8")
        os.environ["A2F_STANDIN_CUDA_DEVICES"] = "1"  # the stand-in then reports one CUDA device
        config = presets.load_character("claire")
        backend = sdk.SdkBackend(binding_path=STANDIN, model_path=model)
        print(f"binding: {backend.availability().reason.replace(str(ROOT) + os.sep, '').replace(str(model), 'model.json')}")
        print("STAND-IN binding, not NVIDIA's SDK. Character preset: claire (its multipliers, offsets, clamp).\n")
        print("| audio | frames (60 fps) | adapter: convert_result + postprocess ms | infer minus binding ms | "
              "(stand-in process_audio ms, not the SDK) |")
        print("|---|---|---|---|---|")
        for seconds in args.seconds:
            a = adapter_ms(seconds, config, args.repeat)
            o, inside = infer_overhead_ms(backend, seconds, config, args.repeat)
            print(f"| {seconds:g} s | {int(seconds * 60) + 1} | {a:.1f} | {o:.1f} | ({inside:.0f}) |", flush=True)
            rep.metric(f"adapter_{seconds:g}s_ms", round(a, 2), "ms", f"convert_result + postprocess, {seconds:g} s of frames")
            rep.metric(f"infer_overhead_{seconds:g}s_ms", round(o, 2), "ms",
                       f"SdkBackend.infer minus the binding's process_audio, {seconds:g} s (stand-in binding)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
