"""Where shipped data lives. presets/ sits beside the a2f_core package, both in the repository
and inside the built Blender extension, so one rule finds it everywhere."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def presets_dir() -> Path:
    """``$A2F_PRESETS_DIR`` if set, else the presets/ folder next to a2f_core/."""
    env = os.environ.get("A2F_PRESETS_DIR")
    return Path(env) if env else PACKAGE_DIR.parent / "presets"


def preset_path(*parts: str) -> Path:
    return presets_dir().joinpath(*parts)
