"""Whole-command time of `a2f infer` on the shipped sample (samples/hello.wav, 4.19 s, its hello.txt twin as the
transcript), as a user runs it: a fresh process each time, so Python start-up, imports and the worker processes
are included. Also the backend's own time to first frame and real-time factor (what `a2f infer` prints), the same
clip without a transcript, with ``--plot``, and ``--help``. ``--demo`` also times the steps of `make demo` (the CLI
with emotion and plot, then demo/make_demo.py: bake, glTF export, Cycles contact sheet) into a temp folder.

    .venv/bin/python bench/bench_cli.py [--repeat 3] [--demo]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Report, add_results_args  # noqa: E402

SAMPLE = ROOT / "samples" / "hello.wav"
A2F = [sys.executable, "-m", "a2f_core"]


def run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return dt, r.stdout + r.stderr


def backend_numbers(out: str) -> tuple[str, str]:
    m = re.search(r"time to first frame ([\d.]+) s.*real-time factor ([\d.]+)", out)
    return (m.group(1), m.group(2)) if m else ("-", "-")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command (all are shown, best is the headline)")
    ap.add_argument("--demo", action="store_true", help="also time the steps of `make demo`")
    add_results_args(ap)
    args = ap.parse_args(argv)
    with Report(__file__, "`a2f infer` on samples/hello.wav: whole command", args) as rep, \
            tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        bare = tmp / "bare"
        bare.mkdir()
        shutil.copy(SAMPLE, bare / SAMPLE.name)  # no .txt twin: no transcript
        cases = [
            ("with_text", "`a2f infer samples/hello.wav` (hello.txt twin: transcript)",
             A2F + ["infer", str(SAMPLE), "-o", str(tmp / "o1")], args.repeat),
            ("no_text", "same clip without a transcript", A2F + ["infer", str(bare / SAMPLE.name), "-o", str(tmp / "o2")],
             args.repeat),
            ("plot", "with `--plot`", A2F + ["infer", str(SAMPLE), "--plot", "-o", str(tmp / "o3")], 1),
            ("help", "`a2f infer --help`", A2F + ["infer", "--help"], args.repeat),
        ]
        if args.demo:
            cases += [
                ("demo_cli", "`make demo` step 1: `a2f infer ... --emotion joy --emotion-strength 0.5 --plot`",
                 A2F + ["infer", str(SAMPLE), "--emotion", "joy", "--emotion-strength", "0.5", "--plot", "-o",
                        str(tmp / "demo")], 1),
                ("demo_blend", "`make demo` step 2: `demo/make_demo.py` (bake, glTF, Cycles contact sheet)",
                 [sys.executable, str(ROOT / "demo" / "make_demo.py"), "--out", str(tmp / "demo")], 1),
            ]
        print("| command | wall s (each run) | backend: time to first frame s | backend RTF |")
        print("|---|---|---|---|")
        for key, what, cmd, n in cases:
            walls, out = [], ""
            for _ in range(n):
                dt, out = run(cmd, tmp)
                walls.append(dt)
            ttff, rtf = backend_numbers(out)
            print(f"| {what} | {' / '.join(f'{w:.2f}' for w in walls)} | {ttff} | {rtf} |", flush=True)
            rep.metric(f"{key}_wall_s", round(min(walls), 2), "s", f"{what}: whole command, best of {n}")
        if args.demo:
            demo = rep.metrics["demo_cli_wall_s"]["value"] + rep.metrics["demo_blend_wall_s"]["value"]
            rep.metric("demo_total_s", round(demo, 1), "s", "`make demo` after setup: both steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
