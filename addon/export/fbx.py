"""FBX export of the scene take. The exporter's defaults drop shape-key animation: both
bake_anim_use_all_actions and bake_anim_use_nla_strips must be False. Re-import with anim_offset=0."""

from __future__ import annotations

import math

import bpy

from ..bake.shapekey_action import fcurves_of
from . import only_selected, slid_to_zero


def _last_key_frame(objects) -> float:
    last = 0.0
    for ob in objects:
        ad = ob.data.shape_keys.animation_data if ob.data.shape_keys else None
        if ad is not None and ad.action is not None:
            for fc in fcurves_of(ad.action, getattr(ad, "action_slot", None)):
                if len(fc.keyframe_points):
                    last = max(last, fc.keyframe_points[-1].co[0])
    return last


def export_fbx(path: str, objects, *, scene, start_frame: float = 0.0) -> None:
    old = (scene.frame_start, scene.frame_end)
    with only_selected(objects), slid_to_zero(objects, start_frame):
        scene.frame_start, scene.frame_end = 0, max(1, int(math.ceil(_last_key_frame(objects))))
        try:
            res = bpy.ops.export_scene.fbx(
                filepath=path,
                use_selection=True,
                object_types={"MESH", "ARMATURE", "EMPTY"},
                bake_anim=True,
                bake_anim_use_all_actions=False,
                bake_anim_use_nla_strips=False,
                bake_anim_simplify_factor=0.0,
                add_leaf_bones=False,
            )
        finally:
            scene.frame_start, scene.frame_end = old
    if not res or "FINISHED" not in res:
        raise RuntimeError(f"FBX exporter returned {res}")
