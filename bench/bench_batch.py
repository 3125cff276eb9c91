"""Batch speed of the bundled backend: a folder of dialogue lines through `a2f infer DIR` and `bake.py`.

The 12 speech fixtures (espeak-ng and natural) twice over = 24 files, 97.5 s of speech, once without
transcripts and once with a `.txt` twin beside every file; `--jobs 1` and `--jobs 2`. Each command runs in
a fresh process, as a user runs it, so the times include start-up (Python, worker processes, for bake.py
also the bpy module and the .blend). The scene is the demo head built by `addon.demo_rig`.

    .venv/bin/python bench/bench_batch.py [--jobs 1 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import Report, add_results_args

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def make_folder(dst: Path, transcripts: bool) -> float:
    import soundfile as sf

    dst.mkdir(parents=True)
    wavs = sorted(FIXTURES.glob("*.wav")) + sorted((FIXTURES / "natural").glob("*.wav"))
    total = 0.0
    for i, src in enumerate(wavs * 2, 1):
        shutil.copy(src, dst / f"line_{i:02d}.wav")
        total += sf.info(str(src)).duration
        if transcripts:
            (dst / f"line_{i:02d}.txt").write_text(json.loads(src.with_suffix(".json").read_text())["transcript"])
    return total


def make_scene(path: Path) -> None:
    code = (f"import bpy, sys; sys.path.insert(0, {str(ROOT)!r}); from addon import demo_rig; "
            f"demo_rig.build('Face'); bpy.ops.wm.save_as_mainfile(filepath={str(path)!r})")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return dt


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to time")
    add_results_args(ap)
    args = ap.parse_args(argv)
    with Report(__file__, "Batch speed: a folder of lines through `a2f infer DIR` and bake.py", args) as rep:
        run(args, rep)


def run(args: argparse.Namespace, rep: Report) -> None:
    print("| tool | transcripts | jobs | audio | wall s | RTF |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        scene = Path(tmp) / "scene.blend"
        make_scene(scene)
        for transcripts in (False, True):
            folder = Path(tmp) / ("with_text" if transcripts else "no_text")
            audio = make_folder(folder, transcripts)
            for jobs in args.jobs:
                runs = {
                    "a2f infer": [sys.executable, "-m", "a2f_core", "infer", str(folder), "--jobs", str(jobs),
                                  "-o", str(Path(tmp) / "out"), "--skip-print-to-files"],
                    "bake.py": [sys.executable, str(ROOT / "bake.py"), str(scene), "--", "--audio", str(folder),
                                "--object", "Face", "--jobs", str(jobs), "--no-sound"],
                }
                for tool, cmd in runs.items():
                    dt = timed(cmd)
                    print(f"| {tool} | {'yes' if transcripts else 'no'} | {jobs} | {audio:.1f} s | {dt:.2f} | "
                          f"{dt / audio:.3f} |", flush=True)
                    key = f"{tool.split()[0].replace('.py', '')}_{'text' if transcripts else 'notext'}_jobs{jobs}_s"
                    rep.metric(key, round(dt, 2), "s", f"{tool}, {len(list(folder.glob('*.wav')))} files "
                               f"({audio:.1f} s), {'.txt twins' if transcripts else 'no transcripts'}, --jobs {jobs}")


if __name__ == "__main__":
    main()
