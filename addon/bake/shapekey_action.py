"""The fast shape-key writer: one new Action per take, F-curves filled with keyframe_points.add + foreach_set.

Blender 4.4+ stores F-curves in slots/layers/channelbags (Action.fcurves is gone in 5.0); 4.2-4.3 use the
legacy Action.fcurves. Both paths give one F-curve per shape key, LINEAR keys, every channel keyed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import bpy
import numpy as np

SLOTTED = bpy.app.version >= (4, 4, 0)
OWNER_PROP = "a2f_owned"  # custom property marking the Actions and strips this add-on created
GROUP = "A2F"
_INTERP: Any = bpy.types.Keyframe.bl_rna.properties["interpolation"]
_LINEAR = _INTERP.enum_items["LINEAR"].value


def is_owned(idblock) -> bool:
    return bool(idblock.get(OWNER_PROP, False))


def data_path(key_name: str) -> str:
    escaped = key_name.replace("\\", "\\\\").replace('"', '\\"')
    return f'key_blocks["{escaped}"].value'


def new_take_action(key: Any, name: str, key_names: list[str], frames: np.ndarray, values: np.ndarray):
    """A new owned Action holding ``values`` [n x len(key_names)] at ``frames`` (n,) for ``key``.

    Returns (action, slot); slot is None on Blender < 4.4. The Action is not assigned yet.
    """
    frames = np.asarray(frames, dtype=np.float64)
    values = np.asarray(values, dtype=np.float32)
    n = len(frames)
    action: Any = bpy.data.actions.new(name)
    action[OWNER_PROP] = True
    action.use_fake_user = True  # a take survives save/reload even after another take replaces it
    slot = None
    if SLOTTED:
        slot = action.slots.new(id_type="KEY", name=key.name)
        layer = action.layers.new("A2F")
        strip = layer.strips.new(type="KEYFRAME")
        fcurves = strip.channelbag(slot, ensure=True).fcurves
    co = np.empty((n, 2), np.float32)
    co[:, 0] = frames
    interp = np.full(n, _LINEAR, np.int32)
    for j, kname in enumerate(key_names):
        if SLOTTED:
            fc = fcurves.new(data_path(kname), index=0)
        else:
            fc = action.fcurves.new(data_path(kname), index=0, action_group=GROUP)
        fc.keyframe_points.add(n)
        co[:, 1] = values[:, j]
        fc.keyframe_points.foreach_set("co", co.ravel())
        fc.keyframe_points.foreach_set("interpolation", interp)
        # No fc.update(): keys go in sorted and LINEAR, so neither the sort nor the handle pass it runs
        # changes evaluation, and it was over half of the write time (bench/RESULTS.md).
    return action, slot


def assign(key: Any, action, slot) -> None:
    ad: Any = key.animation_data or key.animation_data_create()
    ad.action = action
    if SLOTTED and slot is not None:
        ad.action_slot = slot


def _nla_strip(track, action, start: float):
    strip = track.strips.new(action.name, int(round(start)), action)
    return strip


@dataclass
class Installed:
    """What installing a take changed, so that it can be undone exactly."""

    undo: list[Callable[[], None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def rollback(self) -> None:
        for fn in reversed(self.undo):
            fn()
        self.undo.clear()


def install_take(
    key: Any,
    action,
    slot,
    *,
    existing: str = "KEEP",
    push_to_nla: bool = False,
    start_frame: float = 0.0,
    log: Installed,
) -> None:
    """Make ``action`` the active Action of ``key`` without losing an artist Action.

    existing: KEEP = the artist Action stays in the file (fake user) and can be re-assigned;
              NLA  = it is pushed onto a new NLA track under the take.
    push_to_nla: also put the take itself on an NLA track (it stays the active Action so exporters see it).
    """
    created_ad = key.animation_data is None
    ad: Any = key.animation_data or key.animation_data_create()
    if created_ad:
        log.undo.append(key.animation_data_clear)
    prev: Any = ad.action
    prev_slot = ad.action_slot if (SLOTTED and prev is not None) else None

    def restore() -> None:
        if key.animation_data is None:
            return
        key.animation_data.action = prev
        if SLOTTED and prev is not None and prev_slot is not None:
            key.animation_data.action_slot = prev_slot

    log.undo.append(restore)
    if prev is not None and not is_owned(prev):
        if existing == "NLA":
            track = ad.nla_tracks.new()
            track.name = f"A2F artist: {prev.name}"[:63]
            _nla_strip(track, prev, prev.frame_range[0])
            log.undo.append(_remover(ad.nla_tracks, track))
            log.notes.append(f"artist action '{prev.name}' pushed to NLA track '{track.name}'")
        else:
            was = prev.use_fake_user
            prev.use_fake_user = True

            def unfake(p: Any = prev, w: bool = was) -> None:
                p.use_fake_user = w

            log.undo.append(unfake)
            log.notes.append(f"artist action '{prev.name}' kept in the file (fake user); re-assign it any time")
    ad.action = None
    assign(key, action, slot)
    if push_to_nla:
        track = ad.nla_tracks.new()
        track.name = f"A2F take: {action.name}"[:63]
        _nla_strip(track, action, start_frame)
        log.undo.append(_remover(ad.nla_tracks, track))


def _remover(collection: Any, item: Any) -> Callable[[], None]:
    def remove() -> None:
        collection.remove(item)

    return remove


def fcurves_of(action, slot=None):
    """The F-curves of ``action`` (its first slot's channelbag on 4.4+)."""
    if not SLOTTED:
        return list(action.fcurves)
    out = []
    for layer in action.layers:
        for strip in layer.strips:
            for cb in strip.channelbags:
                if slot is None or cb.slot == slot:
                    out.extend(cb.fcurves)
    return out
