"""Speech fixtures for the local backend tests (tests/fixtures, made by make_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

from a2f_core import audio as audio_mod
from a2f_core.backends.local.evaluate import phones_from_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))


class Fixture:
    def __init__(self, name: str) -> None:
        self.name = name
        self.meta = json.loads((FIXTURES / f"{name}.json").read_text())
        self.audio = audio_mod.load(FIXTURES / f"{name}.wav")
        self.transcript: str = self.meta["transcript"]
        self.known = phones_from_json(self.meta)


def scorer(backend, folder: Path):
    """score(name, with_transcript) -> (path, Scores) for the clip ``folder/name.wav`` against its JSON's phones,
    decoded once (the slow part) and cached."""
    from a2f_core.backends.local import evaluate
    from a2f_core.config import RunConfig

    cache: dict[tuple[str, bool], tuple[str, evaluate.Scores]] = {}

    def score(name: str, with_transcript: bool) -> tuple[str, evaluate.Scores]:
        key = (name, with_transcript)
        if key not in cache:
            meta = json.loads((folder / f"{name}.json").read_text())
            audio = audio_mod.load(folder / f"{name}.wav")
            clip = backend.infer(audio, RunConfig(), transcript=meta["transcript"] if with_transcript else None)
            cache[key] = (clip.meta["path"], evaluate.score(clip, phones_from_json(meta), audio.samples, audio.rate))
        return cache[key]

    return score


def pooled(scores) -> tuple[float, float, float, list[str]]:
    """(closure, open vowels shut, rounding, what missed) over a set of Scores, each weighted by its count."""
    nb, no, nr = (sum(getattr(s, k) for s in scores) for k in ("n_bilabial", "n_open", "n_rounded"))
    return (sum(s.closure * s.n_bilabial for s in scores) / nb, sum(s.open_closed * s.n_open for s in scores) / no,
            sum(s.rounding * s.n_rounded for s in scores) / nr, [m for s in scores for m in s.missed])


def long_line(path: Path, seconds: float) -> Path:
    """A WAV of about ``seconds`` of real speech (the natural-speech clips one after another, repeated as needed,
    0.3 s apart) with its transcript as the ``.txt`` twin."""
    import numpy as np

    clips = sorted((FIXTURES / "natural").glob("*.json")) + sorted((FIXTURES / "more").glob("*.json"))
    parts, words, total, i = [], [], 0.0, 0
    while total < seconds:
        meta = json.loads(clips[i % len(clips)].read_text())
        a = audio_mod.load(clips[i % len(clips)].with_suffix(".wav"), rate=16000)
        parts += [a.samples, np.zeros(4800, np.float32)]
        words.append(meta["transcript"])
        total += a.duration + 0.3
        i += 1
    audio_mod.save_wav(path, audio_mod.Audio(np.concatenate(parts), 16000, str(path), 16000, 1))
    path.with_suffix(".txt").write_text(" ".join(words) + "\n", encoding="utf-8")
    return path
