"""Outputs are written atomically and write failures are one-line user errors (issue #13).

Real failures where the OS can make them without root tricks: a file-size limit (RLIMIT_FSIZE, the kernel
fails the write with EFBIG half way, exactly like a full disk does with ENOSPC), a file where a folder should
be, /sys (a folder nobody may create files in, even root). ENOSPC itself is injected at the write boundary
(only for its message), since a small real file system needs root.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from a2f_core import atomic
from a2f_core.atomic import OutputError, atomic_files, atomic_path, output_error
from a2f_core.clip import Clip
from a2f_core.formats import write_animation_csv, write_omniverse_json
from a2f_core.names import ARKIT_52

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "samples" / "hello.wav"


def clip(n: int = 600) -> Clip:
    rng = np.random.default_rng(0)
    return Clip(list(ARKIT_52), np.arange(n) / 60.0, rng.random((n, 52), dtype=np.float32), 60.0)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(atomic.TMP_PREFIX))


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "animation_frames.csv"
    target.write_text("old complete file\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("the writer failed half way")
    assert target.read_text() == "old complete file\n"
    assert leftovers(tmp_path) == []


def test_success_replaces_the_file_with_normal_permissions(tmp_path):
    target = tmp_path / "a.json"
    write_omniverse_json(target, clip(3))
    assert target.read_text().startswith("{") and leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_side_files_move_together(tmp_path):
    with atomic_files(tmp_path / "face.gltf") as tmp:
        tmp.write_text('{"buffers": [{"uri": "face.bin"}]}')
        tmp.with_suffix(".bin").write_bytes(b"\0" * 8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.bin", "face.gltf"]
    with pytest.raises(OutputError, match="produced no file"), atomic_files(tmp_path / "x.glb"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.bin", "face.gltf"]


@pytest.mark.parametrize("code, words", [
    (errno.ENOSPC, ["disk is full", "free some space"]),
    (errno.EFBIG, ["File too large", "raise the file-size limit"]),
    (errno.EACCES, ["cannot write here", "Permission denied"]),
    (errno.EROFS, ["cannot write here"]),
])
def test_messages_name_the_file_and_what_to_do(tmp_path, code, words):
    msg = str(output_error(tmp_path / "out.wav", OSError(code, os.strerror(code))))
    assert "\n" not in msg and str(tmp_path) in msg
    for w in words:
        assert w in msg, msg


def test_disk_full_at_the_write_boundary(tmp_path, monkeypatch):
    """ENOSPC, injected where the bytes meet the disk (the file's write), leaves nothing behind."""
    import builtins

    real_open = builtins.open

    class Full:
        def __init__(self, f):
            self.f = f

        def write(self, s):
            self.f.write(s[: len(s) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.f, name)

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.f.close()

    def full_open(file, mode="r", *a, **k):
        f = real_open(file, mode, *a, **k)
        return Full(f) if "w" in mode and Path(file).name.startswith(atomic.TMP_PREFIX) else f

    monkeypatch.setattr(builtins, "open", full_open)
    with pytest.raises(OutputError, match=r"animation_frames.csv: the disk is full \(No space left on device\)"):
        write_animation_csv(tmp_path / "animation_frames.csv", clip())
    assert list(tmp_path.iterdir()) == []


def test_a_file_in_place_of_the_folder(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(OutputError, match=r"out: is a file, not a folder"):
        write_animation_csv(tmp_path / "out" / "animation_frames.csv", clip(3))


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs Linux /sys")
def test_a_folder_nobody_may_write():
    with pytest.raises(OutputError, match=r"^/sys: cannot write here"):
        write_animation_csv("/sys/animation_frames.csv", clip(3))


def _limit_file_size(nbytes: int):
    def pre() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead of killing us
    return pre


@pytest.mark.parametrize("extra, limit, victim", [
    ([], 30_000, "animation_frames.csv"),
    (["--fps", "1"], 60_000, "out.wav"),  # small CSVs, then the 134 kB wav hits the limit (libsndfile's write)
    (["--plot", "--skip-print-to-files"], 20_000, "curves.png"),  # matplotlib's write
])
def test_infer_on_a_disk_that_fills_up_leaves_no_partial_file(tmp_path, extra, limit, victim):
    """The kernel refuses the write half way (file-size limit): one line, exit 2, no truncated file, and an
    older complete file of that name is kept."""
    out = tmp_path / "out"
    out.mkdir()
    (out / victim).write_text("previous run\n")
    r = subprocess.run([sys.executable, "-m", "a2f_core.cli.main", "infer", str(HELLO), "-o", str(out), *extra],
                       capture_output=True, text=True, preexec_fn=_limit_file_size(limit), timeout=300)
    assert r.returncode == 2, r.stderr
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and victim in err[0] and "File too large" in err[0], r.stderr
    assert "Traceback" not in r.stderr
    assert (out / victim).read_text() == "previous run\n"
    assert leftovers(out) == []
