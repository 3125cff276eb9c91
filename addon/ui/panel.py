"""3D Viewport > Sidebar > A2F."""

from __future__ import annotations

import textwrap

import bpy

from a2f_core.config import FACE_PARAM_RANGES

from .. import dropdowns
from ..operators.bake import running_job
from ..operators.panel_spec import target_names

HEARD_WRAP = 40  # characters per line of the heard words
HEARD_LINES = 6


class A2F_PT_main(bpy.types.Panel):
    bl_idname = "A2F_PT_main"
    bl_label = "Audio2Face"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "A2F"

    def draw(self, context):
        layout = self.layout
        s = context.scene.a2f
        col = layout.column()
        col.row().prop(s, "audio_source", expand=True)
        col.prop(s, "audio_path" if s.audio_source == "FILE" else "sound_strip")
        col.prop(s, "transcript")
        row = col.row(align=True)
        row.prop(s, "backend")
        row.operator("a2f.refresh_backends", text="", icon="FILE_REFRESH")
        ok, reason = dropdowns.backend_status(s.backend)
        if not ok and reason:
            col.label(text=reason, icon="ERROR")
        if s.backend == "nim":
            col.operator("a2f.check_connection", icon="URL")
        if s.backend == "local":  # who hears the words when there is no transcript
            from .. import preferences, recogniser

            col.label(text=f"Words: {recogniser.status(preferences.get(context))[0]}", icon="OUTLINER_OB_SPEAKER")
        col.prop(s, "character")
        if s.character == "CUSTOM":
            col.prop(s, "character_yaml")
        col.prop(s, "emotion")
        sub = col.row()
        sub.enabled = s.emotion != "NONE"
        sub.prop(s, "emotion_strength")

        box = layout.box()
        box.prop(s.face, "enabled")
        if s.face.enabled:
            applied = dropdowns.parameters_applied(s.backend)  # None: all
            for name in FACE_PARAM_RANGES:
                row = box.row()
                row.enabled = applied is None or name in applied
                row.prop(s.face, name)
            if applied is not None and not set(FACE_PARAM_RANGES) <= applied:
                box.label(text=f"Greyed out: not used by {dropdowns.LABELS.get(s.backend, s.backend)}", icon="INFO")

        box = layout.box()
        box.label(text="Target", icon="MESH_DATA")
        box.prop(s, "use_selected")
        if not s.use_selected:
            box.prop(s, "target")
        names = target_names(context)
        if names:
            box.label(text="Bakes onto: " + ", ".join(names))
        else:
            box.label(text="no mesh selected", icon="ERROR")
        box.prop(s, "mapping")
        box.operator("a2f.auto_map", text="Auto-map", icon="LINKED")
        if s.mapping == "CUSTOM":
            box.prop(s, "mapping_yaml")
        if s.mapping_summary:
            box.label(text=s.mapping_summary)
        if len(s.unmatched):
            shown = [c.name for c in s.unmatched][:12]
            more = len(s.unmatched) - len(shown)
            flow = box.column(align=True)
            flow.label(text="Unmatched channels:", icon="INFO")
            for i in range(0, len(shown), 3):
                flow.label(text="  " + ", ".join(shown[i:i + 3]))
            if more:
                flow.label(text=f"  ... and {more} more")

        box = layout.box()
        box.label(text="Timing and output", icon="TIME")
        box.prop(s, "start_frame")
        box.prop(s, "fps_mode")
        box.prop(s, "existing_action")
        box.prop(s, "push_to_nla")
        box.prop(s, "add_sound_strip")

        if running_job(context.scene) is not None:
            layout.prop(s, "progress", text=s.status or "Working", slider=True)
            layout.operator("a2f.cancel_bake", icon="CANCEL")
        else:
            layout.operator("a2f.bake", icon="SHAPEKEY_DATA")
        layout.operator("a2f.import_clip", icon="IMPORT")
        if s.last_report:
            layout.label(text=s.last_report)
        if s.heard:  # recognised words: a starting point for a transcript
            box = layout.box()
            box.label(text="Heard (no transcript):", icon="REC")
            col = box.column(align=True)
            for line in textwrap.wrap(s.heard, HEARD_WRAP)[:HEARD_LINES]:
                col.label(text=line)
            box.operator("a2f.use_heard", icon="TEXT")


CLASSES = (A2F_PT_main,)
