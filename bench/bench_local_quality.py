"""Lip-sync quality of the bundled CPU backend ("local") against known phone timings.

On every fixture in tests/fixtures (espeak-ng speech with the phone events espeak reported), with
and without the transcript:
  closure   share of p/b/m phones during which the lips close (target >= 0.95)
  open shut share of open vowels (AA AE AH AO AW AY EH, >= 50 ms) with the lips closed in their
            middle half (target <= 0.05)
  rounding  share of oo/oh/w phones (UW UH OW W) with visible pucker/funnel (target >= 0.90)
  jaw lag   timing of jawOpen against the curve built from the known phones (cross-correlation
            peak; target within 20 ms), and the correlation r at zero lag
Phone windows are widened by 20 ms (10 ms reference events, 60 fps frames); see
a2f_core/backends/local/evaluate.py for the exact rules.

The same for the held-out espeak set in tests/fixtures/espeak_heldout (30 sentences in ten voices, made after
the backend was tuned and never used to tune it: make_fixtures.py --held-out), and for the natural-speech set in tests/fixtures/natural (5 LibriVox utterances from
pocketsphinx's test data; their reference phones are pocketsphinx's own alignment to the transcript, so
partly self-referential; see its README.md), and for the wider natural set in tests/fixtures/more. Each set is
also joined back to back and decoded on all cores (quality and wall time). ``--set`` picks the sets.

    .venv/bin/python bench/bench_local_quality.py [--set all]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from benchlib import Report, add_results_args

from a2f_core import audio as audio_mod
from a2f_core.backends.local import LocalBackend
from a2f_core.backends.local import evaluate as ev
from a2f_core.config import RunConfig

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SETS = {"espeak": FIXTURES, "heldout": FIXTURES / "espeak_heldout", "natural": FIXTURES / "natural",
        "more": FIXTURES / "more"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--set", choices=[*SETS, "all"], default="all", help="fixture set(s) to score")
    add_results_args(ap)
    args = ap.parse_args()
    with Report(__file__, "Bundled CPU backend: lip-sync quality against known phones", args) as rep:
        print(f"words without a transcript: {LocalBackend(workers=1).words.label}")
        for name, folder in SETS.items():
            if args.set in (name, "all"):
                print(f"\n## {name} ({folder.relative_to(FIXTURES.parent.parent)})\n")
                totals = report(LocalBackend(workers=1), folder)
                for with_text, (c, o, r, lag, mx, jr, rtf, (nb, no, nr)) in totals.items():
                    tag = f"{name}_{'text' if with_text else 'notext'}"
                    how = f"{name} set, {'with' if with_text else 'without'} a transcript"
                    rep.metric(f"{tag}_closure", round(c, 2), f"of {nb}", f"p/b/m closed, {how}")
                    rep.metric(f"{tag}_open_shut", round(o, 2), f"of {no}", f"open vowels shut, {how}")
                    rep.metric(f"{tag}_rounding", round(r, 2), f"of {nr}", f"oo/oh/w rounded, {how}")
                    rep.metric(f"{tag}_jaw_lag_ms", round(lag), "ms", f"mean abs jaw lag (max {mx:.0f} ms), {how}")
                    rep.metric(f"{tag}_jaw_r", round(jr, 2), "", f"mean jaw correlation r, {how}")
                    rep.metric(f"{tag}_cpu_rtf", round(rtf, 3), "", f"RTF in one process, {how}")
                for with_text, secs in report_joined(LocalBackend(), folder).items():
                    rep.metric(f"{name}_joined_{'text' if with_text else 'notext'}_s", round(secs, 2), "s",
                               f"{name} set joined, {'with' if with_text else 'without'} a transcript, all cores, "
                               "wall time (cold for the first)")


def report(backend: LocalBackend, folder: Path) -> dict:
    names = sorted(p.stem for p in folder.glob("*.json"))
    print("| transcript | fixture | path | closure | open shut | rounding | jaw lag ms | jaw r |")
    print("|---|---|---|---|---|---|---|---|")
    totals = {}
    for with_text in (True, False):
        rows = []
        for n in names:
            meta = json.loads((folder / f"{n}.json").read_text())
            audio = audio_mod.load(folder / f"{n}.wav")
            t0 = time.perf_counter()
            clip = backend.infer(audio, RunConfig(), transcript=meta["transcript"] if with_text else None)
            dt = time.perf_counter() - t0
            s = ev.score(clip, ev.phones_from_json(meta), audio.samples, audio.rate)
            rows.append((s, dt, audio.duration))
            print(f"| {'yes' if with_text else 'no'} | {n} ({meta['voice']}, {meta['wpm']} wpm) | {clip.meta['path']} | "
                  f"{s.closure:.2f} ({s.n_bilabial}) | {s.open_closed:.2f} ({s.n_open}) | {s.rounding:.2f} "
                  f"({s.n_rounded}) | {s.jaw_lag * 1000:+.0f} | {s.jaw_r:.2f} |", flush=True)
        sc = [r[0] for r in rows]
        nb, no, nr = (sum(getattr(s, k) for s in sc) for k in ("n_bilabial", "n_open", "n_rounded"))
        totals[with_text] = (
            sum(s.closure * s.n_bilabial for s in sc) / nb,
            sum(s.open_closed * s.n_open for s in sc) / no,
            sum(s.rounding * s.n_rounded for s in sc) / nr,
            float(np.mean([abs(s.jaw_lag) for s in sc])) * 1000,
            float(np.max([abs(s.jaw_lag) for s in sc])) * 1000,
            float(np.mean([s.jaw_r for s in sc])),
            sum(r[1] for r in rows) / sum(r[2] for r in rows),
            (nb, no, nr),
        )
    print("\n| transcript | closure (>= 0.95) | open shut (<= 0.05) | rounding (>= 0.90) | mean abs jaw lag ms "
          "(<= 20) | max abs jaw lag ms | mean jaw r | RTF (1 process) |")
    print("|---|---|---|---|---|---|---|---|")
    for with_text, (c, o, r, lag, mx, jr, rtf, (nb, no, nr)) in totals.items():
        print(f"| {'yes' if with_text else 'no'} | {c:.2f} of {nb} | {o:.2f} of {no} | {r:.2f} of {nr} | {lag:.0f} | "
              f"{mx:.0f} | {jr:.2f} | {rtf:.3f} |")
    return totals



def report_joined(backend: LocalBackend, folder: Path, gap: float = 0.4) -> dict[bool, float]:
    """The whole set back to back (gap s of silence between), decoded the way `a2f infer` does it: with a
    transcript in pieces aligned in parallel, without one cut into a piece per worker process."""
    names = sorted(p.stem for p in folder.glob("*.json"))
    parts, known, words, t = [], [], [], 0.0
    for n in names:
        meta = json.loads((folder / f"{n}.json").read_text())
        a = audio_mod.load(folder / f"{n}.wav", rate=16000)
        known += [ev.Phone(p.name, p.start + t, p.end + t) for p in ev.phones_from_json(meta)]
        parts += [a.samples, np.zeros(int(gap * 16000), np.float32)]
        words.append(meta["transcript"])
        t += a.duration + gap
    audio = audio_mod.Audio(np.concatenate(parts), 16000, "joined")
    print(f"\nThe set joined ({audio.duration:.1f} s), all cores ({backend.workers} workers):\n")
    print("| transcript | path | pieces | closure | open shut | rounding | jaw lag ms | jaw r | wall s |")
    print("|---|---|---|---|---|---|---|---|---|")
    walls = {}
    for text in (" ".join(words), None):
        t0 = time.perf_counter()
        clip = backend.infer(audio, RunConfig(), transcript=text)
        walls[text is not None] = time.perf_counter() - t0
        s = ev.score(clip, known, audio.samples, audio.rate)
        print(f"| {'yes' if text else 'no'} | {clip.meta['path']} | {clip.meta['pieces']} | {s.closure:.2f} of "
              f"{s.n_bilabial} | {s.open_closed:.2f} of {s.n_open} | {s.rounding:.2f} of {s.n_rounded} | "
              f"{s.jaw_lag * 1000:+.0f} | {s.jaw_r:.2f} | {walls[text is not None]:.2f} |", flush=True)
    print("(wall s: the first row includes starting the worker processes and loading their decoders)")
    return walls


if __name__ == "__main__":
    main()
