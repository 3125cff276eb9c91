"""register()/unregister() of every class, the File > Import entry and Scene.a2f."""

from __future__ import annotations

import bpy

from . import dropdowns, operators, preferences, properties
from .ui import panel

CLASSES = (preferences.A2FPreferences, *properties.CLASSES, *operators.CLASSES, *panel.CLASSES)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register()
    bpy.types.TOPBAR_MT_file_import.append(operators.menu_import)
    try:  # availability of the bundled backend is cheap; NIM/SDK are only probed on Refresh
        dropdowns.refresh_backends(preferences.backend_options(preferences.get()), probe_network=False)
    except Exception as e:
        print(f"A2F: could not check backends: {e}")


def unregister() -> None:
    bpy.types.TOPBAR_MT_file_import.remove(operators.menu_import)
    properties.unregister()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
