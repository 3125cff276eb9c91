"""The bundled backend over background noise and other recording conditions, and its guard against another
line's transcript.

Every natural clip (tests/fixtures/natural and tests/fixtures/more) is degraded, seeded, so runs repeat
exactly: ``none`` (as recorded), a number = white noise at that signal-to-noise ratio in dB relative to the
clip's speech level (mean square of samples above 0.02), ``reverbT`` = a synthetic room (exponentially decaying
noise, reverberation time T s, direct sound kept), ``bandR`` = resampled to R Hz and back (telephone band at
8000). For each condition:
  with / without the transcript: closure, open vowels shut, rounding, mean jaw r (as bench_local_quality.py),
                                 and how many clips had their (right) transcript refused
  another line's transcript:     each clip with the next clip's transcript (pairs of one sentence said twice
                                 are skipped): how many were wrongly accepted (aligned instead of refused)

    .venv/bin/python bench/bench_noise.py [--conditions none 20 10 reverb0.4 reverb0.8 band8000]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from benchlib import Report, add_results_args

from a2f_core import audio as audio_mod
from a2f_core.backends.local import LocalBackend, normalise
from a2f_core.backends.local import evaluate as ev
from a2f_core.config import RunConfig

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
FOLDERS = (FIXTURES / "natural", FIXTURES / "more")


def noisy(samples: np.ndarray, snr: float | None) -> np.ndarray:
    x = samples.astype(np.float64)
    if snr is not None:
        level = np.mean(x[np.abs(x) > 0.02] ** 2)
        x = x + np.random.default_rng(0).normal(0.0, np.sqrt(level / 10 ** (snr / 10)), len(x))
    return np.clip(x, -1, 1).astype(np.float32)


def degraded(a: audio_mod.Audio, condition: str) -> np.ndarray:
    """16 kHz samples of ``a`` under ``condition`` (see the module docstring)."""
    if condition == "none":
        return a.samples
    if condition.startswith("reverb"):
        n = int(float(condition[6:]) * a.rate)
        ir = np.random.default_rng(0).normal(0.0, 1.0, n) * np.exp(-6.9 * np.arange(n) / n)  # -60 dB at the end
        ir *= 0.5 / np.sqrt(np.sum(ir**2))
        ir[0] = 1.0
        y = np.convolve(a.samples.astype(np.float64), ir)[: len(a.samples)]
        return (0.9 * y / max(np.abs(y).max(), 1e-9)).astype(np.float32)
    if condition.startswith("band"):
        return a.resampled(int(condition[4:])).resampled(a.rate).samples
    return noisy(a.samples, float(condition))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conditions", nargs="+", default=["none", "20", "10", "reverb0.4", "reverb0.8", "band8000"],
                    help="none | SNR in dB | reverbT | bandR (see above)")
    add_results_args(ap)
    args = ap.parse_args()
    with Report(__file__, "Bundled CPU backend over noise, reverberation and telephone band", args) as rep:
        run(args, rep)


def run(args: argparse.Namespace, rep: Report) -> None:
    clips = []
    for folder in FOLDERS:
        names = sorted(p.stem for p in folder.glob("*.json"))
        metas = [json.loads((folder / f"{n}.json").read_text()) for n in names]
        for i, (n, meta) in enumerate(zip(names, metas)):
            other = metas[(i + 1) % len(metas)]["transcript"]
            same = normalise.words_of(other) == normalise.words_of(meta["transcript"]) or n == "mfa_english_fast"
            clips.append((n, meta, audio_mod.load(folder / f"{n}.wav", rate=16000), None if same else other))
    backend = LocalBackend(workers=1)
    print(f"{len(clips)} clips from {', '.join(f.name for f in FOLDERS)}\n")
    print("| condition | transcript | closure | open shut | rounding | mean jaw r | right transcript refused | "
          "another line's accepted |")
    print("|---|---|---|---|---|---|---|---|")
    for cond in args.conditions:
        for with_text in (True, False):
            scores, refused, accepted, pairs = [], 0, 0, 0
            for _, meta, a, other in clips:
                audio = audio_mod.Audio(degraded(a, cond), a.rate, meta["transcript"][:20])
                clip = backend.infer(audio, RunConfig(), transcript=meta["transcript"] if with_text else None)
                scores.append(ev.score(clip, ev.phones_from_json(meta), audio.samples, audio.rate))
                refused += with_text and clip.meta["path"] != "align"
                if with_text and other is not None:
                    pairs += 1
                    accepted += backend.infer(audio, RunConfig(), transcript=other).meta["path"] == "align"
            nb, no, nr = (sum(getattr(s, k) for s in scores) for k in ("n_bilabial", "n_open", "n_rounded"))
            closure = sum(s.closure * s.n_bilabial for s in scores) / nb
            how = f"{cond}, {'with' if with_text else 'without'} a transcript"
            tag = f"{cond}_{'text' if with_text else 'notext'}"
            rep.metric(f"{tag}_closure", round(closure, 2), f"of {nb}", f"p/b/m closed, {how}")
            if with_text:
                rep.metric(f"{cond}_right_refused", refused, f"of {len(clips)}", f"right transcript refused, {cond}")
                rep.metric(f"{cond}_other_accepted", accepted, f"of {pairs}", f"another line's transcript accepted, {cond}")
            print(f"| {cond} | {'yes' if with_text else 'no'} | "
                  f"{closure:.2f} of {nb} | "
                  f"{sum(s.open_closed * s.n_open for s in scores) / no:.2f} | "
                  f"{sum(s.rounding * s.n_rounded for s in scores) / nr:.2f} | "
                  f"{np.mean([s.jaw_r for s in scores]):.2f} | "
                  f"{f'{refused} of {len(clips)}' if with_text else '-'} | "
                  f"{f'{accepted} of {pairs}' if with_text else '-'} |", flush=True)


if __name__ == "__main__":
    main()
