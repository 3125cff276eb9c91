"""Key-write benchmark: 10 min of 60 fps audio x 52 shape keys with the add-on's bulk writer
(keyframe_points.add + foreach_set) versus per-key keyframe_insert, in one run.

Per-key inserts grow faster than linearly, so they are timed on short clips and the 10-minute figure is
extrapolated with the measured power law (printed with its exponent). Writes bench/results/bench_keys.md
(+ .json); the earlier hand-kept numbers are in bench/results_blender.md.

    .venv/bin/python bench/bench_keys.py [--minutes 10] [--per-key-frames 300,600,1200]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bpy  # noqa: E402
import numpy as np  # noqa: E402
from benchlib import Report, add_results_args  # noqa: E402

from a2f_core.names import ARKIT_52  # noqa: E402
from addon import demo_rig  # noqa: E402
from addon.bake import shapekey_action  # noqa: E402


def fresh_head():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps = 60
    return demo_rig.build()


def values(n: int) -> np.ndarray:
    t = np.arange(n)[:, None] / 60.0
    return (0.5 + 0.5 * np.sin(t * np.linspace(1, 5, 52)[None, :])).astype(np.float32)


def bulk(n: int) -> tuple[float, float]:
    ob = fresh_head()
    key = ob.data.shape_keys
    v = values(n)
    t0 = time.perf_counter()
    action, slot = shapekey_action.new_take_action(key, "bench", list(ARKIT_52), np.arange(n, dtype=np.float64), v)
    shapekey_action.assign(key, action, slot)
    dt = time.perf_counter() - t0
    # check a few frames read back
    err = 0.0
    for f in (0, n // 2, n - 1):
        bpy.context.scene.frame_set(f)
        err = max(err, max(abs(key.key_blocks[nm].value - v[f, j]) for j, nm in enumerate(ARKIT_52)))
    return dt, err


def per_key(n: int) -> float:
    ob = fresh_head()
    kbs = [ob.data.shape_keys.key_blocks[nm] for nm in ARKIT_52]
    v = values(n)
    t0 = time.perf_counter()
    for f in range(n):
        for j, kb in enumerate(kbs):
            kb.value = float(v[f, j])
            kb.keyframe_insert("value", frame=f)
    return time.perf_counter() - t0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--per-key-frames", default="300,600,1200")
    add_results_args(p)
    a = p.parse_args(argv)
    with Report(__file__, "Key-write benchmark: bulk writer vs per-key keyframe_insert", a) as rep:
        run(a, rep)
    return 0


def run(a: argparse.Namespace, rep: Report) -> None:
    n_full = int(a.minutes * 60 * 60)
    rows = []
    bulk_times = {}
    for n in (600, 3600, n_full):
        runs = [bulk(n) for _ in range(3)]
        dt = min(r[0] for r in runs)
        bulk_times[n] = dt
        rows.append(f"| bulk add + foreach_set | {n} ({n / 60:.0f} s) | {dt:.3f} s (best of 3) | max read-back error "
                    f"{max(r[1] for r in runs):.1e} |")
        print(rows[-1], flush=True)
    pk = {}
    for n in (int(x) for x in a.per_key_frames.split(",")):
        pk[n] = per_key(n)
        rows.append(f"| per-key keyframe_insert | {n} ({n / 60:.0f} s) | {pk[n]:.3f} s | measured |")
        print(rows[-1], flush=True)
    ns = np.array(sorted(pk))
    ts = np.array([pk[n] for n in ns])
    k, c = np.polyfit(np.log(ns), np.log(ts), 1)
    est = float(np.exp(c) * n_full ** k)
    rows.append(f"| per-key keyframe_insert | {n_full} ({a.minutes:g} min) | ~{est:.0f} s | extrapolated: "
                f"t = {np.exp(c):.2e} * N^{k:.2f} fitted to the measured rows |")
    print(rows[-1])
    n_same = int(ns[-1])
    same = pk[n_same] / bulk(n_same)[0]
    speedup = est / bulk_times[n_full]
    header = [
        f"Data: 52 ARKit shape keys on the demo head, 60 keys per second of audio, Blender (bpy) "
        f"{bpy.app.version_string}",
        "",
        "| method | keyframes per curve | time | note |",
        "|---|---|---|---|",
    ]
    footer = [
        "",
        f"- {a.minutes:g} min x 52 channels with the bulk writer: **{bulk_times[n_full]:.3f} s** (target <= 0.4 s).",
        f"- Per-key `keyframe_insert` at the same length: ~{est:.0f} s extrapolated (exponent {k:.2f}); "
        f"**bulk is ~{speedup:,.0f}x faster** (target >= 500x).",
        f"- Measured side by side at {n_same} frames: bulk is {same:,.0f}x faster.",
    ]
    print("\n" + "\n".join(header + rows + footer))
    rep.metric("bulk_full_s", round(bulk_times[n_full], 3), "s",
               f"bulk key write, {a.minutes:g} min x 52 channels (best of 3)")
    rep.metric("speedup_extrapolated", round(speedup), "x", "bulk vs per-key keyframe_insert (per-key extrapolated)")
    rep.metric("speedup_measured", round(same), "x", f"bulk vs per-key, measured side by side at {n_same} frames")


if __name__ == "__main__":
    rc = main(sys.argv[1:])
    sys.stdout.flush()
    if bpy.app.version < (4, 3, 0):
        os._exit(rc)
    sys.exit(rc)
