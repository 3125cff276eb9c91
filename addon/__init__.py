"""A2F for Blender: speech -> ARKit-52 shape-key animation (bundled CPU backend, NVIDIA Audio2Face-3D NIM/SDK).

Two layouts are supported: the repository (a2f_core/ beside this folder) and the built extension
(a2f_core/ and presets/ copied into vendor/ inside this folder; only vendor/ goes on sys.path).
"""

from __future__ import annotations

import sys
from pathlib import Path

bl_info = {  # legacy add-on metadata; the extension uses blender_manifest.toml
    "name": "A2F Face Animation",
    "blender": (4, 2, 0),
    "category": "Animation",
    "location": "3D Viewport > Sidebar > A2F",
    "description": "Speech to ARKit-52 facial animation on shape keys",
}


def _make_core_importable() -> None:
    here = Path(__file__).resolve().parent
    for root in (here / "vendor", here.parent):
        if (root / "a2f_core" / "__init__.py").is_file():
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            return


_make_core_importable()


def register() -> None:
    from . import registration

    registration.register()


def unregister() -> None:
    from . import registration

    registration.unregister()
