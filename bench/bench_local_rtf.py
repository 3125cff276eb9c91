"""Real-time factor (processing time / audio duration) of the bundled CPU backend ("local").

Speech: the espeak-ng fixtures in tests/fixtures, concatenated with 0.4 s pauses to about 10 s and
60 s (transcripts joined the same way). Each case runs once cold (new backend; decoders and worker
processes start) and then warm, with and without the transcript, using all cores ("wall"). It runs
once more in a single process (workers=1) to give the CPU seconds per audio second ("cpu RTF"),
which does not depend on other load on the machine (wall times do: the load average is printed).
Targets on 2 cores: <= 0.05 with a transcript, <= 0.08 without. The natural-speech clips in
tests/fixtures/natural (LibriVox, pocketsphinx test data) are measured the same way (``--set``).

    .venv/bin/python bench/bench_local_rtf.py [--repeat 2] [--workers N] [--set espeak|natural|all]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from benchlib import Report, add_results_args

from a2f_core import process_pool
from a2f_core.audio import Audio
from a2f_core.backends.local import LocalBackend, phones
from a2f_core.config import RunConfig

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SETS = {"espeak": FIXTURES, "natural": FIXTURES / "natural"}
RATE = 16000


def speech(seconds: float, folder: Path = FIXTURES) -> tuple[Audio, str]:
    import soundfile as sf

    names = sorted(p.stem for p in folder.glob("*.json"))
    parts, words, total, i = [], [], 0.0, 0
    gap = np.zeros(int(0.4 * RATE), np.float32)
    while total < seconds:
        n = names[i % len(names)]
        x, sr = sf.read(folder / f"{n}.wav", dtype="float32")
        assert sr == RATE
        parts += [x, gap]
        words.append(json.loads((folder / f"{n}.json").read_text())["transcript"])
        total += (len(x) + len(gap)) / RATE
        i += 1
    return Audio(np.concatenate(parts), RATE, f"{total:.0f}s of {folder.name}"), " ".join(words)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2, help="warm runs per case (best is reported)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--set", choices=[*SETS, "all"], default="all", help="fixture set(s) to time")
    add_results_args(ap)
    args = ap.parse_args()
    with Report(__file__, "Bundled CPU backend: real-time factor", args) as rep:
        run(args, rep)


def run(args: argparse.Namespace, rep: Report) -> None:
    worst: dict[tuple[str, bool], float] = {}
    print(f"ASR decoder options: {phones.ASR_OPTIONS}\n")
    print("| set | audio | transcript | path | pieces | cold s | cold RTF | warm s | warm RTF | cpu RTF, 1 process |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    cases = [(k, s) for k in SETS if args.set in (k, "all") for s in (10, 60)]
    for set_name, seconds in cases:
        audio, text = speech(seconds, SETS[set_name])
        for with_text in (True, False):
            process_pool.shutdown()
            phones._THREAD.__dict__.clear()  # cold: this thread's decoders load again
            backend = LocalBackend(workers=args.workers)
            t0 = time.perf_counter()
            clip = backend.infer(audio, RunConfig(), transcript=text if with_text else None)
            cold = time.perf_counter() - t0
            warm = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                backend.infer(audio, RunConfig(), transcript=text if with_text else None)
                warm.append(time.perf_counter() - t0)
            single = LocalBackend(workers=1)
            c0 = time.process_time()
            single.infer(audio, RunConfig(), transcript=text if with_text else None)
            cpu = time.process_time() - c0
            d = audio.duration
            print(f"| {set_name} | {d:.1f} s | {'yes' if with_text else 'no'} | {clip.meta['path']} | {clip.meta['pieces']} | "
                  f"{cold:.2f} | {cold / d:.3f} | {min(warm):.2f} | {min(warm) / d:.3f} | {cpu / d:.3f} |", flush=True)
            for kind, value in (("warm", min(warm) / d), ("cold", cold / d)):
                worst[kind, with_text] = max(worst.get((kind, with_text), 0.0), value)
            rep.data.setdefault("rows", []).append(
                {"set": set_name, "audio_s": round(d, 2), "transcript": with_text, "path": clip.meta["path"],
                 "pieces": clip.meta["pieces"], "cold_rtf": round(cold / d, 4), "warm_rtf": round(min(warm) / d, 4),
                 "cpu_rtf_1_process": round(cpu / d, 4)})
    process_pool.shutdown()
    for (kind, with_text), value in worst.items():
        rep.metric(f"{kind}_rtf_{'text' if with_text else 'notext'}_max", round(value, 3), "",
                   f"{kind} RTF, {'with' if with_text else 'without'} a transcript, worst case over the clips "
                   f"({', '.join(s for s in SETS if args.set in (s, 'all'))}; ~10 s and ~60 s)")


if __name__ == "__main__":
    main()
