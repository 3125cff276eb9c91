"""Operators: a2f.bake, a2f.cancel_bake, a2f.use_heard, a2f.import_clip, a2f.check_connection, a2f.refresh_backends, a2f.auto_map."""

from __future__ import annotations

from .bake import A2F_OT_bake, A2F_OT_cancel_bake, A2F_OT_use_heard
from .connection import A2F_OT_check_connection, A2F_OT_refresh_backends
from .import_clip import A2F_OT_import_clip, menu_import
from .mapping import A2F_OT_auto_map

CLASSES = (A2F_OT_bake, A2F_OT_cancel_bake, A2F_OT_use_heard, A2F_OT_import_clip, A2F_OT_check_connection, A2F_OT_refresh_backends,
           A2F_OT_auto_map)

__all__ = ["CLASSES", "menu_import"]
