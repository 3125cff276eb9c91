"""Transcript files: a ``.txt`` file of the spoken words, an audio file's ``.txt`` twin (``line.wav`` ->
``line.txt``), or a dialogue script (CSV/TSV: file name, words) for many lines. Shared by `a2f infer`, bake.py
and the add-on."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError


def _read_utf8(p: Path, what: str, save_as: str = "UTF-8") -> str:
    """The file's text (UTF-8, with or without a byte-order mark); a clear error naming ``what`` otherwise."""
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: the {what} is not UTF-8 text; save it as {save_as}") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read the {what} ({e})") from None


def read_transcript_file(p: Path) -> str:
    """The file's text (UTF-8, with or without a byte-order mark); a clear error otherwise."""
    check_input_file(p, "transcript file", "give the .txt file, or pass the words as text")
    return _read_utf8(p, "transcript")


def check_input_file(p: Path, what: str, hint: str) -> Path:
    """``p`` must be an existing file: a missing path or a folder is one line naming it, ``what`` it should be
    and ``hint`` (what to do)."""
    if p.is_dir():
        raise ConfigError(f"{p}: is a folder, not a {what}; {hint}")
    if not p.is_file():
        raise ConfigError(f"{p}: no such {what}; check the path, or {hint}")
    return p


def twin(audio_path: Path) -> Path | None:
    """The audio file's ``.txt`` twin if there is one."""
    t = audio_path.with_suffix(".txt")
    return t if t.is_file() else None


# --- dialogue scripts: one table of every line's words -------------------------------------------------

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".opus")
KEY_COLUMNS = ("file", "filename", "file_name", "audio", "audio_file", "wav", "name", "id", "line_id", "stem", "clip")
TEXT_COLUMNS = ("text", "transcript", "line", "dialogue", "dialog", "words", "subtitle", "script")


def script_key(name: str) -> str:
    """How a script names an audio file, reduced to its stem: ``VO\\Line_001.wav`` -> ``line_001``."""
    base = name.strip().replace("\\", "/").rsplit("/", 1)[-1]
    if Path(base).suffix.lower() in AUDIO_SUFFIXES:
        base = Path(base).stem
    return base.lower()


@dataclass
class Script:
    """A dialogue script: each audio file's words, looked up by file name (stem, any case)."""

    path: Path
    lines: dict[str, str]

    def text_for(self, audio_path: Path) -> str | None:
        return self.lines.get(script_key(audio_path.name))


def read_script(path: str | Path) -> Script:
    """A CSV or TSV of dialogue lines: a file-name column and a text column, found by their header names
    (file/filename/audio/name/id… and text/transcript/line/dialogue…); without a header, exactly two columns
    (file, text). Errors name the file, the row and what to do."""
    p = check_input_file(Path(path), "script file", "give a CSV/TSV with a file column and a text column")
    raw = _read_utf8(p, "script", "UTF-8 (CSV UTF-8)")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(raw[:8192], delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel_tab if "\t" in raw.split("\n", 1)[0] else csv.excel
    rows = [(n, r) for n, r in enumerate(csv.reader(io.StringIO(raw), dialect), 1) if any(c.strip() for c in r)]
    if not rows:
        raise ConfigError(f"{p}: the script has no lines")
    header = [c.strip().lower().replace(" ", "_").replace("-", "_") for c in rows[0][1]]
    key_i = next((header.index(k) for k in KEY_COLUMNS if k in header), None)
    text_i = next((header.index(k) for k in TEXT_COLUMNS if k in header), None)
    if key_i is not None and text_i is not None:
        body = rows[1:]
    elif len(header) == 2 and key_i is None and text_i is None:
        key_i, text_i, body = 0, 1, rows
    else:
        raise ConfigError(
            f"{p}: cannot tell which column names the audio file and which holds its words; give the script a "
            f"header row with a file column ({', '.join(KEY_COLUMNS[:4])}, ...) and a text column "
            f"({', '.join(TEXT_COLUMNS[:4])}, ...)"
        )
    lines: dict[str, str] = {}
    for n, r in body:
        if len(r) <= max(key_i, text_i) or not r[key_i].strip():
            raise ConfigError(f"{p}, row {n}: expected an audio file name and its words; fix or remove the row")
        key, text = script_key(r[key_i]), r[text_i].strip()
        if lines.get(key, text) != text:
            raise ConfigError(f"{p}, row {n}: '{r[key_i].strip()}' is in the script twice with different words; "
                              "keep one")
        lines[key] = text
    return Script(p, lines)


def write_script(path: str | Path, lines: list[tuple[str, str]]) -> Path:
    """A dialogue script (CSV UTF-8: ``file,text``) that read_script reads back, e.g. the heard words of a batch
    for the user to correct in a spreadsheet and pass back with --script."""
    from .atomic import atomic_path

    p = Path(path)
    with atomic_path(p) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "text"])
        w.writerows(lines)
    return p
