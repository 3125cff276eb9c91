"""The one bake core: a plain BakeSpec in, a BakeReport out. Used by the panel's operator and by bake.py.

Three steps, so that the UI can run the slow middle one on a worker thread:
  resolve(spec)        main thread: find the scene, meshes, shape keys, audio strip; reject bad input early
  compute(job)         any thread, no bpy: decode audio + run the backend (or read a CSV/JSON clip)
  write(job)           main thread: Actions, sound strip, frame range, export; transactional
bake(spec) runs all three synchronously (headless path: no timers, no modal code).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bpy
import numpy as np

from a2f_core import pipeline, retarget
from a2f_core.backends.base import CancelToken, ProgressFn
from a2f_core.clip import Clip
from a2f_core.config import RunConfig
from a2f_core.errors import (
    A2FError,
    AudioError,
    BackendError,
    ConfigError,
    FormatError,
    MappingError,
)
from a2f_core.transcripts import Script, read_script

from . import shapekey_action, sound_strip

TARGET_FPS = 60.0
FPS_MODES = ("SUBFRAME", "RESAMPLE", "SCENE")
EXISTING_MODES = ("KEEP", "NLA")
MAX_FRAME = 1048574  # Blender's MAXFRAME: scene.frame_current runs -MAXFRAME..MAXFRAME, frame_start/end 0..MAXFRAME


def check_frames(first: float, last: float | None = None) -> None:
    """A take must start and end inside Blender's frame range (keys far outside it lose their frame to float32
    rounding: 2e9 put 252 keys onto 3 frames)."""
    if not -MAX_FRAME <= first <= MAX_FRAME:
        raise ConfigError(f"start frame {first:.0f} is out of range; Blender's frames run from {-MAX_FRAME} to "
                          f"{MAX_FRAME}")
    if last is not None and last > MAX_FRAME:
        end = math.ceil(last)
        raise ConfigError(f"start frame {first:.0f}: the take would end at frame {end}, after Blender's last frame "
                          f"{MAX_FRAME}; start it at frame {MAX_FRAME - (end - int(first))} or earlier")


@dataclass
class BakeSpec:
    """Everything a bake needs, as plain values (no bpy objects)."""

    objects: list[str]
    audio: str = ""  # audio file
    sound_strip: str = ""  # or the name of an existing sound strip (its file and start frame are used)
    clip: str = ""  # or an A2F CSV/JSON file: no inference
    transcript: str = ""  # text, or a path to a .txt file
    script: str = ""  # or a dialogue script (CSV/TSV: file name, words) holding this audio file's line
    backend: str = pipeline.DEFAULT_BACKEND
    backend_options: dict[str, Any] = field(default_factory=dict)
    character: str = pipeline.DEFAULT_PRESET  # preset name or YAML path
    emotion: str = ""
    emotion_strength: float = pipeline.DEFAULT_EMOTION_STRENGTH
    face_params: dict[str, float] = field(default_factory=dict)
    mapping: str = "arkit"  # rig preset name or YAML path
    start_frame: int = pipeline.DEFAULT_START_FRAME
    fps_mode: str = "SUBFRAME"  # SUBFRAME: 60 fps keys on subframes | RESAMPLE: scene rate | SCENE: set scene to 60
    existing_action: str = "KEEP"  # KEEP | NLA
    push_to_nla: bool = False
    add_sound_strip: bool = True
    take_name: str = ""  # default: the audio/clip file name
    scene: str = ""  # default: the context scene
    export: str = ""  # .glb/.gltf/.fbx written after the bake
    max_seconds: float = pipeline.DEFAULT_MAX_SECONDS  # longest audio accepted


@dataclass
class BakeReport:
    take: str
    source: str
    objects: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    first_frame: float = 0.0
    last_frame: float = 0.0
    samples: int = 0
    keys_driven: dict[str, int] = field(default_factory=dict)
    unmatched_channels: list[str] = field(default_factory=list)
    unused_keys: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # the backend's (e.g. a transcript it could not use)
    heard: str | None = None  # words the backend recognised for lack of a transcript
    timings: dict[str, float] = field(default_factory=dict)
    export: str = ""
    clip: Clip | None = field(default=None, repr=False)  # the clip as keyed (after resampling)
    frames: np.ndarray | None = field(default=None, repr=False)  # scene frame of every keyed sample

    def summary(self) -> str:
        objs = ", ".join(f"{o} ({self.keys_driven.get(o, 0)} keys)" for o in self.objects)
        s = f"Baked '{self.take}' onto {objs}: frames {self.first_frame:g}-{self.last_frame:g}"
        if self.unmatched_channels:
            s += f"; {len(self.unmatched_channels)} channels unmatched"
        return s


@dataclass
class Job:
    """One bake in flight: the spec plus what each step found."""

    spec: BakeSpec
    take: str = ""
    source: str = ""
    audio_path: str = ""
    start_frame: int = 0  # set by resolve()
    clip: Clip | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    heard: str | None = None


# --- step 1: resolve (main thread) --------------------------------------------------------------------
def _scene(spec: BakeSpec):
    if spec.scene:
        sc = bpy.data.scenes.get(spec.scene)
        if sc is None:
            raise ConfigError(f"no scene named '{spec.scene}'")
        return sc
    return bpy.context.scene


def _library_name(idb) -> str | None:
    lib = getattr(idb, "library", None)
    return lib.filepath if lib is not None else None


def target_objects(spec: BakeSpec) -> list:
    """The mesh objects of the spec, validated: mesh type, shape keys present, editable (not linked)."""
    if not spec.objects:
        raise ConfigError("no target mesh: select a mesh with shape keys (or pick one in the A2F panel)")
    out: list = []
    for name in spec.objects:
        ob = bpy.data.objects.get(name)
        if ob is None:
            raise ConfigError(f"no object named '{name}' in this file")
        if ob.type != "MESH":
            raise ConfigError(f"'{name}' is a {ob.type.lower()}, not a mesh; pick the face mesh that has the shape keys")
        key = ob.data.shape_keys
        if key is None or len(key.key_blocks) < 2:
            raise MappingError(
                f"mesh '{name}' has no shape keys to animate; add ARKit shape keys (or use a rig that has them)"
            )
        for idb, what in ((ob, "object"), (ob.data, "mesh"), (key, "shape keys")):
            lib = _library_name(idb)
            if lib is not None:
                raise ConfigError(
                    f"'{name}': its {what} data is linked from {lib} and cannot be animated here; make a library "
                    "override of the object and its mesh first (Object > Library Override > Make, then make the "
                    "mesh editable in the Outliner's Library Overrides view)"
                )
        if ob not in out:
            out.append(ob)
    return out


def resolve(spec: BakeSpec) -> Job:
    """Validate the spec against the open file before any slow work. Raises A2FError."""
    if spec.fps_mode not in FPS_MODES:
        raise ConfigError(f"fps mode '{spec.fps_mode}' is not one of {', '.join(FPS_MODES)}")
    if spec.existing_action not in EXISTING_MODES:
        raise ConfigError(f"existing-action mode '{spec.existing_action}' is not one of {', '.join(EXISTING_MODES)}")
    _scene(spec)
    obs = target_objects(spec)
    check_frames(spec.start_frame)
    job = Job(spec=spec, start_frame=int(spec.start_frame))
    if spec.clip:
        p = Path(bpy.path.abspath(spec.clip))
        if not p.is_file():
            raise FormatError(f"{p}: no such animation file; give an A2F animation_frames.csv or Omniverse .json")
        job.source = str(p)
    elif spec.sound_strip:
        strip = next((s for s in sound_strip.sound_strips(_scene(spec)) if s.name == spec.sound_strip), None)
        if strip is None or strip.sound is None:
            raise AudioError(f"no sound strip named '{spec.sound_strip}' in the scene's sequencer")
        job.audio_path = bpy.path.abspath(strip.sound.filepath)
        job.start_frame = int(sound_strip.content_start(strip))
        check_frames(job.start_frame)
        job.source = job.audio_path
    elif spec.audio:
        job.audio_path = bpy.path.abspath(spec.audio)
        job.source = job.audio_path
    else:
        raise AudioError("no audio: choose an audio file or a sound strip (or an A2F CSV/JSON file to import)")
    job.take = spec.take_name or Path(job.source).stem
    if spec.mapping:  # a bad mapping preset should fail now, not after inference
        retarget.load_rig_preset(spec.mapping)
    for ob in obs:  # and so should a rig that no channel can drive
        retarget.build_mapping(retarget.arkit_channels(), ob.data.shape_keys.key_blocks.keys(),
                               spec.mapping or None, what=f"mesh '{ob.name}'")
    return job


# --- step 2: compute (any thread, no bpy) ---------------------------------------------------------------
def run_config(spec: BakeSpec) -> RunConfig:
    """RunConfig from the character preset, emotion preset and face-parameter overrides (the pipeline's rules)."""
    return pipeline.run_config(spec.character or None, spec.emotion or None,
                               spec.emotion_strength if spec.emotion else None, spec.face_params)


@functools.lru_cache(maxsize=4)
def _script(path: str, mtime_ns: int) -> Script:
    """A dialogue script, read once per version of the file (a batch looks every line up in it)."""
    return read_script(path)


def script_for(path: str) -> Script:
    p = Path(path)
    return _script(str(p.resolve()), p.stat().st_mtime_ns if p.is_file() else 0)


def _transcript(spec: BakeSpec, audio_path: str, notes: list[str]) -> tuple[str | None, str]:
    """(words, where from) for the audio: the pipeline's order (script row, transcript, .txt twin), with a note."""
    script = script_for(spec.script) if spec.script else None
    text, source = pipeline.transcript_for(Path(audio_path), spec.transcript, script)
    if script is not None and source != script.path.name:
        notes.append(f"{Path(audio_path).name} is not in {script.path.name}")
    if text is not None and text.strip():
        if script is not None and source == script.path.name:
            notes.append(f"transcript: its line in {script.path.name}")
        elif source and source != "--transcript" and not spec.transcript.strip():
            notes.append(f"transcript: {Path(source).name} (beside the audio)")
    return text, source


def load_clip_file(path: str) -> Clip:
    from a2f_core.formats import load_clip

    return load_clip(path)


def compute(job: Job, *, progress: ProgressFn | None = None, cancel: CancelToken | None = None,
            runner: pipeline.Runner | None = None, backend=None) -> Clip:
    """Audio -> Clip (or file -> Clip). Thread-safe: touches no bpy data. ``runner``: the run's backend (a batch
    shares one); else one is made from the spec (``backend``: an instance to use)."""
    spec = job.spec
    if spec.clip:
        t0 = time.perf_counter()
        clip = load_clip_file(job.source)
        job.timings["decode"] = time.perf_counter() - t0
        job.timings["inference"] = 0.0
        job.clip = clip
        return clip
    if runner is None:
        runner = pipeline.Runner(spec.backend, spec.backend_options, backend=backend)
        runner.check_available()
    transcript, source = _transcript(spec, job.audio_path, job.notes)
    take = runner.take(job.audio_path, run_config(spec), transcript=transcript, transcript_source=source,
                       max_seconds=spec.max_seconds, progress=progress, cancel=cancel, overrides=spec.face_params)
    job.timings.update(take.timings)
    job.notes.extend(take.notes)
    job.warnings.extend(take.warnings)  # e.g. why a transcript was not used
    job.heard = take.heard
    job.clip = take.clip
    return take.clip


# --- step 3: write (main thread, transactional) -----------------------------------------------------------
def scene_fps(scene) -> float:
    return scene.render.fps / scene.render.fps_base


def sample_frames(clip: Clip, fps_mode: str, fps: float, start: int) -> tuple[Clip, np.ndarray]:
    """The clip as it will be keyed and the scene frame of every sample (frame ``start`` = audio start)."""
    duration = float(clip.meta.get("audio_duration", clip.duration)) or clip.duration
    duration = max(duration, clip.duration)
    if fps_mode == "RESAMPLE":
        keyed = clip.resample(fps, duration)
        return keyed, start + np.arange(keyed.n_frames, dtype=np.float64)
    keyed = clip if abs(clip.fps - TARGET_FPS) < 1e-9 and clip.times[0] == 0 else clip.resample(TARGET_FPS, duration)
    return keyed, start + keyed.times * fps


class _Undo:
    def __init__(self) -> None:
        self.steps: list = []

    def rollback(self) -> None:
        errors = []
        for fn in reversed(self.steps):
            try:
                fn()
            except Exception as e:  # keep undoing the rest
                errors.append(e)
        self.steps.clear()
        if errors:
            print(f"A2F: {len(errors)} rollback step(s) failed: {errors[0]!r}")


def write(job: Job) -> BakeReport:
    """Key the clip onto every target mesh. On any failure everything done here is undone."""
    spec = job.spec
    clip = job.clip
    if clip is None:
        raise BackendError("nothing to write: the clip was not computed")
    scene = _scene(spec)
    obs = target_objects(spec)
    rep = BakeReport(take=job.take, source=job.source, timings=dict(job.timings), notes=list(job.notes),
                     warnings=list(job.warnings), heard=job.heard)
    undo = _Undo()
    t0 = time.perf_counter()
    try:
        if spec.fps_mode == "SCENE" and (scene.render.fps, scene.render.fps_base) != (60, 1.0):
            old = (scene.render.fps, scene.render.fps_base)

            def restore_fps(o=old) -> None:
                scene.render.fps, scene.render.fps_base = o

            undo.steps.append(restore_fps)
            scene.render.fps, scene.render.fps_base = 60, 1.0
            rep.notes.append(f"scene frame rate set to 60 fps (was {old[0] / old[1]:g})")
        keyed, frames = sample_frames(clip, spec.fps_mode, scene_fps(scene), job.start_frame)
        check_frames(job.start_frame, float(frames[-1]))
        done_keys: set = set()
        all_unmatched: set[str] | None = None
        for ob in obs:
            key = ob.data.shape_keys
            mapping = retarget.build_mapping(keyed.names, key.key_blocks.keys(), spec.mapping or None,
                                             what=f"mesh '{ob.name}'")
            rep.objects.append(ob.name)
            rep.keys_driven[ob.name] = len(mapping.targets)
            rep.unused_keys[ob.name] = mapping.unused_keys
            um = set(mapping.unmatched_channels)
            all_unmatched = um if all_unmatched is None else all_unmatched & um
            if key in done_keys:  # meshes sharing one Key datablock
                continue
            done_keys.add(key)
            values = mapping.apply(keyed)
            action, slot = shapekey_action.new_take_action(key, f"{job.take}", mapping.keys, frames, values)
            action["a2f_source"] = job.source
            undo.steps.append(lambda a=action: bpy.data.actions.remove(a))
            log = shapekey_action.Installed()
            undo.steps.append(log.rollback)
            shapekey_action.install_take(key, action, slot, existing=spec.existing_action,
                                         push_to_nla=spec.push_to_nla, start_frame=job.start_frame, log=log)
            rep.notes.extend(log.notes)
            rep.actions.append(action.name)
        rep.unmatched_channels = [n for n in keyed.names if n in (all_unmatched or set())]
        rep.samples = keyed.n_frames
        rep.clip, rep.frames = keyed, frames
        rep.first_frame, rep.last_frame = float(frames[0]), float(frames[-1])
        # frame range covers the take
        fs, fe = scene.frame_start, scene.frame_end
        new_fs, new_fe = min(fs, job.start_frame), max(fe, int(math.ceil(frames[-1])))
        if (new_fs, new_fe) != (fs, fe):
            def restore_range() -> None:
                scene.frame_start, scene.frame_end = fs, fe

            undo.steps.append(restore_range)
            scene.frame_start, scene.frame_end = new_fs, new_fe
        if spec.add_sound_strip and job.audio_path and not spec.sound_strip:
            warn = sound_strip.add_sound(scene, job.audio_path, job.start_frame, job.take,
                                         float(frames[-1] - frames[0]), undo.steps)
            if warn:
                rep.notes.append(warn)
        rep.timings["key_write"] = time.perf_counter() - t0
        if spec.export:
            from ..export import export_file

            t1 = time.perf_counter()
            rep.export = export_file(spec.export, obs, scene=scene, start_frame=job.start_frame)
            rep.timings["export"] = time.perf_counter() - t1
    except BaseException:
        undo.rollback()
        raise
    return rep


def bake(spec: BakeSpec, *, progress: ProgressFn | None = None, cancel: CancelToken | None = None,
         runner: pipeline.Runner | None = None, backend=None) -> BakeReport:
    """The whole bake, synchronously. Raises A2FError (scene unchanged) for anything the user can fix."""
    job = resolve(spec)
    compute(job, progress=progress, cancel=cancel, runner=runner, backend=backend)
    if cancel is not None:
        cancel.check()
    return write(job)


__all__ = ["A2FError", "BakeReport", "BakeSpec", "Job", "bake", "compute", "resolve", "write"]
