"""Outputs written atomically, and write failures as one-line user errors.

Every output file is first written under a temporary name in its own folder and then renamed over the
target (``os.replace``, atomic on one file system), so a full disk, a killed process or an exporter that
fails half way never leaves a truncated ``animation_frames.csv`` (or .wav, .png, .glb, .blend) behind, and
an older complete file of that name survives. A failed write raises :class:`OutputError` (exit code 2)
naming the file, what went wrong and what to do.

    with atomic_path(out / "animation_frames.csv") as tmp:   # any writer that takes a path
        write_the_file(tmp)
    with atomic_files(out / "face.gltf") as tmp:             # writers that add side files (.gltf + .bin)
        exporter(tmp)
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import ConfigError

TMP_PREFIX = ".a2f-tmp-"  # temporary names start with this (hidden; removed on failure)
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: mkstemp makes 0600 files, outputs get the usual 0666 & ~umask


class OutputError(ConfigError):
    """An output that cannot be written (unwritable folder, full disk, a file where a folder should be)."""


def _why(e: OSError) -> str:
    return e.strerror or str(e) or type(e).__name__


def output_error(path: str | os.PathLike, e: OSError, hint: str = "choose another output folder") -> OutputError:
    """The one-line message for an OSError raised while writing ``path``."""
    p = Path(path)
    code = e.errno
    if code == errno.ENOSPC or code == errno.EDQUOT:
        return OutputError(f"{p}: the disk is full ({_why(e)}); free some space or {hint}")
    if code == errno.EFBIG:
        return OutputError(f"{p}: the file grew beyond what this disk or process may write ({_why(e)}); "
                           f"free some space, raise the file-size limit or {hint}")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        where = p if p.is_dir() else p.parent
        return OutputError(f"{where}: cannot write here ({_why(e)}); {hint} that you can write to")
    if code == errno.ENOTDIR:
        blocker = next((q for q in [p, *p.parents] if q.exists() and not q.is_dir()), p)
        return OutputError(f"{blocker}: is a file, not a folder; {hint}, or remove or rename that file")
    if code == errno.EISDIR:
        return OutputError(f"{p}: is a folder; give a file name")
    if code == errno.ENOENT:
        return OutputError(f"{p}: cannot create it ({_why(e)}); {hint}")
    return OutputError(f"{p}: cannot write it ({_why(e)}); {hint}")


def ensure_dir(path: str | os.PathLike, hint: str = "choose another output folder") -> Path:
    """Create the folder ``path`` (and parents) or raise OutputError: a file in the way, no permission, ..."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{p}: is a file, not a folder; {hint}")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise output_error(p, e, hint) from None
    return p


def check_writable(path: str | os.PathLike, hint: str = "choose another output folder") -> Path:
    """Fail early (before slow work) when the file ``path`` cannot be created: its folder is missing and cannot
    be made, is a file, or is not writable; or ``path`` itself is a folder. Creates the folder, writes nothing."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{p}: is a folder; give a file name")
    ensure_dir(p.parent, hint)
    try:
        fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=p.parent)
    except OSError as e:
        raise output_error(p, e, hint) from None
    os.close(fd)
    os.unlink(tmp)
    return p


def _tmp_name(p: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{p.stem[:40]}-", suffix=p.suffix, dir=p.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
    finally:
        os.close(fd)
    return Path(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, hint: str = "choose another output folder") -> Iterator[Path]:
    """Yield a temporary path (same folder, same extension) to write; on success it is renamed to ``path``.
    On any failure the temporary file is removed and ``path`` is left as it was; an OSError becomes
    OutputError."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{p}: is a folder; give a file name")
    ensure_dir(p.parent, hint)
    try:
        tmp = _tmp_name(p)
    except OSError as e:
        raise output_error(p, e, hint) from None
    try:
        yield tmp
        os.replace(tmp, p)
    except OSError as e:
        _remove(tmp)
        raise output_error(p, e, hint) from None
    except BaseException:
        _remove(tmp)
        raise


@contextlib.contextmanager
def atomic_files(path: str | os.PathLike, hint: str = "choose another output folder") -> Iterator[Path]:
    """For writers that also write side files named after the target (glTF's .bin, textures): yield
    ``<tmp folder>/<name>`` inside a temporary folder beside ``path``; on success every file the writer made
    is moved next to ``path`` (the main file last). On failure nothing is moved and the folder is removed."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{p}: is a folder; give a file name")
    ensure_dir(p.parent, hint)
    try:
        tmpdir = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=p.parent))
    except OSError as e:
        raise output_error(p, e, hint) from None
    try:
        yield tmpdir / p.name
        made = sorted((q for q in tmpdir.rglob("*") if q.is_file()), key=lambda q: q.name == p.name)
        if not any(q.name == p.name for q in made):
            raise OutputError(f"{p}: the writer produced no file; {hint}")
        for q in made:
            dest = p.parent / q.relative_to(tmpdir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(q, dest)
    except OSError as e:
        raise output_error(p, e, hint) from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _remove(p: Path) -> None:
    with contextlib.suppress(OSError):
        p.unlink()


def write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8", newline: str | None = None,
               hint: str = "choose another output folder") -> Path:
    """``Path.write_text``, atomically."""
    p = Path(path)
    with atomic_path(p, hint) as tmp, open(tmp, "w", encoding=encoding, newline=newline) as f:
        f.write(text)
    return p


def write_bytes(path: str | os.PathLike, data: bytes, *, hint: str = "choose another output folder") -> Path:
    """``Path.write_bytes``, atomically."""
    p = Path(path)
    with atomic_path(p, hint) as tmp:
        tmp.write_bytes(data)
    return p
