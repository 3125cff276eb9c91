"""Rig mapping: clip channels (ARKit/NVIDIA names) -> a mesh's shape-key names. No bpy here.

A mapping is a list of targets; each target is one shape key driven by one or more channels:

    key_value = sum(weight * (channel * multiplier + offset))

Names match case-insensitively after normalising separators, ``Left/Right`` <-> ``_L/_R``/``.L/.R``
and namespace prefixes such as ``blendShape1.``. A rig preset (``presets/rigs/*.yaml`` or a custom
YAML file) adds explicit weighted N:M entries, per-channel multiplier/offset and keys to ignore.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .clip import Clip
from .errors import ConfigError, MappingError
from .names import ARKIT_52, to_arkit
from .paths import preset_path

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_SIDES = {"l": "left", "r": "right", "left": "left", "right": "right"}


def normalize(name: str) -> str:
    """A comparison key: ``blendShape1.EyeBlink_L`` -> ``eyeblinkleft``."""
    s = name.strip()
    for sep in (":", "|"):  # Maya namespaces, FBX paths
        s = s.rsplit(sep, 1)[-1]
    parts = s.split(".")
    if len(parts) > 1:  # drop a ``prefix.`` but keep a ``.L``/``.R`` side suffix
        keep = 2 if parts[-1].lower() in _SIDES and len(parts) > 2 else 1
        if not (keep == 1 and parts[-1].lower() in _SIDES):
            parts = parts[-keep:]
    tokens: list[str] = []
    for chunk in re.split(r"[\s._\-]+", ".".join(parts)):
        tokens.extend(t.lower() for t in _CAMEL.findall(chunk))
    if tokens and tokens[-1] in _SIDES:
        tokens[-1] = _SIDES[tokens[-1]]
    if tokens and tokens[0] in ("l", "r") and len(tokens) > 1:  # L_eyeBlink -> eyeblinkleft
        tokens = tokens[1:] + [_SIDES[tokens[0]]]
    return "".join(tokens)


@dataclass
class Target:
    """One shape key and the channels that drive it: [(channel, weight), ...]."""

    key: str
    sources: list[tuple[str, float]]


@dataclass
class RigPreset:
    name: str
    description: str = ""
    auto: bool = True  # also match every remaining channel by name
    entries: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # key -> [(channel, weight)]
    multipliers: dict[str, float] = field(default_factory=dict)  # channel -> multiplier
    offsets: dict[str, float] = field(default_factory=dict)  # channel -> offset
    ignore_keys: list[str] = field(default_factory=list)  # fnmatch patterns of keys not reported as unused
    source: str = ""


@dataclass
class Mapping:
    targets: list[Target]
    channels: list[str]  # every channel the clip offered
    multipliers: dict[str, float] = field(default_factory=dict)
    offsets: dict[str, float] = field(default_factory=dict)
    unmatched_channels: list[str] = field(default_factory=list)
    unused_keys: list[str] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [t.key for t in self.targets]

    def apply(self, clip: Clip) -> np.ndarray:
        """Key values [frames x len(targets)] for ``clip``."""
        lookup = {n: i for i, n in enumerate(clip.names)}
        out = np.zeros((clip.n_frames, len(self.targets)), np.float32)
        for j, t in enumerate(self.targets):
            for ch, w in t.sources:
                i = lookup.get(ch)
                if i is None:
                    continue
                v = clip.weights[:, i] * self.multipliers.get(ch, 1.0) + self.offsets.get(ch, 0.0)
                out[:, j] += np.float32(w) * v
        return out

    def summary(self) -> str:
        s = f"{len(self.targets)} shape keys driven by {len(self.channels) - len(self.unmatched_channels)} channels"
        if self.unmatched_channels:
            s += f"; unmatched channels: {', '.join(self.unmatched_channels)}"
        return s


# --- presets --------------------------------------------------------------------------------------------
def rigs_dir() -> Path:
    return preset_path("rigs")


def list_rig_presets() -> list[str]:
    d = rigs_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def _float(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ConfigError(f"{where}: expected a number, got {v!r}")
    return float(v)


def load_rig_preset(name_or_path: str | Path) -> RigPreset:
    """A shipped preset by name (``arkit``, ``vrm_perfect_sync``, ``ready_player_me``) or a YAML file."""
    from .presets import read_yaml

    p = Path(name_or_path)
    if str(name_or_path) and p.is_dir():
        raise ConfigError(f"{p}: is a folder, not a rig mapping file; give a .yaml file or one of: "
                          f"{', '.join(list_rig_presets())}")
    if p.suffix.lower() not in (".yaml", ".yml"):
        p = rigs_dir() / f"{name_or_path}.yaml"
        if not p.is_file():
            raise ConfigError(
                f"unknown rig mapping preset '{name_or_path}'; choose one of: {', '.join(list_rig_presets())} "
                "or give a .yaml file"
            )
    if not p.is_file():
        raise ConfigError(f"{p}: no such rig mapping file; check the path, or use one of: "
                          f"{', '.join(list_rig_presets())}")
    data = read_yaml(p)[0] or {}  # one-line errors naming the file and line (syntax, duplicate keys, not UTF-8)
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping at the top level")
    known = {"name", "description", "auto", "map", "channels", "ignore_keys"}
    extra = set(data) - known
    if extra:
        raise ConfigError(f"{p}: unknown key(s) {', '.join(sorted(extra))}; allowed: {', '.join(sorted(known))}")
    preset = RigPreset(name=str(data.get("name", p.stem)), description=str(data.get("description", "")), source=str(p))
    preset.auto = bool(data.get("auto", True))
    for section, example in (("map", "map: {mouthSmile_L: mouthSmileLeft}"),
                             ("channels", "channels: {jawOpen: {multiplier: 1.2}}")):
        if not isinstance(data.get(section) or {}, dict):
            raise ConfigError(f"{p}: '{section}' must be a mapping of names, e.g. {example}")
    for key, src in (data.get("map") or {}).items():
        where = f"{p}: map.{key}"
        if isinstance(src, str):
            preset.entries[str(key)] = [(to_arkit(src), 1.0)]
        elif isinstance(src, dict) and src:
            preset.entries[str(key)] = [(to_arkit(str(c)), _float(w, f"{where}.{c}")) for c, w in src.items()]
        else:
            raise ConfigError(f"{where}: give a channel name or {{channel: weight, ...}}")
    for ch, opts in (data.get("channels") or {}).items():
        where = f"{p}: channels.{ch}"
        if not isinstance(opts, dict) or set(opts) - {"multiplier", "offset"}:
            raise ConfigError(f"{where}: give {{multiplier: x, offset: y}}")
        if "multiplier" in opts:
            preset.multipliers[to_arkit(str(ch))] = _float(opts["multiplier"], f"{where}.multiplier")
        if "offset" in opts:
            preset.offsets[to_arkit(str(ch))] = _float(opts["offset"], f"{where}.offset")
    ig = data.get("ignore_keys") or []
    if not isinstance(ig, list):
        raise ConfigError(f"{p}: ignore_keys must be a list of name patterns")
    preset.ignore_keys = [str(x) for x in ig]
    return preset


# --- matching -------------------------------------------------------------------------------------------
def build_mapping(
    channels: Sequence[str],
    keys: Iterable[str],
    preset: RigPreset | str | Path | None = None,
    *,
    what: str = "the mesh",
) -> Mapping:
    """Map ``channels`` (clip names) onto shape-key names ``keys``.

    Raises MappingError when no channel maps to any key.
    """
    if isinstance(preset, (str, Path)):
        preset = load_rig_preset(preset)
    preset = preset or RigPreset(name="auto")
    chans = [to_arkit(c) for c in channels]
    key_list = [k for k in keys if k.lower() != "basis"]
    by_norm: dict[str, str] = {}
    for k in key_list:
        by_norm.setdefault(normalize(k), k)
    chan_norm = {normalize(c): c for c in chans}

    targets: list[Target] = []
    used_keys: set[str] = set()
    used_channels: set[str] = set()
    for key, sources in preset.entries.items():
        real: str | None = key if key in key_list else by_norm.get(normalize(key))
        srcs = [(chan_norm.get(normalize(c), c), w) for c, w in sources]
        srcs = [(c, w) for c, w in srcs if c in chans]
        if real is None or not srcs:
            continue
        targets.append(Target(real, srcs))
        used_keys.add(real)
        used_channels.update(c for c, _ in srcs)
    explicit_channels = {chan_norm.get(normalize(c), c) for srcs in preset.entries.values() for c, _ in srcs}
    if preset.auto:
        for c in chans:
            if c in explicit_channels:
                continue
            hit = by_norm.get(normalize(c))
            if hit is not None and hit not in used_keys:
                targets.append(Target(hit, [(c, 1.0)]))
                used_keys.add(hit)
                used_channels.add(c)
    if not targets:
        sample = ", ".join(key_list[:5]) or "none"
        raise MappingError(
            f"no clip channel maps onto a shape key of {what} (its keys: {sample}"
            f"{', ...' if len(key_list) > 5 else ''}); pick a rig mapping preset or write a custom mapping YAML"
        )
    unused = [
        k for k in key_list if k not in used_keys and not any(fnmatch.fnmatch(k, pat) for pat in preset.ignore_keys)
    ]
    return Mapping(
        targets=targets,
        channels=chans,
        multipliers=dict(preset.multipliers),
        offsets=dict(preset.offsets),
        unmatched_channels=[c for c in chans if c not in used_channels],
        unused_keys=unused,
    )


def arkit_channels() -> list[str]:
    return list(ARKIT_52)
