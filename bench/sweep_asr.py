"""Sweep no-transcript decoder settings: CPU time and lip-sync quality for each, on both fixture sets.

Each argument is a JSON object of settings, run in one process (workers=1) so the CPU time does not
depend on other processes. Keys: ``asr`` (word-recognition kwargs for pocketsphinx, replacing
phones.ASR_OPTIONS), ``allphone`` (phone-recognition kwargs), ``quality`` (best|fast), ``split`` (cut the audio as for N worker processes).

    .venv/bin/python bench/sweep_asr.py '{}' '{"asr": {"maxhmmpf": 1500}}' '{"split": 2}'

Each sweep is its own experiment: give ``--results bench/results/sweep_asr-NAME`` to keep one beside another.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from benchlib import Report, add_results_args

from a2f_core import audio as audio_mod
from a2f_core.backends.local import LocalBackend, long_audio, phones
from a2f_core.backends.local import evaluate as ev
from a2f_core.config import RunConfig

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
SETS = {"espeak": FIXTURES, "natural": FIXTURES / "natural", "more": FIXTURES / "more"}


def run(settings: dict) -> None:
    base = dict(phones.ASR_OPTIONS)
    base_ap = dict(phones.ALLPHONE_OPTIONS)
    phones.ALLPHONE_OPTIONS.update(settings.get("allphone", {}))
    if "asr" in settings:
        phones.ASR_OPTIONS.clear()
        phones.ASR_OPTIONS.update({**base, **settings["asr"]})
    count = long_audio.piece_count
    long_audio.OVERLAP = settings.get("overlap", 0.3)
    long_audio.MIN_PIECE = settings.get("min_piece", 2.5)
    if settings.get("split"):  # cut as for N worker processes, decoded here (same phones as in a pool)
        long_audio.piece_count = lambda total, parallel: count(total, int(settings["split"]))  # type: ignore[assignment]
    phones._THREAD.__dict__.clear()  # fresh decoders
    backend = LocalBackend(workers=1, quality=settings.get("quality", "best"))
    for name, folder in SETS.items():
        rows = []
        for n in sorted(p.stem for p in folder.glob("*.json")):
            meta = json.loads((folder / f"{n}.json").read_text())
            audio = audio_mod.load(folder / f"{n}.wav")
            backend.infer(audio, RunConfig())  # warm (decoders built)
            t0 = time.process_time()
            clip = backend.infer(audio, RunConfig())
            cpu = time.process_time() - t0
            rows.append((ev.score(clip, ev.phones_from_json(meta), audio.samples, audio.rate), cpu, audio.duration))
        sc = [r[0] for r in rows]
        nb, no, nr = (sum(getattr(s, k) for s in sc) for k in ("n_bilabial", "n_open", "n_rounded"))
        print(
            f"| {json.dumps(settings)} | {name} | {sum(r[1] for r in rows) / sum(r[2] for r in rows):.3f} | "
            f"{sum(s.closure * s.n_bilabial for s in sc) / nb:.2f} | {sum(s.open_closed * s.n_open for s in sc) / no:.2f} | "
            f"{sum(s.rounding * s.n_rounded for s in sc) / nr:.2f} | "
            f"{np.mean([abs(s.jaw_lag) for s in sc]) * 1000:.0f} / {np.max([abs(s.jaw_lag) for s in sc]) * 1000:.0f} | "
            f"{np.mean([s.jaw_r for s in sc]):.2f} |",
            flush=True,
        )
    phones.ASR_OPTIONS.clear()
    phones.ASR_OPTIONS.update(base)
    long_audio.piece_count = count  # type: ignore[assignment]
    phones.ALLPHONE_OPTIONS.clear()
    phones.ALLPHONE_OPTIONS.update(base_ap)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("settings", nargs="*", default=["{}"], help="JSON objects of settings (default: '{}', the defaults)")
    add_results_args(ap)
    args = ap.parse_args()
    settings = [json.loads(a) for a in args.settings]
    with Report(__file__, "No-transcript decoder settings: CPU time and lip-sync quality", args):
        print("| settings | set | cpu RTF | closure | open shut | rounding | jaw lag ms mean / max | jaw r |")
        print("|---|---|---|---|---|---|---|---|")
        for one in settings:
            run(one)


if __name__ == "__main__":
    main()
