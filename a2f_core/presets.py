"""Character presets (NVIDIA's run-time YAML) and named emotion presets -> RunConfig.

presets/characters/<name>.yaml hold the three NVIDIA characters in the sample client's format;
presets/emotions/<name>.yaml hold emotion timelines. Every value is validated on load: an unknown
key or an out-of-range value is a ConfigError naming the file, the line, the key, the value and
the allowed range.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from .config import FACE_PARAM_RANGES, POST_PROCESSING_RANGES, EmotionKey, RunConfig
from .errors import ConfigError
from .names import EMOTIONS, NVIDIA_52, NVIDIA_TONGUE_16, to_nvidia
from .paths import preset_path

CHARACTERS: tuple[str, ...] = ("claire", "mark", "james")
BLENDSHAPE_NAMES: tuple[str, ...] = NVIDIA_52 + NVIDIA_TONGUE_16
TOP_LEVEL_KEYS: tuple[str, ...] = (
    "face_parameters",
    "blendshape_parameters",
    "live_transition_time",
    "beginning_emotion",
    "post_processing_parameters",
    "emotion_with_timecode_list",
)
BLENDSHAPE_KEYS: tuple[str, ...] = ("enable_clamping_bs_weight", "multipliers", "offsets")
EMOTION_PRESET_KEYS: tuple[str, ...] = ("description", "timeline")
# face_parameters in the order of NVIDIA's sample files (blink* are accepted but not in them)
FACE_ORDER: tuple[str, ...] = (
    "upperFaceStrength", "upperFaceSmoothing", "lowerFaceStrength", "lowerFaceSmoothing", "faceMaskLevel",
    "faceMaskSoftness", "skinStrength", "eyelidOpenOffset", "lipOpenOffset", "tongueStrength",
    "tongueHeightOffset", "tongueDepthOffset", "blinkStrength", "blinkOffset",
)
STRENGTH_RANGE = (0.0, 1.0)
YAML_SUFFIXES = (".yml", ".yaml")

Lines = dict[tuple[str, ...], int]
# libyaml's parser when PyYAML was built with it (4x faster), else the pure-Python one; both safe
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# --- YAML reading ----------------------------------------------------------------------------
def _walk(node: yaml.Node, path: tuple[str, ...], lines: Lines, source: str) -> None:
    """Record the line of every mapping key; reject duplicate keys (PyYAML silently keeps the last)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, v in node.value:
            key = str(k.value)
            line = k.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{source} line {line}: key '{'.'.join(path + (key,))}' appears twice "
                    f"(first on line {seen[key]}); keep one"
                )
            seen[key] = line
            lines[path + (key,)] = line
            _walk(v, path + (key,), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            lines[path + (str(i),)] = v.start_mark.line + 1
            _walk(v, path + (str(i),), lines, source)


def read_yaml(path: str | os.PathLike) -> tuple[Any, Lines]:
    """(data, {key path: line}) of a YAML file read with PyYAML's safe loader."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file; check the path") from None
    except IsADirectoryError:
        raise ConfigError(f"{p}: is a folder, not a YAML file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read this file ({e})") from None
    return parse_yaml(text, str(p))


def parse_yaml(text: str, source: str) -> tuple[Any, Lines]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: Lines = {}
        if node is None:
            return None, lines
        _walk(node, (), lines, source)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = " ".join(s for s in (e.context, e.problem) if s)
        raise ConfigError(f"{source}{where}: YAML syntax error: {what}; check the indentation and 'key: value' pairs") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: YAML error: {e}") from None
    finally:
        loader.dispose()


# --- validation ------------------------------------------------------------------------------
class _Checker:
    def __init__(self, source: str, lines: Lines | None):
        self.source = source or "config"
        self.lines = lines or {}

    def where(self, path: tuple[str, ...]) -> str:
        for n in range(len(path), 0, -1):
            if path[:n] in self.lines:
                return f"{self.source} line {self.lines[path[:n]]}"
        return self.source

    def fail(self, path: tuple[str, ...], msg: str) -> ConfigError:
        key = ".".join(path)
        return ConfigError(f"{self.where(path)}: {key}{' ' if key else ''}{msg}")

    def unknown(self, path: tuple[str, ...], allowed: tuple[str, ...] | list[str], hint: str | None = None) -> ConfigError:
        close = difflib.get_close_matches(path[-1], list(allowed), n=1, cutoff=0.75)
        guess = f" (did you mean '{close[0]}'?)" if close else ""
        return ConfigError(
            f"{self.where(path)}: unknown key '{'.'.join(path)}'{guess}; allowed: {hint or ', '.join(allowed)}"
        )

    def mapping(self, path: tuple[str, ...], value: Any) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a mapping of 'key: value' lines, got {_show(value)}")
        return value

    def number(self, path: tuple[str, ...], value: Any, lo: float | None = None, hi: float | None = None) -> float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as text
            try:
                value = float(value.strip())
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(path, f"= {_show(value)} is not a number")
        v = float(value)
        if not math.isfinite(v):
            raise self.fail(path, f"= {_show(value)} must be a finite number")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            if hi is None:
                rng = f">= {lo}"
            elif lo is None:
                rng = f"<= {hi}"
            else:
                rng = f"{lo} .. {hi}"
            raise self.fail(path, f"= {_show(value)} is out of range; allowed {rng}")
        return v

    def emotions(self, path: tuple[str, ...], value: Any) -> dict[str, float]:
        out: dict[str, float] = {}
        for k, v in self.mapping(path, value).items():
            name = str(k)
            if name not in EMOTIONS:
                raise self.unknown(path + (name,), EMOTIONS)
            out[name] = self.number(path + (name,), v, 0.0, 1.0)
        return out

    def timeline(self, path: tuple[str, ...], value: Any) -> list[EmotionKey]:
        if value is None:
            return []
        if isinstance(value, dict):  # NVIDIA: {entry name: {time_code, emotions}}, names ignored
            entries = [(str(k), v) for k, v in value.items()]
        elif isinstance(value, list):
            entries = [(str(i), v) for i, v in enumerate(value)]
        else:
            raise self.fail(path, f"must be a mapping or list of {{time_code, emotions}} entries, got {_show(value)}")
        keys = []
        for name, entry in entries:
            p = path + (name,)
            entry = self.mapping(p, entry)
            for k in entry:
                if k not in ("time_code", "emotions"):
                    raise self.unknown(p + (str(k),), ("time_code", "emotions"))
            if "time_code" not in entry:
                raise self.fail(p, "has no time_code; add 'time_code: <seconds>'")
            t = self.number(p + ("time_code",), entry["time_code"], 0.0, None)
            keys.append(EmotionKey(t, self.emotions(p + ("emotions",), entry.get("emotions"))))
        return keys


def _show(value: Any) -> str:
    s = repr(value) if isinstance(value, str) else str(value)
    return s if len(s) <= 60 else s[:57] + "..."


def _blendshape_name(name: str) -> str | None:
    n = to_nvidia(str(name))
    return n if n in BLENDSHAPE_NAMES else None


def validate(
    mapping: Any, source: str = "config", *, lines: Lines | None = None, character: str | None = None
) -> RunConfig:
    """A RunConfig from a parsed run-time YAML mapping; ConfigError for any unknown key or bad value.

    ``lines`` (from :func:`read_yaml`) lets errors name the line; ``character`` defaults to the
    claire/mark/james name found in ``source``, else "custom".
    """
    c = _Checker(source, lines)
    if mapping is None:
        raise ConfigError(f"{c.source}: the file is empty; start from presets/characters/claire.yaml")
    top = c.mapping((), mapping)
    for k in top:
        if k not in TOP_LEVEL_KEYS:
            raise c.unknown((str(k),), TOP_LEVEL_KEYS)
    cfg = RunConfig(character=character or _character_from(source), source=str(source))

    for k, v in c.mapping(("face_parameters",), top.get("face_parameters")).items():
        p = ("face_parameters", str(k))
        if k not in FACE_PARAM_RANGES:
            raise c.unknown(p, list(FACE_PARAM_RANGES))
        lo, hi, _ = FACE_PARAM_RANGES[k]
        cfg.face_params[k] = c.number(p, v, lo, hi)

    bs = c.mapping(("blendshape_parameters",), top.get("blendshape_parameters"))
    for k in bs:
        if k not in BLENDSHAPE_KEYS:
            raise c.unknown(("blendshape_parameters", str(k)), BLENDSHAPE_KEYS)
    if "enable_clamping_bs_weight" in bs:
        v = bs["enable_clamping_bs_weight"]
        if not isinstance(v, bool):
            raise c.fail(("blendshape_parameters", "enable_clamping_bs_weight"), f"= {_show(v)} must be true or false")
        cfg.enable_clamping_bs_weight = v
    for section, target in (("multipliers", cfg.bs_multipliers), ("offsets", cfg.bs_offsets)):
        p0 = ("blendshape_parameters", section)
        for k, v in c.mapping(p0, bs.get(section)).items():
            name = _blendshape_name(k)
            if name is None:
                raise c.unknown(
                    p0 + (str(k),),
                    BLENDSHAPE_NAMES,
                    "the 52 ARKit and 16 tongue blendshape names in NVIDIA's PascalCase (e.g. JawOpen, TongueTipUp)",
                )
            if name in target:
                raise c.fail(p0 + (str(k),), f"names the blendshape {name} a second time; keep one")
            target[name] = c.number(p0 + (str(k),), v)

    if "live_transition_time" in top:
        v = c.number(("live_transition_time",), top["live_transition_time"], 0.0, None)
        if v <= 0.0:
            raise c.fail(("live_transition_time",), f"= {_show(top['live_transition_time'])} is out of range; allowed > 0")
        cfg.live_transition_time = v

    cfg.beginning_emotion = c.emotions(("beginning_emotion",), top.get("beginning_emotion"))

    for k, v in c.mapping(("post_processing_parameters",), top.get("post_processing_parameters")).items():
        p = ("post_processing_parameters", str(k))
        if k not in POST_PROCESSING_RANGES:
            raise c.unknown(p, list(POST_PROCESSING_RANGES))
        lo, hi, _, typ = POST_PROCESSING_RANGES[k]
        if typ is bool:
            if not isinstance(v, bool):
                raise c.fail(p, f"= {_show(v)} must be true or false")
            cfg.post_processing[k] = v
        elif typ is int:
            n = c.number(p, v, lo, hi)
            if n != int(n):
                raise c.fail(p, f"= {_show(v)} must be a whole number ({int(lo)} .. {int(hi)})")
            cfg.post_processing[k] = int(n)
        else:
            cfg.post_processing[k] = c.number(p, v, lo, hi)

    cfg.emotion_timeline = c.timeline(("emotion_with_timecode_list",), top.get("emotion_with_timecode_list"))
    return cfg


def _character_from(source: str) -> str:
    stem = Path(str(source)).stem.lower()
    for ch in CHARACTERS:
        if ch in stem:
            return ch
    return "custom"


# --- characters ------------------------------------------------------------------------------
def _names_in(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file()})


def list_characters() -> list[str]:
    """Shipped character presets: claire, mark, james first, then any others found."""
    found = _names_in(preset_path("characters"))
    return [c for c in CHARACTERS if c in found] + [c for c in found if c not in CHARACTERS]


def load_character(name_or_path: str | os.PathLike = "claire") -> RunConfig:
    """RunConfig of a shipped character (claire | mark | james) or of a run-time .yml/.yaml file."""
    s = os.fspath(name_or_path)
    if s.lower() in list_characters():
        s = s.lower()
        p = _find(preset_path("characters"), s)
        data, lines = read_yaml(p)
        return validate(data, str(p), lines=lines, character=s)
    if s and Path(s).is_dir():
        raise ConfigError(f"{s}: is a folder, not a preset file; give a run-time .yml/.yaml file in it, or one of: "
                          f"{', '.join(list_characters())}")
    if s.lower().endswith(YAML_SUFFIXES) or os.sep in s or "/" in s:
        p = Path(s)
        if not p.is_file():
            raise ConfigError(f"{p}: no such preset file; check the path, or use one of: {', '.join(list_characters())}")
        data, lines = read_yaml(p)
        return validate(data, str(p), lines=lines)
    raise ConfigError(
        f"unknown preset '{s}'; choose one of: {', '.join(list_characters())}, or give a .yml/.yaml file"
    )


def _find(folder: Path, name: str) -> Path:
    for suffix in YAML_SUFFIXES:
        p = folder / f"{name}{suffix}"
        if p.is_file():
            return p
    raise ConfigError(f"{folder}: no preset '{name}'")


# --- emotions --------------------------------------------------------------------------------
def list_emotions() -> list[str]:
    """Shipped emotion presets, neutral first."""
    found = _names_in(preset_path("emotions"))
    return (["neutral"] if "neutral" in found else []) + [e for e in found if e != "neutral"]


def load_emotion(name: str) -> tuple[str, list[EmotionKey]]:
    """(description, timeline at strength 1) of a named emotion preset."""
    name = name.lower()
    if name not in list_emotions():
        raise ConfigError(f"unknown emotion '{name}'; choose one of: {', '.join(list_emotions())}")
    p = _find(preset_path("emotions"), name)
    data, lines = read_yaml(p)
    c = _Checker(str(p), lines)
    if data is None:
        raise ConfigError(f"{p}: the file is empty; it needs a 'timeline' list")
    top = c.mapping((), data)
    for k in top:
        if k not in EMOTION_PRESET_KEYS:
            raise c.unknown((str(k),), EMOTION_PRESET_KEYS)
    if "timeline" not in top:
        raise ConfigError(f"{p}: no 'timeline'; add a list of {{time_code, emotions}} entries")
    timeline = c.timeline(("timeline",), top["timeline"])
    if not timeline:
        raise ConfigError(f"{p}: the timeline is empty; add at least one {{time_code, emotions}} entry")
    return str(top.get("description") or ""), timeline


def describe_emotions() -> dict[str, str]:
    """name -> one-line description (for menus)."""
    return {n: load_emotion(n)[0] for n in list_emotions()}


def apply_emotion(config: RunConfig, name: str, strength: float = 1.0) -> RunConfig:
    """A copy of ``config`` whose emotion timeline is the preset ``name`` scaled by ``strength`` (0..1).

    Every key names all ten emotions (unnamed ones 0), and the beginning emotion is the first key,
    so nothing from the character file's own timeline leaks in.
    """
    lo, hi = STRENGTH_RANGE
    if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not (lo <= strength <= hi):
        raise ConfigError(f"emotion strength {strength} is out of range; allowed {lo} .. {hi}")
    _, timeline = load_emotion(name)
    keys = [
        EmotionKey(k.time_code, {e: float(k.emotions.get(e, 0.0)) * float(strength) for e in EMOTIONS})
        for k in timeline
    ]
    return replace(
        copy.deepcopy(config),
        emotion_timeline=keys,
        beginning_emotion=dict(keys[0].emotions),
    )


# --- writing ---------------------------------------------------------------------------------
def to_dict(config: RunConfig) -> dict[str, Any]:
    """The NVIDIA run-time YAML structure of ``config`` (keys in the sample files' order)."""
    order = {n: i for i, n in enumerate(BLENDSHAPE_NAMES)}

    def bs(d: dict[str, float]) -> dict[str, float]:
        names = sorted(d, key=lambda n: order.get(to_nvidia(n), len(order)))
        return {to_nvidia(n): float(d[n]) for n in names}

    face_order = list(FACE_ORDER)
    post_order = list(POST_PROCESSING_RANGES)
    return {
        "face_parameters": {
            k: float(config.face_params[k]) for k in sorted(config.face_params, key=face_order.index)
        },
        "blendshape_parameters": {
            "enable_clamping_bs_weight": bool(config.enable_clamping_bs_weight),
            "multipliers": bs(config.bs_multipliers),
            "offsets": bs(config.bs_offsets),
        },
        "live_transition_time": float(config.live_transition_time),
        "beginning_emotion": {k: float(v) for k, v in config.beginning_emotion.items()},
        "post_processing_parameters": {
            k: config.post_processing[k] for k in sorted(config.post_processing, key=post_order.index)
        },
        "emotion_with_timecode_list": {
            f"emotion_with_timecode{i}": {
                "time_code": float(k.time_code),
                "emotions": {e: float(v) for e, v in k.emotions.items()},
            }
            for i, k in enumerate(config.emotion_timeline, 1)
        },
    }


def to_yaml(config: RunConfig) -> str:
    """NVIDIA's run-time YAML text of ``config``; load_character() of it gives ``config`` back."""
    head = f"# A2F-3D run-time config ({config.character}), written by a2f"
    if config.source:
        head += f" from {config.source}"
    body = yaml.dump(to_dict(config), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)
    return head + "\n" + body


def save_yaml(config: RunConfig, path: str | os.PathLike) -> Path:
    p = Path(path)
    p.write_text(to_yaml(config), encoding="utf-8")
    return p
