"""a2f_core must never import bpy: it runs in the CLI, the server and tests without Blender."""

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "a2f_core"


def test_no_module_under_a2f_core_imports_bpy():
    offenders = []
    for py in CORE.rglob("*.py"):
        tree = ast.parse(py.read_text(encoding="utf-8"), filename=str(py))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n == "bpy" or n.startswith("bpy.") or n in ("bmesh", "mathutils") for n in names):
                offenders.append(f"{py.relative_to(CORE.parent)}:{node.lineno}")
    assert offenders == [], offenders
    assert len(list(CORE.rglob("*.py"))) > 5
