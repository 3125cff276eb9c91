"""Panel settings -> BakeSpec, and the selection of target meshes."""

from __future__ import annotations

import bpy

from a2f_core.errors import ConfigError

from .. import preferences
from ..bake.steps import BakeSpec
from ..properties import character_value, mapping_value


def target_names(context) -> list[str]:
    s = context.scene.a2f
    if s.use_selected:
        obs = [o for o in context.selected_objects if o.type == "MESH"]
        active = context.active_object
        if active is not None and active.type == "MESH" and active not in obs:
            obs.insert(0, active)
        if obs:
            return [o.name for o in obs]
    if s.target is not None:
        return [s.target.name]
    return []


def spec_from_scene(context, **overrides) -> BakeSpec:
    s = context.scene.a2f
    face = {}
    if s.face.enabled:
        from a2f_core.config import FACE_PARAM_RANGES

        face = {n: float(getattr(s.face, n)) for n in FACE_PARAM_RANGES}
    prefs = preferences.get(context)
    t = s.transcript.strip()
    is_script = t.lower().endswith((".csv", ".tsv"))  # a dialogue script: this audio file's row is its words
    spec = BakeSpec(
        objects=target_names(context),
        audio=s.audio_path if s.audio_source == "FILE" else "",
        sound_strip=s.sound_strip if s.audio_source == "STRIP" else "",
        transcript="" if is_script else bpy.path.abspath(t) if t.lower().endswith(".txt") else t,
        script=bpy.path.abspath(t) if is_script else "",
        backend=s.backend,
        backend_options=preferences.backend_options(prefs).get(s.backend, {}),
        character=character_value(s),
        emotion="" if s.emotion == "NONE" else s.emotion,
        emotion_strength=s.emotion_strength,
        face_params=face,
        mapping=mapping_value(s),
        start_frame=s.start_frame,
        fps_mode=s.fps_mode,
        existing_action=s.existing_action,
        push_to_nla=s.push_to_nla,
        add_sound_strip=s.add_sound_strip,
        scene=context.scene.name,
    )
    for k, v in overrides.items():
        setattr(spec, k, v)
    if spec.backend == "nim":  # the add-on contacts other hosts only with Blender's online access on
        from ..preferences import online_blocked

        blocked = online_blocked(str(spec.backend_options.get("url") or "127.0.0.1:52000"))
        if blocked:
            raise ConfigError(blocked)
    return spec
