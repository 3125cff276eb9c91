"""Export the baked shape-key animation: glTF (.glb/.gltf) and FBX. Time 0 of the file = audio start."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import bpy
import numpy as np

from a2f_core.atomic import atomic_files, output_error
from a2f_core.errors import ConfigError

from ..bake.shapekey_action import fcurves_of

EXTS = (".glb", ".gltf", ".fbx")
EXPORT_HINT = "choose another export path"


@contextlib.contextmanager
def only_selected(objects):
    """Select exactly ``objects`` (active = first) for the exporter; restore the selection afterwards."""
    vl = bpy.context.view_layer
    before = [o for o in vl.objects if o.select_get()]
    active = vl.objects.active
    try:
        for o in before:
            o.select_set(False)
        for o in objects:
            o.select_set(True)
        vl.objects.active = objects[0]
        yield
    finally:
        for o in objects:
            o.select_set(False)
        for o in before:
            o.select_set(True)
        vl.objects.active = active


@contextlib.contextmanager
def slid_to_zero(objects, start_frame: float):
    """Temporarily move the active take so that ``start_frame`` (audio start) sits at frame 0."""
    curves = []
    seen = set()
    for ob in objects:
        key = ob.data.shape_keys
        ad = key.animation_data if key else None
        if ad is None or ad.action is None or key in seen:
            continue
        seen.add(key)
        curves.extend(fcurves_of(ad.action, getattr(ad, "action_slot", None)))

    def shift(delta: float) -> None:
        for fc in curves:
            n = len(fc.keyframe_points)
            for attr in ("co", "handle_left", "handle_right"):
                buf = np.empty(2 * n, np.float32)
                fc.keyframe_points.foreach_get(attr, buf)
                buf[0::2] += delta
                fc.keyframe_points.foreach_set(attr, buf)
            fc.update()

    if start_frame:
        shift(-start_frame)
    try:
        yield
    finally:
        if start_frame:
            shift(start_frame)


def export_file(path: str, objects, *, scene=None, start_frame: float = 0.0) -> str:
    """Write ``objects`` with their active shape-key Actions to ``path`` (.glb/.gltf/.fbx)."""
    p = Path(bpy.path.abspath(path))
    ext = p.suffix.lower()
    if ext not in EXTS:
        raise ConfigError(f"{p}: cannot export to '{ext or 'no extension'}'; use .glb, .gltf or .fbx")
    scene = scene or bpy.context.scene
    # Written into a temporary folder beside the target and moved into place only when complete (with a .gltf's
    # .bin): a failed export leaves no partial file and keeps an older file of that name.
    printed: dict[int, bytes] = {}
    try:
        with atomic_files(p, EXPORT_HINT) as tmp, output_held() as held:
            try:
                if ext == ".fbx":
                    from .fbx import export_fbx

                    export_fbx(str(tmp), objects, scene=scene, start_frame=start_frame)
                else:
                    from .gltf import export_gltf

                    export_gltf(str(tmp), objects, start_frame=start_frame)
            finally:
                printed = held()
    except RuntimeError as e:  # Blender wraps the exporter's own OSError (e.g. a full disk) in a RuntimeError
        m = re.search(r"\[Errno (\d+)\] ([^:'\n]+)", str(e))
        if m is None:
            _echo(printed)
            raise
        # a disk or permission problem: one line, not the report with the exporter's traceback Blender printed
        raise output_error(p, OSError(int(m.group(1)), m.group(2).strip()), EXPORT_HINT) from None
    _echo(printed)
    return str(p)


@contextlib.contextmanager
def output_held():
    """Hold what is written to file descriptors 1 and 2: on a failed operator Blender prints its report, with the
    exporter's traceback, there itself (stdout and stderr) before it raises RuntimeError. Yields a function that
    restores both and returns {fd: held bytes}. Main thread only."""
    import os
    import sys
    import tempfile

    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    bufs = {fd: tempfile.TemporaryFile() for fd in (1, 2)}
    for fd, buf in bufs.items():
        os.dup2(buf.fileno(), fd)
    done: dict[int, bytes] = {}

    def held() -> dict[int, bytes]:
        if not done:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, buf in bufs.items():
                os.dup2(saved[fd], fd)
                buf.seek(0)
                done[fd] = buf.read()
        return done

    try:
        yield held
    finally:
        held()
        for fd in (1, 2):
            os.close(saved[fd])
            bufs[fd].close()


def _echo(printed: dict[int, bytes]) -> None:
    import os

    for fd, data in printed.items():
        if data:
            os.write(fd, data)
