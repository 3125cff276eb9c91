"""Transcript files: a ``.txt`` file of the spoken words, or an audio file's ``.txt`` twin
(``line.wav`` -> ``line.txt``). Shared by `a2f infer`, bake.py and the add-on."""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError


def read_transcript_file(p: Path) -> str:
    """The file's text (UTF-8, with or without a byte-order mark); a clear error otherwise."""
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: the transcript is not UTF-8 text; save it as UTF-8") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read the transcript ({e})") from None


def twin(audio_path: Path) -> Path | None:
    """The audio file's ``.txt`` twin if there is one."""
    t = audio_path.with_suffix(".txt")
    return t if t.is_file() else None
