"""Read and write speed of the clip file formats (a2f_core.formats): NVIDIA's animation_frames.csv and
Omniverse's blendshape JSON, 52 ARKit channels at 60 fps, seeded random float32 weights. Each file is read back
and compared with what was written (bit-exact float32 expected). Times are best of ``--repeat``.

    .venv/bin/python bench/bench_formats.py [--seconds 60 600] [--repeat 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Report, add_results_args  # noqa: E402

from a2f_core.clip import Clip, frame_count, frame_times  # noqa: E402
from a2f_core.formats import read_animation_csv, read_omniverse_json, write_animation_csv, write_omniverse_json  # noqa: E402
from a2f_core.names import ARKIT_52  # noqa: E402

FORMATS = {
    "csv": ("animation_frames.csv", write_animation_csv, read_animation_csv),
    "json": ("clip.json", write_omniverse_json, read_omniverse_json),
}


def make_clip(seconds: float, fps: float = 60.0) -> Clip:
    n = frame_count(seconds, fps)
    w = np.random.default_rng(0).random((n, len(ARKIT_52)), dtype=np.float32)
    return Clip(list(ARKIT_52), frame_times(n, fps), w, fps)


def best(repeat: int, fn, *args):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, nargs="+", default=[60.0, 600.0], help="clip lengths (audio seconds)")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement (best is reported)")
    add_results_args(ap)
    args = ap.parse_args(argv)
    with Report(__file__, "Clip file formats: read / write speed", args) as rep, tempfile.TemporaryDirectory() as tmp:
        print(f"52 channels at 60 fps, random float32; best of {args.repeat}\n")
        print("| clip | frames | format | write s | read s | size MB | round trip |")
        print("|---|---|---|---|---|---|---|")
        for seconds in args.seconds:
            clip = make_clip(seconds)
            for fmt, (name, write, read) in FORMATS.items():
                path = Path(tmp) / name
                tw, _ = best(args.repeat, write, path, clip)
                tr, back = best(args.repeat, read, path)
                exact = back.names == clip.names and np.array_equal(back.weights, clip.weights)
                size = path.stat().st_size / 1e6
                print(f"| {seconds:g} s | {clip.n_frames} | {fmt} | {tw:.2f} | {tr:.2f} | {size:.1f} | "
                      f"{'bit-exact' if exact else 'DIFFERS'} |", flush=True)
                key = f"{fmt}_{seconds:g}s"
                rep.metric(f"{key}_write_s", round(tw, 3), "s", f"{name}, {seconds:g} s x 52 channels, write")
                rep.metric(f"{key}_read_s", round(tr, 3), "s", f"{name}, {seconds:g} s x 52 channels, read")
                rep.metric(f"{key}_exact", exact, "", f"{name}, {seconds:g} s: read back bit-exact")
                if not exact:
                    print(f"round trip of {fmt} at {seconds:g} s differs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
