"""The panel's bake leaves Blender's main thread free: the real bundled backend decodes in worker processes, so the
main thread is never held for long, Esc cancels promptly and a cancelled bake changes nothing.

An interactive Blender switches decoding to the worker processes by itself; the bpy module runs headless, so the
tests switch it on by hand (process_pool.ONLY_IN_WORKERS). The targets (100 ms, 0.5 s on a 180 s line) are measured
in bench/bench_responsiveness.py; the bounds here are looser so a loaded machine does not fail them, yet far below
what decoding in Blender's own process costs (stalls of 1-2 s on this line).
"""

from __future__ import annotations

import sys
import time

import bpy
import pytest
from blender_helpers import ROOT, snapshot

from a2f_core import process_pool
from a2f_core.errors import Cancelled
from addon.bake import steps
from addon.operators.bake import BakeJob

sys.path.insert(0, str(ROOT / "tests" / "local"))
from local_helpers import long_line  # noqa: E402

MAX_STALL = 0.3  # s


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    return long_line(tmp_path_factory.mktemp("line") / "line.wav", 40.0)


@pytest.fixture
def in_workers(monkeypatch):
    monkeypatch.setattr(process_pool, "ONLY_IN_WORKERS", True)


def tick_until_done(job: BakeJob, cancel_after: float | None = None, limit: float = 120.0) -> tuple[float, float]:
    """(worst overrun of a 10 ms sleep on this thread, seconds from cancel to done)."""
    t0 = time.perf_counter()
    worst, cancelled = 0.0, None
    while not job.done:
        a = time.perf_counter()
        time.sleep(0.01)
        worst = max(worst, time.perf_counter() - a - 0.01)
        if cancel_after is not None and cancelled is None and time.perf_counter() - t0 > cancel_after:
            job.cancel.cancel()
            cancelled = time.perf_counter()
        assert time.perf_counter() - t0 < limit, "the bake did not finish"
    return worst, (time.perf_counter() - cancelled) if cancelled is not None else 0.0


def test_a_real_bake_keeps_the_main_thread_free(head, line, in_workers):
    job = BakeJob(steps.BakeSpec(objects=[head.name], audio=str(line), add_sound_strip=False)).start()
    worst, _ = tick_until_done(job)
    rep = job.finish()
    assert worst < MAX_STALL, f"the main thread was held for {worst:.2f} s"
    assert rep.samples > 40 * 60 and rep.heard is None and not rep.warnings  # aligned with its .txt twin


def test_esc_cancels_a_real_bake_promptly_and_changes_nothing(head, line, in_workers):
    bpy.context.scene.frame_end = 77
    before = snapshot()
    job = BakeJob(steps.BakeSpec(objects=[head.name], audio=str(line))).start()
    worst, latency = tick_until_done(job, cancel_after=0.3)
    with pytest.raises(Cancelled):
        job.finish()
    assert latency < 1.5, f"cancel took {latency:.2f} s"
    assert worst < MAX_STALL
    assert snapshot() == before
