"""Does Blender's main thread stay free while the panel's bake works? (issue #12 target)

    .venv/bin/python bench/bench_responsiveness.py [--seconds 180] [--repeat 1]

The panel's UI path (addon.operators.bake.BakeJob: resolve on the main thread, compute on a worker thread, keys
written on the main thread) with the real bundled backend on a long line of real speech, with its transcript and
without. The bpy module runs headless, so the interactive rule "decode only in worker processes" is switched on
by hand (process_pool.ONLY_IN_WORKERS = True; an interactive Blender switches it on by itself); ``--in-process``
measures the old interactive behaviour (every decode in Blender's own process, no worker processes) for comparison.

While the bake runs, the main thread sleeps 10 ms at a time, as a redraw loop would; a stall is the time a
sleep overran (the bake held the GIL). Targets: no stall over 100 ms; Esc (cancel) ends the bake within 0.5 s;
the scene is unchanged after a cancel. The key write at the end is main-thread work by design (bulk
foreach_set) and is timed separately.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "local")]
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="a2f-bench-user-"))

from benchlib import Report, add_results_args  # noqa: E402

TICK = 0.01


def watch(job, cancel_after: float | None = None) -> dict:
    """Tick the main thread until the job is done; the longest overrun of a tick, and cancel latency."""
    t0 = time.perf_counter()
    worst, ticks, cancelled_at = 0.0, 0, None
    while not job.done:
        a = time.perf_counter()
        time.sleep(TICK)
        worst = max(worst, time.perf_counter() - a - TICK)
        ticks += 1
        if cancel_after is not None and cancelled_at is None and time.perf_counter() - t0 >= cancel_after:
            job.cancel.cancel()
            cancelled_at = time.perf_counter()
    end = time.perf_counter()
    return {"compute": end - t0, "worst_stall": worst, "ticks": ticks,
            "cancel_latency": None if cancelled_at is None else end - cancelled_at}


def scene_state() -> tuple:
    import bpy

    return (sorted(a.name for a in bpy.data.actions), bpy.context.scene.frame_end)


def run(audio: Path, transcript: bool, cancel_after: float | None) -> dict:
    from addon.bake import steps
    from addon.operators.bake import BakeJob

    spec = steps.BakeSpec(objects=["Face"], audio=str(audio), add_sound_strip=False)  # the .txt twin is the words
    twin, hidden = audio.with_suffix(".txt"), audio.with_suffix(".hidden")
    if not transcript:
        twin.rename(hidden)
    try:
        before = scene_state()
        job = BakeJob(spec).start()
        out = watch(job, cancel_after)
        if cancel_after is not None:
            try:
                job.finish()
                out["cancelled"] = False
            except Exception as e:  # Cancelled
                out["cancelled"] = type(e).__name__ == "Cancelled"
            out["unchanged"] = scene_state() == before
        else:
            t = time.perf_counter()
            job.finish()
            out["key_write"] = time.perf_counter() - t
        return out
    finally:
        if not transcript:
            hidden.rename(twin)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=180.0, help="length of the speech line (default 180)")
    ap.add_argument("--cancel-after", type=float, default=3.0, help="cancel this long into the second run")
    ap.add_argument("--in-process", action="store_true",
                    help="decode in this process, without worker processes (an interactive Blender before)")
    add_results_args(ap)
    args = ap.parse_args()
    # imported here: worker processes import this script again (spawn) and must not load Blender
    import bpy
    from local_helpers import long_line

    from a2f_core import process_pool
    from addon import demo_rig

    process_pool.ONLY_IN_WORKERS = not args.in_process
    if args.in_process:  # as an interactive Blender did before: no worker processes at all
        process_pool.can_use_processes = lambda: False
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps = 60
    demo_rig.build("Face", segments=32, rings=24)
    tmp = Path(tempfile.mkdtemp(prefix="a2f-resp-"))
    audio = long_line(tmp / "line.wav", args.seconds)
    mode = "decode in this process (before)" if args.in_process else "decode in worker processes"
    title = f"Main-thread stalls and Esc during a panel bake, {args.seconds:.0f} s line, {mode}"
    with Report(__file__, title, args) as rep:
        run(audio, True, 0.5)  # warm the worker pool first (its start-up is a one-off per Blender session)
        rows = []
        for transcript in (True, False):
            words = "transcript" if transcript else "no transcript"
            rows.append((words, "bake", run(audio, transcript, None)))
            rows.append((words, "cancel", run(audio, transcript, args.cancel_after)))
        process_pool.shutdown()
        print(f"bpy {bpy.app.version_string}; the main thread sleeps 10 ms at a time; a stall is a sleep's overrun\n")
        print("| words | run | compute s | worst stall ms | Esc to done ms | key write s | scene unchanged |")
        print("|---|---|---|---|---|---|---|")
        for words, kind, r in rows:
            cancel = f"{r['cancel_latency'] * 1000:.0f}" if r.get("cancel_latency") is not None else "-"
            kw = f"{r['key_write']:.2f}" if "key_write" in r else "-"
            print(f"| {words} | {kind} | {r['compute']:.2f} | {r['worst_stall'] * 1000:.0f} | {cancel} | {kw} | "
                  f"{r.get('unchanged', '-')} |")
        rep.metric("worst_stall_ms", round(max(r["worst_stall"] for _, _, r in rows) * 1000), "ms",
                   "longest main-thread stall over every run")
        rep.metric("cancel_ms", round(max(r["cancel_latency"] for _, k, r in rows if k == "cancel") * 1000), "ms",
                   "slowest Esc-to-done")
        rep.metric("unchanged_after_cancel", all(r["unchanged"] for _, k, r in rows if k == "cancel"))
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    os._exit(rc)  # the bpy module may crash at interpreter exit (4.2)
