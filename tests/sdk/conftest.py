"""Fixtures for the sdk backend tests: a stand-in binding (tests/sdk/standin, NOT NVIDIA's SDK) and a clean
import state per test, since the backend puts the binding folder on sys.path and imports from it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from a2f_core.backends.sdk import unload_models

BINDING_MODULES = ("audio2face_py", "audio2face_sdk", "a2f_wrapper")


def _forget_bindings() -> None:
    unload_models()
    for name in BINDING_MODULES:
        sys.modules.pop(name, None)


@pytest.fixture(autouse=True)
def clean_binding_state(monkeypatch):
    """Each test imports the binding afresh and leaves sys.path and the environment as it found them."""
    _forget_bindings()
    for var in ("A2F_SDK_BINDING_PATH", "A2F_SDK_MODEL_PATH", "A2F_STANDIN_IMPORT_ERROR", "A2F_STANDIN_RESULT",
                "A2F_STANDIN_EXTRAS"):
        monkeypatch.setenv(var, "")
    monkeypatch.setenv("A2F_STANDIN_CUDA_DEVICES", "1")
    saved = list(sys.path)
    yield
    sys.path[:] = saved
    _forget_bindings()


@pytest.fixture
def model_json(tmp_path) -> Path:
    p = tmp_path / "multi-diffusion" / "model.json"
    p.parent.mkdir()
    p.write_text('{"networkInfoPath": "network_info.json"}', encoding="utf-8")
    return p


@pytest.fixture
def standin():
    """The stand-in's native module after the backend imported it (its CALLS list records every call)."""

    def get():
        return sys.modules["audio2face_py"]

    return get
