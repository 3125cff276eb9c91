"""An owned sound strip for the take, on a free VSE channel (skipped when Blender lacks Audaspace)."""

from __future__ import annotations

from typing import Any

from .shapekey_action import OWNER_PROP


def strips(scene) -> Any:
    """The scene's top-level strip collection (``strips`` on 4.4+, ``sequences`` before), or None."""
    se = scene.sequence_editor
    if se is None:
        return None
    return se.strips if hasattr(se, "strips") else se.sequences


def all_strips(scene) -> list:
    se = scene.sequence_editor
    if se is None:
        return []
    return list(se.strips_all if hasattr(se, "strips_all") else se.sequences_all)


def sound_strips(scene) -> list:
    return [s for s in all_strips(scene) if s.type == "SOUND"]


def content_start(strip) -> float:
    """Scene frame where the strip's sound starts (``content_start`` on 5.1+, ``frame_start`` before)."""
    return strip.content_start if hasattr(strip, "content_start") else strip.frame_start


def _left(strip) -> float:  # visible start (``left_handle`` on 5.1+, ``frame_final_start`` before)
    return strip.left_handle if hasattr(strip, "left_handle") else strip.frame_final_start


def _right(strip) -> float:
    return strip.right_handle if hasattr(strip, "right_handle") else strip.frame_final_end


def free_channel(scene, start: float, end: float) -> int:
    busy = {s.channel for s in all_strips(scene) if _left(s) < end and _right(s) > start}
    ch = 1
    while ch in busy:
        ch += 1
    return ch


def add_sound(scene, filepath: str, start_frame: int, name: str, duration_frames: float, undo: list) -> str | None:
    """Add the audio as an owned strip. Returns a warning instead of raising when sound is unsupported."""
    created_editor = scene.sequence_editor is None
    se = scene.sequence_editor or scene.sequence_editor_create()
    if created_editor:
        undo.append(lambda: scene.sequence_editor_clear())
    coll: Any = strips(scene)
    ch = free_channel(scene, start_frame, start_frame + duration_frames + 1)
    try:
        strip = coll.new_sound(name[:63], filepath, ch, int(start_frame))
    except RuntimeError as e:  # e.g. bpy 4.2 wheel: "Blender compiled without Audaspace support"
        return f"no sound strip added ({e})"
    strip[OWNER_PROP] = True

    def remove(s=strip, c=coll) -> None:
        if scene.sequence_editor is not None:
            c.remove(s)

    undo.append(remove)
    del se
    return None
