"""Dynamic lists for the panel's drop-downs (backends, characters, emotions, rig presets, sound strips).

Blender keeps only pointers to enum item strings, so every list lives in a module-level cache.
"""

from __future__ import annotations

from a2f_core import backends, presets, retarget

_cache: dict[str, list] = {}
_backend_status: dict[str, tuple[bool, str]] = {}
LABELS = {"local": "Bundled CPU", "nim": "NVIDIA NIM", "sdk": "NVIDIA SDK (GPU)"}


NETWORK_BACKENDS = ("nim",)


def refresh_backends(options_by_name: dict | None = None, *, probe_network: bool = True) -> dict[str, tuple[bool, str]]:
    """Ask every backend whether it can run here (Refresh button; on register without network probes).

    A network backend is not contacted when Blender's online access is off and its URL is not loopback.
    """
    from .preferences import online_blocked

    options_by_name = dict(options_by_name or {})
    _backend_status.clear()
    skipped = {}
    for name in NETWORK_BACKENDS:
        url = options_by_name.get(name, {}).get("url", "127.0.0.1:52000")
        blocked = online_blocked(url)
        if blocked or not probe_network:
            skipped[name] = blocked or "press Refresh (or Check Connection) to contact the server"
    av = backends.available(skip=set(skipped), **options_by_name)
    for name, a in av.items():
        _backend_status[name] = (a.ok, a.reason)
    for name, reason in skipped.items():
        _backend_status[name] = (False, reason)
    items = []
    for i, name in enumerate(backends.names()):
        ok, reason = _backend_status.get(name, (False, "not checked yet"))
        label = LABELS.get(name, name)
        items.append((name, label if ok else f"{label} (unavailable)", reason or label, i))
    _cache["backend"] = items
    return dict(_backend_status)


def parameters_applied(name: str) -> frozenset[str] | None:
    """The face parameters backend ``name`` applies (None: all of them, or the backend cannot load)."""
    try:
        return backends.backend_class(name).capabilities.parameters
    except Exception:
        return None


def backend_status(name: str) -> tuple[bool, str]:
    return _backend_status.get(name, (False, "press Refresh to check"))


def backend_items(self, context):
    if "backend" not in _cache:
        _cache["backend"] = [(n, LABELS.get(n, n), "", i) for i, n in enumerate(backends.names())]
    return _cache["backend"]


def character_items(self, context):
    if "character" not in _cache:
        names = presets.list_characters()
        items = [(n, n.title(), f"NVIDIA's {n.title()} character preset", i) for i, n in enumerate(names)]
        items.append(("CUSTOM", "Custom YAML", "A run-time YAML file", len(items)))
        _cache["character"] = items
    return _cache["character"]


def emotion_items(self, context):
    if "emotion" not in _cache:
        names = presets.list_emotions()
        items = [("NONE", "None", "No emotion preset", 0)]
        items += [(n, n.replace("_", " ").title(), f"Emotion preset {n}", i + 1) for i, n in enumerate(names)]
        _cache["emotion"] = items
    return _cache["emotion"]


_LABELS = {"arkit": "ARKit", "vrm": "VRM", "rpm": "RPM"}


def _preset_label(name: str) -> str:
    """``vrm_perfect_sync`` -> ``VRM Perfect Sync``, ``arkit`` -> ``ARKit``."""
    return " ".join(_LABELS.get(w, w.title()) for w in name.split("_"))


def mapping_items(self, context):
    if "mapping" not in _cache:
        names = retarget.list_rig_presets()
        items = [(n, _preset_label(n), f"Rig mapping preset {n}", i) for i, n in enumerate(names)]
        items.append(("CUSTOM", "Custom YAML", "Your own mapping file (see presets/rigs/custom_example.yaml)",
                      len(items)))
        _cache["mapping"] = items
    return _cache["mapping"]


def search_sound_strips(self, context, edit_text):
    from .bake.sound_strip import sound_strips

    return [s.name for s in sound_strips(context.scene) if edit_text.lower() in s.name.lower()]
