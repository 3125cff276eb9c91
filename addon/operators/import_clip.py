"""a2f.import_clip: an NVIDIA animation_frames.csv or Omniverse JSON onto the target meshes (File > Import too)."""

from __future__ import annotations

import bpy
from bpy.props import StringProperty
from bpy_extras.io_utils import ImportHelper

from a2f_core.errors import A2FError

from ..bake import steps
from .bake import _report_done
from .panel_spec import spec_from_scene


class A2F_OT_import_clip(bpy.types.Operator, ImportHelper):  # type: ignore[misc]
    """Import an Audio2Face animation (NVIDIA animation_frames.csv or Omniverse JSON) onto the selected meshes"""

    bl_idname = "a2f.import_clip"
    bl_label = "Import A2F Animation (.csv/.json)"
    bl_options = {"REGISTER", "UNDO"}

    filename_ext = ".csv"
    filter_glob: StringProperty(default="*.csv;*.json", options={"HIDDEN"})
    audio: StringProperty(name="Audio (optional)", subtype="FILE_PATH",
                          description="The voice line of this animation, added as a sound strip")

    def execute(self, context):
        try:
            spec = spec_from_scene(context, clip=self.filepath, audio=self.audio, sound_strip="", transcript="")
            job = steps.resolve(spec)
            steps.compute(job)
            if self.audio:  # the optional voice line must be audio, or the strip is a silent 1-frame stub
                from a2f_core.audio import probe

                job.audio_path = str(probe(bpy.path.abspath(self.audio)))
            rep = steps.write(job)
        except A2FError as e:
            self.report({"ERROR"}, str(e))
            return {"CANCELLED"}
        _report_done(self, context, rep)
        return {"FINISHED"}


def menu_import(self, context):
    self.layout.operator(A2F_OT_import_clip.bl_idname, text="Audio2Face Animation (.csv/.json)")
