"""The one pipeline behind every entry point: `a2f infer`, bake.py, the add-on's Bake and `a2f serve`.

    resolve   audio file or folder -> files; the words (--transcript text or .txt, a dialogue script's row,
              the audio's .txt twin); preset + emotion + strength + face parameters -> RunConfig
    run       one backend instance per run, shared by every file of it (Runner); files run in parallel
              threads when the backend's Capabilities.parallel says so, else their inferences take turns
    -> Take   per file: the clip, the words heard without a transcript, warnings, notes, timings

Entry points keep only their own input and output (arguments, files, keys, the wire). Defaults live here.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import audio as audio_mod
from . import backends, presets
from .audio import Audio
from .backends.base import CancelToken, ProgressFn
from .clip import Clip
from .config import FACE_PARAM_RANGES, POST_PROCESSING_RANGES, RunConfig
from .errors import BackendError, ConfigError, ConnectionFailed
from .transcripts import AUDIO_SUFFIXES, Script, read_script, read_transcript_file, twin

# --- defaults: one set for every entry point (README "Defaults") --------------------------------------------
DEFAULT_BACKEND = backends.DEFAULT  # "local", the bundled CPU backend
DEFAULT_PRESET = "claire"
DEFAULT_EMOTION_STRENGTH = 0.6  # NVIDIA's emotion_strength default (post-processing)
DEFAULT_START_FRAME = 1  # Blender's first frame
DEFAULT_FPS = 60.0  # output frame rate of animation_frames.csv (the bundled backend's native rate)
DEFAULT_MAX_SECONDS = audio_mod.DEFAULT_MAX_SECONDS
DEFAULT_JOBS = 1
BACKEND_RATE = 16000  # every backend receives 16 kHz mono
NVCF_API_KEY_ENV = "NVCF_API_KEY"
SCRIPT_SUFFIXES = (".csv", ".tsv")


# --- resolve -------------------------------------------------------------------------------------------------
def audio_files(folder: str | os.PathLike) -> list[Path]:
    """The audio files of a folder (AUDIO_SUFFIXES, any case), sorted; an error when there are none."""
    d = Path(folder)
    files = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not files:
        raise ConfigError(f"{d}: no audio files ({' '.join(AUDIO_SUFFIXES)}) in this folder")
    return files


def inputs(src: str | os.PathLike) -> tuple[list[Path], bool]:
    """(audio files, is a folder) for an audio file or a folder of them."""
    p = Path(src)
    return (audio_files(p), True) if p.is_dir() else ([p], False)


def is_script(value: str) -> bool:
    """A transcript field holding a dialogue script (CSV/TSV) rather than words or a .txt file."""
    return value.strip().lower().endswith(SCRIPT_SUFFIXES)


def words(value: str | None) -> tuple[str | None, str]:
    """(the words, where they came from) of a transcript value: an existing file or a ``*.txt`` name is read
    as a file (a missing one is an error); anything else is the words themselves."""
    if value is None or not value.strip():
        return None, ""
    v = value.strip()
    p = Path(v)
    if p.is_dir():
        raise ConfigError(f"{p}: is a folder, not a transcript; give the words or a .txt file")
    if p.is_file():
        return read_transcript_file(p), str(p)
    if v.lower().endswith(".txt") and "\n" not in v:
        raise ConfigError(f"{p}: no such transcript file; check the path or pass the words as text")
    return v, "--transcript"


def transcript_for(audio_path: Path, value: str | None = None, script: Script | None = None) -> tuple[str | None, str]:
    """(the words for one audio file, where they came from): its row in ``script``, else ``value`` (words or
    a .txt file), else the audio's ``.txt`` twin; (None, "") when there are none."""
    if script is not None and (line := script.text_for(audio_path)) is not None:
        return line, script.path.name
    if value is not None and value.strip():
        return words(value)
    t = twin(audio_path)
    if t is not None:
        return read_transcript_file(t), str(t)
    return None, ""


def load_script(path: str | os.PathLike | None) -> Script | None:
    return None if path is None or not str(path).strip() else read_script(Path(path))


def script_notes(script: Script, files: list[Path]) -> list[str]:
    """What a user should know about a script against the audio files: lines with no audio, audio with no line."""
    from .transcripts import script_key

    have = {script_key(f.name) for f in files}
    notes = []
    unused = sorted(k for k in script.lines if k not in have)
    missing = [f.name for f in files if script.text_for(f) is None]
    if unused and len(files) > 1:
        n = len(unused)
        notes.append(f"note: {n} line{'s' if n != 1 else ''} of {script.path.name} {'have' if n != 1 else 'has'} no "
                     f"audio file here (e.g. {', '.join(unused[:3])})")
    if missing:
        n = len(missing)
        which = f"{n} of {len(files)} audio files are" if len(files) > 1 else "the audio file is"
        notes.append(f"note: {which} not in {script.path.name} (e.g. {', '.join(missing[:3])}); "
                     "a .txt twin is used, else the speech is recognised")
    return notes


