"""a2f.auto_map: match the 52 ARKit channels to the target meshes' shape keys and list what did not match."""

from __future__ import annotations

import bpy

from a2f_core import retarget
from a2f_core.errors import A2FError

from ..properties import mapping_value
from .panel_spec import target_names


class A2F_OT_auto_map(bpy.types.Operator):
    """Match ARKit channels to the target meshes' shape keys (by name or the mapping preset) and list unmatched ones"""

    bl_idname = "a2f.auto_map"
    bl_label = "Auto-map Shape Keys"

    def execute(self, context):
        s = context.scene.a2f
        s.unmatched.clear()
        names = target_names(context)
        if not names:
            self.report({"ERROR"}, "no target mesh: select a mesh with shape keys")
            return {"CANCELLED"}
        unmatched: set[str] | None = None
        lines = []
        try:
            preset = mapping_value(s) or None
            for n in names:
                ob = bpy.data.objects[n]
                if ob.type != "MESH" or ob.data.shape_keys is None:
                    raise A2FError(f"'{n}' has no shape keys")
                m = retarget.build_mapping(retarget.arkit_channels(), ob.data.shape_keys.key_blocks.keys(),
                                           preset, what=f"mesh '{n}'")
                um = set(m.unmatched_channels)
                unmatched = um if unmatched is None else unmatched & um
                lines.append(f"{n}: {len(m.targets)} keys driven")
        except A2FError as e:
            s.mapping_summary = str(e)
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        for c in retarget.arkit_channels():
            if c in (unmatched or set()):
                s.unmatched.add().name = c
        s.mapping_summary = "; ".join(lines) + (f"; {len(s.unmatched)} channels unmatched" if s.unmatched else "")
        self.report({"INFO"}, s.mapping_summary)
        return {"FINISHED"}
