"""Export the baked shape-key animation: glTF (.glb/.gltf) and FBX. Time 0 of the file = audio start."""

from __future__ import annotations

import contextlib
from pathlib import Path

import bpy
import numpy as np

from a2f_core.errors import ConfigError

from ..bake.shapekey_action import fcurves_of

EXTS = (".glb", ".gltf", ".fbx")


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
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"{p}: cannot create the folder for the export ({e.strerror or e})") from None
    scene = scene or bpy.context.scene
    if ext == ".fbx":
        from .fbx import export_fbx

        export_fbx(str(p), objects, scene=scene, start_frame=start_frame)
    else:
        from .gltf import export_gltf

        export_gltf(str(p), objects, start_frame=start_frame)
    return str(p)