def run_config(
    preset: str | os.PathLike | None = None,
    emotion: str | None = None,
    strength: float | None = None,
    face_params: dict[str, float] | None = None,
) -> RunConfig:
    """RunConfig from a character preset (name or YAML), an emotion preset scaled by ``strength`` (default
    DEFAULT_EMOTION_STRENGTH) and face-parameter overrides (checked against NVIDIA's ranges)."""
    config = presets.load_character(preset or DEFAULT_PRESET)
    if emotion:
        config = presets.apply_emotion(config, emotion, DEFAULT_EMOTION_STRENGTH if strength is None else strength)
    elif strength is not None:
        raise ConfigError("an emotion strength needs an emotion (the emotion preset to scale)")
    for name, value in (face_params or {}).items():
        if name not in FACE_PARAM_RANGES:
            raise ConfigError(f"unknown face parameter '{name}'; known: {', '.join(FACE_PARAM_RANGES)}")
        lo, hi, _ = FACE_PARAM_RANGES[name]
        if not lo <= float(value) <= hi:
            raise ConfigError(f"face parameter {name} = {value:g} is out of range; allowed {lo:g} .. {hi:g}")
    if face_params:
        config.face_params = {**config.face_params, **{k: float(v) for k, v in face_params.items()}}
    return config


def ignored_parameters(caps: Any, config: RunConfig, overrides: dict[str, float] | None) -> list[str]:
    """The ``overrides`` (face or post-processing parameters a user set on top of the preset) that a backend
    with capabilities ``caps`` does not apply; a value equal to the preset's or to NVIDIA's default (a slider
    left alone) is not counted."""
    honoured = caps.parameters
    if honoured is None or not overrides:  # the backend applies them all / nothing was set
        return []
    base = presets.load_character(config.source or config.character) if config.source else RunConfig()
    out = []
    for name, value in overrides.items():
        if name in honoured:
            continue
        if name in FACE_PARAM_RANGES:
            refs = (base.face(name), FACE_PARAM_RANGES[name][2])  # the preset's value, an untouched slider's
            if all(abs(float(value) - r) > 1e-6 for r in refs):
                out.append(name)
        elif name in POST_PROCESSING_RANGES and value not in (base.post(name), POST_PROCESSING_RANGES[name][2]):
            out.append(name)
    return out


