"""`a2f perf` against `a2f serve --backend local` at 1, 4 and 10 concurrent streams of 10 s clips.

Run: .venv/bin/python bench/bench_nim_perf.py [--streams 1 4 10] [--workers N] [--quality auto|best|fast] [--busy 1]
Prints p99 time to first response, per-stream FPS (p1 / median), total throughput, failures, and writes
NVIDIA's perf-test files under out/bench_nim/. Targets at 10 streams on 2 cores: every stream >= 60 FPS,
throughput >= 20 audio s per wall s. ``--busy N`` keeps N cores busy with spinning processes during the run
(another program on the machine; they stop with the run, and after 30 min at the latest). The protocol alone:
``PYTHONPATH=tests/nim ... --backend tiny_backend:TinyBackend --workers 0``.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from benchlib import Report, add_results_args

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from a2f_core import audio as audio_mod  # noqa: E402
from a2f_core.nim.channel import make_target  # noqa: E402
from a2f_core.nim.perf import run_perf  # noqa: E402


def ten_second_clip(out: Path) -> Path:
    """10.0 s of real speech: the test fixtures back to back with 0.3 s pauses."""
    parts = []
    for wav in sorted((ROOT / "tests" / "fixtures").glob("*.wav")):
        a = audio_mod.load(wav, rate=16000)
        parts += [a.samples, np.zeros(4800, np.float32)]
    x = np.concatenate(parts)[: 160000]
    path = out / "speech_10s_16khz.wav"
    audio_mod.save_wav(path, audio_mod.Audio(x, 16000))
    return path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, nargs="+", default=[1, 4, 10])
    ap.add_argument("--workers", type=int, default=None, help="a2f serve --workers (default: CPUs)")
    ap.add_argument("--backend", default="local")
    ap.add_argument("--segment-seconds", type=float, default=None, help="a2f serve --segment-seconds")
    ap.add_argument("--quality", choices=("auto", "best", "fast"), default="auto", help="a2f serve --quality (local)")
    ap.add_argument("--busy", type=int, default=0, help="cores to keep busy with spinning processes meanwhile")
    add_results_args(ap)
    args = ap.parse_args()
    title = f"`a2f serve --backend {args.backend}` under `a2f perf`" + (
        f" (--quality {args.quality})" if args.backend == "local" else "") + (
        f", {args.busy} core(s) kept busy by another process" if args.busy else "")
    with Report(__file__, title, args) as rep:
        return run(args, rep)


SPIN = "import time\nend = time.monotonic() + 1800\nwhile time.monotonic() < end:\n    pass\n"


def run(args: argparse.Namespace, rep: Report) -> int:
    out = ROOT / "out" / "bench_nim"
    out.mkdir(parents=True, exist_ok=True)
    clip = ten_second_clip(out)
    cmd = [sys.executable, "-m", "a2f_core", "serve", "--port", "0", "--backend", args.backend, "--quiet",
           "--max-streams", str(max(args.streams))]  # fmt: skip
    if args.workers is not None:
        cmd += ["--workers", str(args.workers)]
    if args.segment_seconds is not None:
        cmd += ["--segment-seconds", str(args.segment_seconds)]
    if args.backend == "local":
        cmd += ["--quality", args.quality]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    line = server.stdout.readline()
    m = re.search(r"on (127\.0\.0\.1:\d+)", line)
    if not m:
        raise SystemExit("a2f serve did not start:\n" + line + server.stdout.read())
    print(line.strip())
    target = make_target(m.group(1))
    rows = []
    spinners: list[subprocess.Popen] = []
    try:
        # warm-up: first inference in each worker loads the speech models
        run_perf(target, [str(clip)], 2, 2, out / "warmup", jitter=0, pause=0, log=lambda s: None)
        spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.busy)]
        for s in args.streams:
            r = max(s, 3)
            t0 = time.monotonic()
            res, paths = run_perf(target, [str(clip)], r, s, out, jitter=0.0, pause=0, timeout=600, log=lambda s: None)
            fr = res[0]
            lat, fps = fr.stats("latency_ms"), fr.stats("fps")
            rows.append((s, r, lat["percentile99"], fps["min"], fps["percentile1"], fps["median"], fr.throughput,
                         fr.failures, time.monotonic() - t0, paths["csv"].parent.name))  # fmt: skip
            print(
                f"streams {s:2d} requests {r:2d}: p99 first response {lat['percentile99']:.1f} ms, "
                f"FPS min {fps['min']:.1f} p1 {fps['percentile1']:.1f} median {fps['median']:.1f}, "
                f"throughput {fr.throughput:.2f} audio s/s, failures {fr.failures}"
            )
    finally:
        for p in spinners:
            p.kill()
            p.wait()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
    print()
    print("| streams | requests | p99 first response (ms) | FPS min | FPS p1 | FPS median | throughput (audio s/s) | failures |")
    print("|---|---|---|---|---|---|---|---|")
    for s, r, p99, fmin, fp1, fmed, thr, fail, _, _ in rows:
        print(f"| {s} | {r} | {p99:.1f} | {fmin:.1f} | {fp1:.1f} | {fmed:.1f} | {thr:.2f} | {fail} |")
    for s, _, p99, fmin, fp1, _, thr, fail, _, _ in rows:
        how = f"{s} stream(s)"
        rep.metric(f"s{s}_fps_p1", round(fp1, 1), "FPS", f"FPS p1 per stream, {how}")
        rep.metric(f"s{s}_fps_min", round(fmin, 1), "FPS", f"FPS min per stream, {how}")
        rep.metric(f"s{s}_throughput", round(thr, 2), "audio s/s", f"throughput, {how}")
        rep.metric(f"s{s}_p99_first_ms", round(p99, 1), "ms", f"p99 first response, {how}")
        rep.metric(f"s{s}_failures", fail, "", f"failed requests, {how}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
