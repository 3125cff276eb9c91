"""`a2f perf`: NVIDIA's NIM performance test (nim_performance_test.py) for any NIM-protocol server.

Per audio file, R requests with at most S streams at once, each started after a random delay
(random.Random(45), as NVIDIA's script). Metrics per request: time to first response (ms) = first message
received - header about to be sent; FPS = (1 + animation_data messages) / (end of stream - first message).
Per file: min, p1, p5, p10, median, mean, p90, p95, p99, max of both. Output folder
``performance_output_NNNNNN`` with ``stream_S_request_R.csv`` / ``.png``, ``fps_stream_S_request_R.txt`` and
``latency_stream_S_request_R.txt`` (NVIDIA's names), plus ``throughput_stream_S_request_R.txt`` (audio
seconds per wall second and failures, which NVIDIA's script does not report).
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio import Audio
from ..audio import load as load_audio
from ..config import RunConfig
from ..errors import A2FError
from .channel import Target, open_channel
from .client import run_stream

STATS = ("min", "percentile1", "percentile5", "percentile10", "median", "mean", "percentile90", "percentile95",
         "percentile99", "max")  # fmt: skip


@dataclass
class RequestResult:
    ok: bool
    latency_ms: float = -1.0
    fps: float = -1.0
    frames: int = 0
    error: str = ""


@dataclass
class FileResult:
    path: str
    duration: float
    rate: int
    requests: list[RequestResult] = field(default_factory=list)
    wall: float = 0.0

    @property
    def successes(self) -> list[RequestResult]:
        return [r for r in self.requests if r.ok]

    @property
    def failures(self) -> int:
        return len(self.requests) - len(self.successes)

    @property
    def throughput(self) -> float:
        """Audio seconds processed successfully per wall-clock second."""
        return len(self.successes) * self.duration / self.wall if self.wall > 0 else 0.0

    def stats(self, metric: str) -> dict[str, float]:
        vals = np.array([getattr(r, metric) for r in self.successes], np.float64)
        if len(vals) == 0:
            return {s: -1.0 for s in STATS}
        out = {"min": float(vals.min()), "median": float(np.median(vals)), "mean": float(vals.mean()),
               "max": float(vals.max())}  # fmt: skip
        for p in (1, 5, 10, 90, 95, 99):
            out[f"percentile{p}"] = float(np.percentile(vals, p))
        return {s: out[s] for s in STATS}


def rate_label(rate: int) -> str:
    return f"{rate / 1000:g}khz"


def one_request(
    channel, target: Target, audio: Audio, config: RunConfig, delay: float, timeout: float | None = None
) -> RequestResult:
    time.sleep(delay)
    try:
        res = run_stream(channel, target, audio, config, timeout=timeout)
    except A2FError as e:
        return RequestResult(False, error=str(e))
    span = res.t_end - res.t_first
    fps = res.packets / span if span > 0 else float("inf")
    return RequestResult(True, (res.t_first - res.t_sent) * 1000.0, fps, len(res.times))


def run_file(
    target: Target,
    path: str,
    request_nb: int,
    max_stream_nb: int,
    *,
    jitter: float = 1.0,
    config: RunConfig | None = None,
    timeout: float | None = None,
) -> FileResult:
    audio = load_audio(path)
    rng = random.Random(45)
    delays = [rng.random() * jitter for _ in range(request_nb)]
    channel = open_channel(target)
    fr = FileResult(str(path), audio.duration, audio.rate)
    try:
        t0 = time.monotonic()
        with cf.ThreadPoolExecutor(max_stream_nb, thread_name_prefix="a2f-perf") as pool:
            futs = [pool.submit(one_request, channel, target, audio, config or RunConfig(), d, timeout) for d in delays]
            fr.requests = [f.result() for f in futs]
        fr.wall = time.monotonic() - t0
    finally:
        channel.close()
    return fr


def next_output_dir(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    for i in range(1, 1_000_000):
        d = parent / f"performance_output_{i:06d}"
        try:
            d.mkdir()
            return d
        except FileExistsError:
            continue
    raise A2FError(f"{parent}: no free performance_output_NNNNNN folder name")


def write_outputs(results: list[FileResult], outdir: Path, request_nb: int, max_stream_nb: int) -> dict[str, Path]:
    tag = f"stream_{max_stream_nb}_request_{request_nb}"
    paths = {
        "csv": outdir / f"{tag}.csv",
        "png": outdir / f"{tag}.png",
        "fps": outdir / f"fps_{tag}.txt",
        "latency": outdir / f"latency_{tag}.txt",
        "throughput": outdir / f"throughput_{tag}.txt",
    }
    cols = ["max_stream_number", "request_number", "audio_length (s)", "sample_rate"]
    cols += [f"1st packet {s} latency (ms)" for s in STATS] + [f"{s} fps" for s in STATS]
    cols += ["successful_requests", "failed_requests", "throughput (audio s per wall s)"]
    new = not paths["csv"].exists()
    with paths["csv"].open("a", newline="") as f:
        w = csv.writer(f)
        if new:
            w.writerow(cols)
        for r in results:
            lat, fps = r.stats("latency_ms"), r.stats("fps")
            w.writerow(
                [max_stream_nb, request_nb, f"{r.duration:g}", rate_label(r.rate)]
                + [lat[s] for s in STATS]
                + [fps[s] for s in STATS]
                + [len(r.successes), r.failures, round(r.throughput, 3)]
            )
    ok = [r for r in results if r.successes]
    p1_fps = min((r.stats("fps")["percentile1"] for r in ok), default=-1.0)
    worst = max((r.stats("latency_ms")["percentile99"] for r in ok), default=-1.0)
    avg = float(np.mean([r.stats("latency_ms")["mean"] for r in ok])) if ok else -1.0
    paths["fps"].write_text(f"percentile1 FPS: {p1_fps}\n")
    paths["latency"].write_text(
        f"Worst case latency: 99% of the requests have latency below {worst} ms\nAverage latency: {avg} ms\n"
    )
    total_audio = sum(len(r.successes) * r.duration for r in results)
    total_wall = sum(r.wall for r in results)
    lines = [
        f"{Path(r.path).name}: {r.throughput:.2f} audio s per wall s, {len(r.successes)} ok, {r.failures} failed"
        for r in results
    ]
    lines.append(
        f"total: {total_audio / total_wall if total_wall else 0.0:.2f} audio s per wall s, "
        f"{sum(len(r.successes) for r in results)} ok, {sum(r.failures for r in results)} failed"
    )
    errors = sorted({q.error for r in results for q in r.requests if not q.ok})
    lines += [f"error: {e}" for e in errors]
    paths["throughput"].write_text("\n".join(lines) + "\n")
    _plot(results, paths["png"])
    return paths


def _plot(results: list[FileResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [f"{r.duration:g}s, {rate_label(r.rate)}" for r in results]
    x = np.arange(len(results))
    fig, axes = plt.subplots(2, 1, figsize=(12, 12))
    for ax, metric, title, unit in (
        (axes[0], "latency_ms", "Time to first response", "ms"),
        (axes[1], "fps", "Frames per second per stream", "FPS"),
    ):
        shown = ("min", "median", "mean", "percentile99", "max")
        width = 0.8 / len(shown)
        for j, s in enumerate(shown):
            ax.bar(x + j * width, [r.stats(metric)[s] for r in results], width, label=s)
        ax.set_xticks(x + 0.4 - width / 2, labels)
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run_perf(
    target: Target,
    audio_files: list[str],
    request_nb: int,
    max_stream_nb: int,
    outdir: Path,
    *,
    jitter: float = 1.0,
    pause: float = 3.0,
    config: RunConfig | None = None,
    timeout: float | None = None,
    log=print,
) -> tuple[list[FileResult], dict[str, Path]]:
    results = []
    lock = threading.Lock()
    for i, path in enumerate(audio_files):
        if i and pause:
            time.sleep(pause)
        fr = run_file(target, path, request_nb, max_stream_nb, jitter=jitter, config=config, timeout=timeout)
        with lock:
            results.append(fr)
        lat, fps = fr.stats("latency_ms"), fr.stats("fps")
        log(
            f"{Path(path).name} ({fr.duration:.1f} s, {rate_label(fr.rate)}): {len(fr.successes)}/{len(fr.requests)} ok, "
            f"latency p99 {lat['percentile99']:.1f} ms, FPS p1 {fps['percentile1']:.1f} / median {fps['median']:.1f}, "
            f"throughput {fr.throughput:.2f} audio s per wall s"
        )
    out = next_output_dir(outdir)
    return results, write_outputs(results, out, request_nb, max_stream_nb)
