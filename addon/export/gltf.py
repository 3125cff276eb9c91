"""glTF export of the active shape-key Actions (morph-target weights), keys exported unsampled and exact."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import bpy

from a2f_core.errors import A2FError

from . import only_selected, slid_to_zero


def export_gltf(path: str, objects, *, start_frame: float = 0.0) -> None:
    fmt = "GLB" if path.lower().endswith(".glb") else "GLTF_SEPARATE"
    with only_selected(objects), slid_to_zero(objects, start_frame):
        res = bpy.ops.export_scene.gltf(
            filepath=path,
            export_format=fmt,
            use_selection=True,
            export_animations=True,
            export_morph=True,
            export_morph_animation=True,
            export_animation_mode="ACTIVE_ACTIONS",  # the take (glTF drops shape keys that live only in NLA)
            export_force_sampling=False,  # keys as written: exact values and times
            export_apply=False,
        )
    if not res or "FINISHED" not in res:
        raise RuntimeError(f"glTF exporter returned {res}")
    check_morph_animation(path)


def _gltf_json(path: str) -> dict:
    data = Path(path).read_bytes()
    if data[:4] == b"glTF":
        length, kind = struct.unpack_from("<I4s", data, 12)
        if kind == b"JSON":
            return json.loads(data[20:20 + length])
        return {}
    return json.loads(data)


def check_morph_animation(path: str) -> None:
    """Exporters can drop shape-key animation silently: make sure the file has a morph-weights animation."""
    doc = _gltf_json(path)
    channels = [c for a in doc.get("animations", []) for c in a.get("channels", [])]
    if not any(c.get("target", {}).get("path") == "weights" for c in channels):
        raise A2FError(f"{path}: the glTF exporter wrote no shape-key (morph weights) animation; "
                       "check that the take is the active Action of the mesh's shape keys")
