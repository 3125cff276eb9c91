"""Worker processes: one implementation for the bundled backend's speech decoding and `a2f serve --workers`.

Workers are spawned (never forked: a parent may run gRPC or Blender threads) with this process's Python, which
inside Blender is Blender's own bundled Python, and leave as soon as their parent is gone. The bundled backend
decodes in the process-wide ``shared()`` pool (threads share it); `a2f serve` keeps a ``Pool`` of its own whose
workers each hold a backend.

The speech decoder holds the GIL while it works, so in an interactive Blender every decode goes to the workers
(``only_in_workers``): the UI's main thread is never held by it.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

# Every decode in the workers, none in this process: None = decide (yes in an interactive Blender); True/False
# force it (tests, benchmarks).
ONLY_IN_WORKERS: bool | None = None


def only_in_workers() -> bool:
    """Whether work must leave this process so its main thread stays free (an interactive Blender)."""
    if ONLY_IN_WORKERS is not None:
        return ONLY_IN_WORKERS
    bpy = sys.modules.get("bpy")
    return bpy is not None and not getattr(getattr(bpy, "app", None), "background", True)


def _main_is_importable() -> bool:
    """Spawned workers import the main script again: only safe when it guards its entry point."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        return True  # interactive, -c, or run with -m (imported by name)
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return False
    return re.search(r"""__name__\s*==\s*["']__main__["']""", text) is not None


def can_use_processes() -> bool:
    """Worker processes need a real Python executable (Blender's sys.executable is its bundled Python) and a
    main script that guards its entry point, and are never nested."""
    import multiprocessing as mp

    if mp.parent_process() is not None:
        return False  # a worker process (ours or a server's) never starts a pool of its own
    exe = os.path.basename(sys.executable or "").lower()
    return exe.startswith("python") and _main_is_importable()


def default_size() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def _start_worker(parent: int, init: Callable[..., None] | None, initargs: tuple) -> None:
    """Worker initializer: leave as soon as the parent is gone (a parent that exits without shutting the pool
    down, as the bpy 4.2 module does, would otherwise leave idle workers holding its stdout); then ``init``."""
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="a2f-parent-watch", daemon=True).start()
    if init is not None:
        init(*initargs)


def _noop(_: int) -> None:
    return None


class Pool:
    """A pool of ``size`` spawned worker processes, started on first use; ``init(*initargs)`` runs in each."""

    def __init__(self, size: int, init: Callable[..., None] | None = None, initargs: tuple = ()):
        self.size = max(1, size)
        self._init, self._initargs = init, initargs
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:  # threads share it; a live pool is never replaced under them
            if self._executor is None:
                import multiprocessing as mp

                self._executor = ProcessPoolExecutor(
                    self.size, mp_context=mp.get_context("spawn"), initializer=_start_worker,
                    initargs=(os.getpid(), self._init, self._initargs),
                )
            return self._executor

    def start(self) -> None:
        """Start every worker now (imports, decoders, backends) rather than on the first job; raises
        BrokenProcessPool when a worker cannot start."""
        list(self.executor().map(_noop, range(self.size)))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self.executor().submit(fn, *args)

    def run(
        self, fn: Callable[..., Any], jobs: Sequence[tuple], check: Callable[[], None],
        progress: Callable[[float], None] | None = None,
    ) -> tuple[list[Any] | None, str]:
        """``fn(*job)`` for every job, results in order, ``check()`` (which raises to cancel) every 0.1 s;
        ``(None, reason)`` when the pool cannot run them (the caller then works in its own process)."""
        try:
            futures = [self.submit(fn, *job) for job in jobs]
            out: list[Any] = []
            try:
                for f in futures:
                    while True:
                        check()
                        try:
                            out.append(f.result(timeout=0.1))
                            break
                        except FutureTimeout:
                            continue
                    if progress is not None:
                        progress(len(out) / len(futures))
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
            return out, ""
        except (OSError, RuntimeError) as e:  # BrokenProcessPool is a RuntimeError
            self.close()
            return None, str(e)

    def close(self, wait: bool = True) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=wait, cancel_futures=True)
                self._executor = None


_SHARED: Pool | None = None
_SHARED_LOCK = threading.Lock()


def shared(size: int | None = None) -> Pool:
    """The process-wide pool the bundled backend decodes in (its size is the first caller's)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Pool(size or default_size())
        return _SHARED


def shutdown() -> None:
    """Stop the shared pool's workers (hosts that skip Python's exit handlers call this themselves)."""
    with _SHARED_LOCK:
        if _SHARED is not None:
            _SHARED.close()


def run_here_or_in_workers(size: int, fn: Callable[..., Any], args: tuple, check: Callable[[], None]) -> Any:
    """``fn(*args)``: in the shared pool where this process must stay free (``only_in_workers``), else (or when
    the pool cannot run it) in this process."""
    if only_in_workers() and can_use_processes():
        out, _why = shared(size).run(fn, [args], check)
        if out is not None:
            return out[0]
    return fn(*args)


atexit.register(shutdown)  # a pool left at exit is stopped (see _start_worker for hosts that skip this)
