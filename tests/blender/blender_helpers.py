"""Shared test helpers: synthetic clips, reading keys back, scene snapshots, NVIDIA-layout CSVs, GLB reading, bake.py
in a fresh process."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import threading
from pathlib import Path

import bpy
import numpy as np

from a2f_core.backends.base import Availability, Capabilities
from a2f_core.clip import Clip
from a2f_core.errors import BackendError
from a2f_core.names import ARKIT_52, NVIDIA_52, NVIDIA_HEAD_3

ROOT = Path(__file__).resolve().parents[2]
HELLO = ROOT / "samples" / "hello.wav"


def save_face_scene(path: Path, segments: int = 32, rings: int = 24) -> Path:
    """A 60 fps scene with the demo face (object "Face"), saved as ``path``."""
    from addon import demo_rig

    bpy.context.scene.render.fps = 60
    demo_rig.build("Face", segments=segments, rings=rings)
    bpy.ops.wm.save_as_mainfile(filepath=str(path))
    return path


def run_bake(blend, *args, timeout=240, preexec_fn=None) -> subprocess.CompletedProcess:
    """`python bake.py BLEND -- ARGS` as users run it, in a fresh process."""
    cmd = [sys.executable, str(ROOT / "bake.py"), str(blend), "--", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, preexec_fn=preexec_fn)


def wave_clip(n: int = 121, fps: float = 60.0, names=ARKIT_52, seed: int = 0) -> Clip:
    """A clip whose channels all differ (sines of different speed and phase) in [0, 1]."""
    t = np.arange(n) / fps
    k = np.arange(1, len(names) + 1)[None, :]
    w = 0.5 + 0.5 * np.sin(t[:, None] * (1.0 + 0.37 * k) + k * (0.7 + seed))
    return Clip(list(names), t, w.astype(np.float32), fps)


def read_keys(ob, names, frames) -> np.ndarray:
    """Shape-key values after evaluating the scene at each (possibly fractional) frame."""
    scene = bpy.context.scene
    kb = ob.data.shape_keys.key_blocks
    out = np.empty((len(frames), len(names)), np.float32)
    for i, f in enumerate(frames):
        whole = int(np.floor(f))
        scene.frame_set(whole, subframe=float(f - whole))
        out[i] = [kb[n].value for n in names]
    return out


def snapshot() -> dict:
    """Everything a bake may touch, to prove a failed bake changed nothing."""
    scene = bpy.context.scene
    keys = {}
    for k in bpy.data.shape_keys:
        ad = k.animation_data
        keys[k.name] = None if ad is None else (
            ad.action.name if ad.action else None,
            [t.name for t in ad.nla_tracks],
        )
    se = scene.sequence_editor
    strips = [] if se is None else sorted(s.name for s in (se.strips_all if hasattr(se, "strips_all") else se.sequences_all))
    return {
        "actions": sorted((a.name, a.use_fake_user) for a in bpy.data.actions),
        "objects": sorted(o.name for o in bpy.data.objects),
        "keys": keys,
        "has_sequence_editor": se is not None,
        "strips": strips,
        "range": (scene.frame_start, scene.frame_end),
        "fps": (scene.render.fps, scene.render.fps_base),
    }


def write_nvidia_csv(path: Path, clip: Clip, with_head: bool = True) -> Path:
    """An animation_frames.csv in the layout NVIDIA's sample client writes (pandas index, timeCode, blendShapes.*)."""
    names = list(NVIDIA_52) + (list(NVIDIA_HEAD_3) if with_head else [])
    lines = [",timeCode," + ",".join(f"blendShapes.{n}" for n in names)]
    for i, t in enumerate(clip.times):
        vals = [repr(float(clip.weights[i, j])) for j in range(len(NVIDIA_52))] + (["0.0"] * 3 if with_head else [])
        lines.append(f"{i},{float(t)!r}," + ",".join(vals))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read_glb(path: Path) -> tuple[dict, bytes]:
    data = Path(path).read_bytes()
    magic, _version, _length = struct.unpack_from("<4sII", data, 0)
    assert magic == b"glTF"
    off, doc, binary = 12, None, b""
    while off < len(data):
        clen, ctype = struct.unpack_from("<I4s", data, off)
        chunk = data[off + 8: off + 8 + clen]
        if ctype == b"JSON":
            doc = json.loads(chunk)
        elif ctype == b"BIN\x00":
            binary = chunk
        off += 8 + clen
    assert doc is not None
    return doc, binary


def accessor(doc: dict, binary: bytes, index: int) -> np.ndarray:
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    assert acc["componentType"] == 5126  # float32
    ncomp = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    arr = np.frombuffer(binary, np.float32, count=acc["count"] * ncomp, offset=start)
    return arr.reshape(acc["count"], ncomp) if ncomp > 1 else arr


class StandInBackend:
    """A stand-in backend (not the product's): reports progress, then fails or waits for cancellation."""

    name = "stand-in"
    capabilities = Capabilities(label="Stand-in", description="test double")

    def __init__(self, fail: bool = False, wait_for_cancel: bool = False):
        self.fail = fail
        self.wait_for_cancel = wait_for_cancel
        self.started = threading.Event()

    def availability(self):
        return Availability(True)

    def infer(self, audio, config, *, transcript=None, progress=None, cancel=None):
        if progress:
            progress(0.5, "half way")
        self.started.set()
        if self.fail:
            raise BackendError("stand-in backend: the server closed the stream at 50 %")
        while self.wait_for_cancel:
            cancel.check()
            threading.Event().wait(0.01)
        return wave_clip(int(audio.duration * 60))