def backend_options(name: str, candidates: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """(constructor keywords for backend ``name`` from an entry point's options, the options it does not take);
    the NVCF key comes only from $NVCF_API_KEY (never a command line or a file)."""
    opts, unused = backends.split_options(name, candidates)
    key = os.environ.get(NVCF_API_KEY_ENV)
    if key:
        extra, _ = backends.split_options(name, {"api_key": key})
        opts.update(extra)
    return opts, unused


# --- run -----------------------------------------------------------------------------------------------------
@dataclass
class Take:
    """One file's result: the clip at the backend's rate, and what the user should be told about it."""

    source: str
    audio: Audio  # what the backend got (16 kHz mono)
    clip: Clip
    transcript_source: str = ""  # where the words came from ("" = none: recognised)
    heard: str | None = None  # words recognised for lack of a transcript
    warnings: list[str] = field(default_factory=list)  # the backend's (e.g. a transcript it could not use)
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # decode, inference (s)

    @property
    def duration(self) -> float:
        return self.audio.duration

    @property
    def time_to_first_frame(self) -> float:
        return float(self.clip.meta.get("time_to_first_frame", self.timings.get("inference", 0.0)))


class Runner:
    """One backend instance for a run (a CLI call, a bake.py batch, a panel bake, a server), shared by its
    files. ``parallel`` comes from the backend's capabilities: without it, inferences take turns."""

    def __init__(self, name: str = DEFAULT_BACKEND, options: dict[str, Any] | None = None, *, backend: Any = None):
        self.name = name
        self.backend = backend if backend is not None else backends.get(name, **(options or {}))
        self.capabilities = self.backend.capabilities
        self._turn: contextlib.AbstractContextManager = (
            contextlib.nullcontext() if self.capabilities.parallel else threading.Lock())

    def check_available(self) -> None:
        av = self.backend.availability()
        if not av.ok:
            err = ConnectionFailed if self.capabilities.needs_network else BackendError
            raise err(f"the {self.name} backend is not available: {av.reason}")

    def take(
        self,
        src: str | os.PathLike | Audio,
        config: RunConfig,
        *,
        transcript: str | None = None,
        transcript_source: str = "",
        max_seconds: float | None = DEFAULT_MAX_SECONDS,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
        overrides: dict[str, float] | None = None,
    ) -> Take:
        """Decode ``src`` (a file, or Audio already loaded), run the backend, check its clip. ``overrides``: the
        parameters the user set on top of the preset (a note names those the backend does not apply)."""
        cancel = cancel or CancelToken()
        t0 = time.perf_counter()
        if isinstance(src, Audio):
            audio = src.resampled(BACKEND_RATE)
            source = src.source
        else:
            audio = audio_mod.load(src, rate=BACKEND_RATE, max_seconds=max_seconds)
            source = str(src)
        timings = {"decode": time.perf_counter() - t0}
        notes: list[str] = []
        if transcript is not None and not transcript.strip():
            notes.append(f"the transcript {transcript_source} is empty; going on without it")
            transcript, transcript_source = None, ""
        if transcript is not None and not self.capabilities.accepts_transcript:
            notes.append(f"the {self.name} backend does not use transcripts; ignoring {transcript_source}")
            transcript, transcript_source = None, ""
        ignored = ignored_parameters(self.capabilities, config, overrides)
        cancel.check()
        with self._waiting(cancel):
            t1 = time.perf_counter()  # time spent waiting for a turn is not the backend's
            if progress is not None:
                progress(0.0, f"{self.capabilities.label}: {Path(source).name}")
            clip = self.backend.infer(audio, config, transcript=transcript, progress=progress, cancel=cancel)
            timings["inference"] = time.perf_counter() - t1
        cancel.check()
        if not isinstance(clip, Clip) or clip.n_frames == 0:
            raise BackendError(f"the {self.name} backend returned no animation for {Path(source).name}")
        clip.meta.setdefault("audio_duration", audio.duration)
        heard = clip.meta.get("heard")
        return Take(source, audio, clip, transcript_source if transcript is not None else "",
                    heard if isinstance(heard, str) else None,
                    [str(w) for w in clip.meta.get("warnings", [])] + ([
                        f"not applied: {', '.join(ignored)} (the {self.name} backend does not use "
                        f"{'it' if len(ignored) == 1 else 'them'})"] if ignored else []), notes, timings)

    @contextlib.contextmanager
    def _waiting(self, cancel: CancelToken) -> Iterator[None]:
        turn = self._turn
        if isinstance(turn, contextlib.nullcontext):
            yield
            return
        assert hasattr(turn, "acquire")
        while not turn.acquire(timeout=0.1):  # type: ignore[attr-defined]
            cancel.check()
        try:
            yield
        finally:
            turn.release()  # type: ignore[attr-defined]


def each(fn: Callable[[Any], Any], items: Iterable[Any], jobs: int = DEFAULT_JOBS,
         cancel: CancelToken | None = None) -> Iterator[tuple[Any, Any, BaseException | None]]:
    """(item, fn(item), None) or (item, None, error) per item, in order, ``jobs`` items at a time in threads
    (each yielded as soon as it and every item before it are done). A2FErrors and bugs alike are handed
    back, so one bad file never stops the rest; KeyboardInterrupt cancels the rest."""
    items = list(items)
    if jobs <= 1 or len(items) <= 1:
        for it in items:
            try:
                yield it, fn(it), None
            except Exception as e:
                yield it, None, e
        return
    pool = ThreadPoolExecutor(max_workers=min(jobs, len(items)), thread_name_prefix="a2f-run")
    futures: list[Future] = [pool.submit(fn, it) for it in items]
    try:
        for it, fut in zip(items, futures):
            try:
                yield it, fut.result(), None
            except Exception as e:
                yield it, None, e
    except BaseException:
        if cancel is not None:
            cancel.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


__all__ = [
    "BACKEND_RATE", "DEFAULT_BACKEND", "DEFAULT_EMOTION_STRENGTH", "DEFAULT_FPS", "DEFAULT_JOBS", "DEFAULT_MAX_SECONDS",
    "DEFAULT_PRESET", "DEFAULT_START_FRAME", "Runner", "Take", "audio_files", "each", "backend_options", "ignored_parameters",
    "inputs", "is_script", "load_script", "run_config", "script_notes", "transcript_for", "words",
]
