"""a2f.bake: synchronous from Python/headless (execute), modal with a worker thread from the UI (invoke)."""

from __future__ import annotations

import threading

import bpy

from a2f_core.backends.base import CancelToken
from a2f_core.errors import A2FError, Cancelled

from ..bake import steps
from .panel_spec import spec_from_scene


class BakeJob:
    """The UI bake: resolve on the main thread, compute on a worker thread, write on the main thread."""

    def __init__(self, spec: steps.BakeSpec, backend=None):
        self.job = steps.resolve(spec)  # raises A2FError before any thread starts
        self.backend = backend
        self.cancel = CancelToken()
        self.fraction = 0.0
        self.message = "starting"
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="a2f-bake", daemon=True)

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message

    def _run(self) -> None:
        try:
            steps.compute(self.job, progress=self._progress, cancel=self.cancel, backend=self.backend)
        except BaseException as e:  # handed to the main thread
            self.error = e
        finally:
            self._done.set()

    def start(self) -> BakeJob:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def finish(self) -> steps.BakeReport:
        """Main thread, once done: write the keys (or raise the worker's error / Cancelled)."""
        self._thread.join()
        if self.error is not None:
            raise self.error
        self.cancel.check()
        return steps.write(self.job)


_running: dict[str, BakeJob] = {}  # scene name -> the bake in flight (kept out of the .blend)


def running_job(scene) -> BakeJob | None:
    return _running.get(scene.name) if scene is not None else None
last_report: list[steps.BakeReport] = []  # the latest report (for scripts and tests)


def _report_done(op, context, rep: steps.BakeReport) -> None:
    last_report[:] = [rep]
    s = context.scene.a2f
    s.last_report = rep.summary()
    s.heard = rep.heard or ""
    op.report({"INFO"}, rep.summary())
    if rep.heard:
        op.report({"INFO"}, f'Heard (no transcript): "{rep.heard}"')
    for note in rep.notes:
        op.report({"INFO"}, note)
    for warning in rep.warnings:
        op.report({"WARNING"}, warning)
    if rep.unmatched_channels:
        op.report({"WARNING"}, f"unmatched channels: {', '.join(rep.unmatched_channels)}")


class A2F_OT_bake(bpy.types.Operator):
    """Compute facial animation from the audio and bake it onto the target meshes' shape keys (one undo step)"""

    bl_idname = "a2f.bake"
    bl_label = "Bake Face Animation"
    bl_options = {"REGISTER", "UNDO"}

    _job: BakeJob | None = None
    _timer = None

    @classmethod
    def poll(cls, context):
        return context.scene is not None and running_job(context.scene) is None

    def execute(self, context):
        try:
            rep = steps.bake(spec_from_scene(context))
        except A2FError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        _report_done(self, context, rep)
        return {"FINISHED"}

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        s = context.scene.a2f
        try:
            self._job = BakeJob(spec_from_scene(context)).start()
        except A2FError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        _running[context.scene.name] = self._job
        s.progress, s.status = 0.0, "starting"
        wm = context.window_manager
        self._timer = wm.event_timer_add(0.1, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _end(self, context) -> None:
        context.scene.a2f.status = ""
        _running.pop(context.scene.name, None)
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        for area in context.screen.areas if context.screen else []:
            area.tag_redraw()

    def modal(self, context, event):
        job = self._job
        if job is None:
            return {"CANCELLED"}
        if event.type == "ESC":
            job.cancel.cancel()
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        s = context.scene.a2f
        s.progress, s.status = job.fraction, job.message
        context.workspace.status_text_set(f"A2F: {job.message} {job.fraction:.0%} (Esc to cancel)")
        for area in context.screen.areas if context.screen else []:
            area.tag_redraw()
        if not job.done:
            return {"RUNNING_MODAL"}
        context.workspace.status_text_set(None)
        self._end(context)
        try:
            rep = job.finish()
        except Cancelled:
            self.report({"WARNING"}, "Bake cancelled; nothing was changed")
            return {"CANCELLED"}
        except A2FError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        _report_done(self, context, rep)
        return {"FINISHED"}


class A2F_OT_use_heard(bpy.types.Operator):
    """Copy the words heard in the last bake into Transcript, to correct them and bake again
    (a correct transcript gives exact lip closures)"""

    bl_idname = "a2f.use_heard"
    bl_label = "Use as Transcript"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return context.scene is not None and bool(context.scene.a2f.heard)

    def execute(self, context):
        s = context.scene.a2f
        s.transcript = s.heard
        self.report({"INFO"}, "Transcript set from the heard words; correct any misheard words, then bake again")
        return {"FINISHED"}


class A2F_OT_cancel_bake(bpy.types.Operator):
    """Stop the running bake (same as Esc); the scene stays as it was"""

    bl_idname = "a2f.cancel_bake"
    bl_label = "Cancel Bake"

    def execute(self, context):
        job = _running.get(context.scene.name)
        if job is None:
            self.report({"INFO"}, "No bake is running")
            return {"CANCELLED"}
        job.cancel.cancel()
        return {"FINISHED"}
