"""Blender tests: real bpy, one Blender per process, user resources in a temp dir, a clean file per test.

Every test in this folder is marked ``blender``. Without the bpy module the folder is skipped.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# Keep Blender out of ~/.config/blender; must be set before bpy is imported.
os.environ.setdefault("BLENDER_USER_RESOURCES", tempfile.mkdtemp(prefix="a2f-blender-user-"))

try:
    import bpy
except ImportError:  # pragma: no cover - depends on the venv
    bpy = None
    collect_ignore_glob = ["test_*.py"]

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.blender)


_status: dict[str, int] = {}


def pytest_sessionfinish(session, exitstatus):
    _status["rc"] = int(exitstatus)


def pytest_unconfigure(config):
    # bpy 4.2.23 segfaults at interpreter exit after a glTF export: leave before the teardown.
    if bpy is not None and bpy.app.version < (4, 3, 0) and "rc" in _status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_status["rc"])


@pytest.fixture(autouse=True)
def clean_file():
    """An empty file for every test (add-ons registered with register() survive this)."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield


@pytest.fixture(scope="module")
def addon():
    import addon as pkg

    pkg.register()
    yield pkg
    pkg.unregister()


@pytest.fixture
def head():
    from addon import demo_rig

    return demo_rig.build(segments=32, rings=24)  # coarse: fast to build and export
