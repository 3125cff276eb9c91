"""Scene settings of the A2F panel (saved in the .blend): Scene.a2f."""

from __future__ import annotations

import re

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)

from a2f_core import retarget
from a2f_core.config import FACE_PARAM_RANGES
from a2f_core.errors import ConfigError

from . import dropdowns


class A2FChannelName(bpy.types.PropertyGroup):
    name: StringProperty()


def _ui_name(param: str) -> str:
    """``upperFaceSmoothing`` -> ``Upper Face Smoothing`` (the slider label; the tooltip keeps the A2F name)."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", param).title()


# Blender 4.5+ warns about "//" (blend-relative) values unless a path property declares support; 4.2 lacks the flag.
PATH_OPTIONS = {"PATH_SUPPORTS_BLEND_RELATIVE"} if bpy.app.version >= (4, 5, 0) else set()


def _face_params_class():
    ann = {
        "enabled": BoolProperty(name="Override face parameters", default=False,
                                description="Use these sliders instead of the character preset's values"),
    }
    for name, (lo, hi, default) in FACE_PARAM_RANGES.items():
        ann[name] = FloatProperty(name=_ui_name(name), min=lo, max=hi, default=default, precision=4,
                                  description=f"Audio2Face face parameter {name} ({lo:g} to {hi:g})")
    return type("A2FFaceParams", (bpy.types.PropertyGroup,), {"__annotations__": ann})


A2FFaceParams = _face_params_class()


def _is_mesh(self, ob) -> bool:
    return ob.type == "MESH"


def _other_audio(self, context) -> None:
    """The heard words belong to the audio they were heard in: forget them when the audio changes."""
    if self.heard:
        self.heard = ""


class A2FSettings(bpy.types.PropertyGroup):
    audio_source: EnumProperty(
        name="Audio from",
        items=[("FILE", "File", "An audio file on disk"), ("STRIP", "Sound strip", "A sound strip of this scene")],
        default="FILE", update=_other_audio,
    )
    audio_path: StringProperty(name="Audio", subtype="FILE_PATH", options=PATH_OPTIONS, update=_other_audio,
                               description="WAV, FLAC, OGG or MP3 voice line")
    sound_strip: StringProperty(name="Strip", description="An existing sound strip (its start frame is used)",
                                search=dropdowns.search_sound_strips, update=_other_audio)
    transcript: StringProperty(name="Transcript", description="Optional: the spoken words, a .txt file, or a "
                               "dialogue script (.csv/.tsv: file name, text) holding this audio file's line; "
                               "helps the bundled backend find the phonemes")
    backend: EnumProperty(name="Backend", items=dropdowns.backend_items,
                          description="Where the animation is computed")
    character: EnumProperty(name="Character", items=dropdowns.character_items,
                            description="Audio2Face character preset (or a custom YAML)")
    character_yaml: StringProperty(name="Character YAML", subtype="FILE_PATH", options=PATH_OPTIONS)
    emotion: EnumProperty(name="Emotion", items=dropdowns.emotion_items, description="Emotion preset")
    emotion_strength: FloatProperty(name="Strength", min=0.0, max=1.0, default=0.6, subtype="FACTOR")
    face: PointerProperty(type=A2FFaceParams)
    use_selected: BoolProperty(name="All selected meshes", default=True,
                               description="Bake onto every selected mesh; off: only the target mesh below")
    target: PointerProperty(name="Target mesh", type=bpy.types.Object, poll=_is_mesh)
    mapping: EnumProperty(name="Rig mapping", items=dropdowns.mapping_items,
                          description="How clip channels map onto the mesh's shape keys")
    mapping_yaml: StringProperty(name="Mapping YAML", subtype="FILE_PATH", options=PATH_OPTIONS)
    unmatched: CollectionProperty(type=A2FChannelName)
    mapping_summary: StringProperty()
    start_frame: IntProperty(name="Start frame", default=1, min=-1048574, max=1048574,  # Blender's MAXFRAME
                             description="Scene frame where the audio starts (the first key of the take)")
    fps_mode: EnumProperty(
        name="Frame rate",
        items=[
            ("SUBFRAME", "Keep 60 fps samples", "Keys on subframes when the scene is not at 60 fps; timing exact"),
            ("RESAMPLE", "Resample to scene", "One key per scene frame (fps / fps_base)"),
            ("SCENE", "Set scene to 60 fps", "Switch the scene to 60 fps and key every frame"),
        ],
        default="SUBFRAME",
    )
    existing_action: EnumProperty(
        name="Existing action",
        items=[
            ("KEEP", "Keep", "Keep the artist's action in the file (fake user); the take becomes active"),
            ("NLA", "Push to NLA", "Push the artist's action onto an NLA track below the take"),
        ],
        default="KEEP",
    )
    push_to_nla: BoolProperty(name="Also put take on NLA", default=False)
    add_sound_strip: BoolProperty(name="Add sound strip", default=True)
    # progress of a running bake, shown in the panel (the running state itself lives in operators.bake)
    progress: FloatProperty(name="Progress", min=0.0, max=1.0, subtype="FACTOR")
    status: StringProperty()
    last_report: StringProperty()
    heard: StringProperty(name="Heard", description="Words recognised in the last bake without a transcript")


def character_value(s: A2FSettings) -> str:
    if s.character != "CUSTOM":
        return s.character
    if not s.character_yaml:
        raise ConfigError("character 'Custom YAML' is chosen but no YAML file is set; pick the file in the A2F panel")
    return bpy.path.abspath(s.character_yaml)


def mapping_value(s: A2FSettings) -> str:
    if s.mapping == "CUSTOM":
        if not s.mapping_yaml:
            raise ConfigError("rig mapping 'Custom YAML' is chosen but no mapping file is set; pick it in the A2F panel")
        return bpy.path.abspath(s.mapping_yaml)
    return s.mapping if s.mapping in retarget.list_rig_presets() else ""


CLASSES = (A2FChannelName, A2FFaceParams, A2FSettings)


def register() -> None:
    setattr(bpy.types.Scene, "a2f", PointerProperty(type=A2FSettings))  # type: ignore[func-returns-value]  # noqa: B010


def unregister() -> None:
    delattr(bpy.types.Scene, "a2f")  # noqa: B043
