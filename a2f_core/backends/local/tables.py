"""The backend's editable data: viseme -> ARKit and emotion -> ARKit tables (YAML in presets/)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ...names import ARKIT_52, EMOTIONS, to_arkit
from ...paths import preset_path
from .visemes import VISEMES

VISEME_TABLE = ("visemes", "ovr15_arkit.yaml")
EMOTION_TABLE = ("expressions", "emotions_arkit.yaml")
_INDEX = {n: i for i, n in enumerate(ARKIT_52)}


@dataclass(frozen=True)
class VisemeTable:
    matrix: np.ndarray  # (15 visemes, 52 channels)
    dominance: np.ndarray  # (15,)
    anticipation: np.ndarray  # (15,) s
    carryover: np.ndarray  # (15,) s
    source: str


@dataclass(frozen=True)
class EmotionTable:
    matrix: np.ndarray  # (10 emotions, 52 channels)
    source: str


def _read(path: Path) -> dict:
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise ConfigError(f"{path}: table file not found; reinstall, or point $A2F_PRESETS_DIR at a presets folder") \
            from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise ConfigError(f"{path}: cannot read the table ({e}); fix the YAML syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _weights(path: Path, where: str, entry: object) -> np.ndarray:
    row = np.zeros(len(ARKIT_52), np.float32)
    if entry is None:
        return row
    if not isinstance(entry, dict):
        raise ConfigError(f"{path}: {where} must map channel names to weights, got {entry!r}")
    for k, v in entry.items():
        name = to_arkit(str(k))
        if name not in _INDEX:
            raise ConfigError(f"{path}: {where}.{k} is not one of the 52 ARKit channels (e.g. jawOpen, mouthClose)")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
            raise ConfigError(f"{path}: {where}.{k} = {v!r}; a weight must be a number in [0, 1]")
        row[_INDEX[name]] = float(v)
    return row


def _section(path: Path, data: dict, key: str, expected: tuple[str, ...]) -> dict:
    sec = data.get(key)
    if not isinstance(sec, dict):
        raise ConfigError(f"{path}: missing section '{key}' (a mapping with keys {', '.join(expected)})")
    unknown = [str(k) for k in sec if k not in expected]
    if unknown:
        raise ConfigError(f"{path}: {key}.{unknown[0]} is unknown; expected one of {', '.join(expected)}")
    missing = [k for k in expected if k not in sec]
    if missing:
        raise ConfigError(f"{path}: {key}.{missing[0]} is missing; every one of {', '.join(expected)} is needed")
    return sec


_CACHE: dict[tuple[str, str, int, int], object] = {}


def _cached(kind: str, p: Path, build):  # type: ignore[no-untyped-def]
    """Tables are re-read only when the file changes (edits apply on the next run)."""
    try:
        st = p.stat()
        key = (kind, str(p), st.st_mtime_ns, st.st_size)
    except OSError:
        return build(p)
    if key not in _CACHE:
        _CACHE[key] = build(p)
    return _CACHE[key]


def load_viseme_table(path: str | Path | None = None) -> VisemeTable:
    p = Path(path) if path else preset_path(*VISEME_TABLE)
    table: VisemeTable = _cached("visemes", p, _build_viseme_table)
    return table


def load_emotion_table(path: str | Path | None = None) -> EmotionTable:
    p = Path(path) if path else preset_path(*EMOTION_TABLE)
    table: EmotionTable = _cached("emotions", p, _build_emotion_table)
    return table


def _build_viseme_table(p: Path) -> VisemeTable:
    data = _read(p)
    vis = _section(p, data, "visemes", VISEMES)
    dom = _section(p, data, "dominance", VISEMES)
    matrix = np.stack([_weights(p, f"visemes.{v}", vis[v]) for v in VISEMES])
    params = np.zeros((len(VISEMES), 3), np.float64)
    for i, v in enumerate(VISEMES):
        e = dom[v]
        ok = isinstance(e, list) and len(e) == 3 and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) for x in e
        )
        if not ok or not (0 < e[0] <= 10 and 0 < e[1] <= 0.5 and 0 < e[2] <= 0.5):
            raise ConfigError(
                f"{p}: dominance.{v} = {e!r}; expected [dominance in (0, 10], anticipation s in (0, 0.5], "
                "carry-over s in (0, 0.5]]"
            )
        params[i] = e
    return VisemeTable(matrix, params[:, 0], params[:, 1], params[:, 2], str(p))


def _build_emotion_table(p: Path) -> EmotionTable:
    data = _read(p)
    emo = _section(p, data, "emotions", EMOTIONS)
    return EmotionTable(np.stack([_weights(p, f"emotions.{e}", emo[e]) for e in EMOTIONS]), str(p))
