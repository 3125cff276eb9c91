"""Face parameters a backend does not apply are greyed out in the panel, and a bake that sets one says so."""

from __future__ import annotations

import bpy
from blender_helpers import HELLO

from addon import dropdowns
from addon.operators.bake import last_report


def bake_with(head, **face) -> list[str]:
    s = bpy.context.scene.a2f
    s.audio_source, s.audio_path, s.target, s.use_selected, s.add_sound_strip = "FILE", str(HELLO), head, False, False
    s.backend = "local"
    s.face.enabled = True
    for name, value in face.items():
        setattr(s.face, name, value)
    assert bpy.ops.a2f.bake() == {"FINISHED"}
    return last_report[0].warnings


def test_the_panel_knows_which_parameters_the_bundled_backend_applies(addon):
    applied = dropdowns.parameters_applied("local")
    assert "lowerFaceStrength" in applied and "faceMaskLevel" not in applied and "tongueDepthOffset" not in applied
    assert dropdowns.parameters_applied("nim") is None  # the NIM applies them all


def test_a_bake_says_which_set_parameters_were_not_applied(addon, head):
    warnings = bake_with(head, faceMaskLevel=0.9, lowerFaceStrength=1.5)
    assert any("not applied: faceMaskLevel (the local backend does not use it)" in w for w in warnings), warnings
    assert not any("lowerFaceStrength" in w for w in warnings)


def test_untouched_sliders_raise_no_warning(addon, head):
    assert not [w for w in bake_with(head) if "not applied" in w]
