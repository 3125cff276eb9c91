"""Backend registry. Add a backend with one line in _REGISTRY; callers use get()/available()."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from ..errors import BackendError
from .base import Availability, Backend, CancelToken, Capabilities, ProgressFn

# name -> "module:Class" (imported lazily so a missing optional dependency breaks only its backend)
_REGISTRY: dict[str, str] = {
    "local": "a2f_core.backends.local:LocalBackend",
    "nim": "a2f_core.backends.nim:NimBackend",
    "sdk": "a2f_core.backends.sdk:SdkBackend",
}

DEFAULT = "local"


def names() -> list[str]:
    return list(_REGISTRY)


def backend_class(name: str) -> Any:
    if name not in _REGISTRY:
        raise BackendError(f"unknown backend '{name}'; choose one of: {', '.join(_REGISTRY)}")
    mod_name, cls_name = _REGISTRY[name].split(":")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as e:
        raise BackendError(f"backend '{name}' cannot load: {e}") from None
    return getattr(mod, cls_name)


def split_options(name: str, candidates: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(the candidates backend ``name``'s constructor takes, the names it does not); None values are dropped.

    Front ends (CLI, bake.py) offer every option they have and let each backend take its own."""
    params = {
        n for n, p in inspect.signature(backend_class(name)).parameters.items() if p.kind is not p.VAR_KEYWORD
    }
    given = {k: v for k, v in candidates.items() if v is not None}
    return {k: v for k, v in given.items() if k in params}, [k for k in given if k not in params]


def get(name: str = DEFAULT, **options: Any) -> Backend:
    """A ready backend instance; ``options`` go to its constructor (e.g. url= for nim)."""
    return backend_class(name)(**options)


def available(skip: set[str] | frozenset[str] = frozenset(), **options_by_name: dict) -> dict[str, Availability]:
    """name -> Availability for every registered backend but ``skip`` (never raises)."""
    out: dict[str, Availability] = {}
    for n in _REGISTRY:
        if n in skip:
            continue
        try:
            out[n] = get(n, **options_by_name.get(n, {})).availability()
        except Exception as e:  # a broken backend must not hide the others
            out[n] = Availability(False, str(e))
    return out


def shutdown() -> None:
    """Stop the worker processes backends started (the bundled one's decoder pool), e.g. before a host
    that skips Python's exit handlers quits (the bpy 4.2 module does)."""
    import sys

    pool = sys.modules.get("a2f_core.process_pool")
    if pool is not None:
        pool.shutdown()


__all__ = ["Availability", "Backend", "CancelToken", "Capabilities", "ProgressFn", "names", "get", "available",
           "shutdown"]
