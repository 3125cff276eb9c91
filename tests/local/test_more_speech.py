"""Lip-sync on a wider natural-speech set: 21 clips, 9 speakers (tests/fixtures/more, see its README.md).

Most reference phones are our own forced alignment to the known transcript (two clips carry labels made
elsewhere), so with the transcript these tests mostly check that alignment + curves give the right mouth
at those phones on many voices; without it they measure word recognition on voices it was not tuned on.

Thresholds, from bench/bench_local_quality.py --set more (bench/results_local.md, "A wider natural set"),
with a margin:
  with transcript: closure 1.00 of 80 on every clip, 0 of 135 open vowels shut, rounding 0.98 of 49,
                   |jaw lag| <= 7 ms, r >= 0.78 per clip -> closure 1.0 and no shut vowel per clip,
                   rounding >= 0.9 over the set, |lag| <= 50 ms and r >= 0.7 per clip.
  no transcript:   closure 0.81, shut 0.01, rounding 0.88, mean r 0.92 -> closure >= 0.70, shut <= 0.05,
                   rounding >= 0.75, mean r >= 0.8 (a regression floor; the issue's 0.95 is not met).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from local_helpers import pooled, scorer

from a2f_core import audio as audio_mod
from a2f_core.backends.local import evaluate, long_audio, normalise
from a2f_core.backends.local import phones as ph
from a2f_core.config import RunConfig

MORE = Path(__file__).resolve().parent.parent / "fixtures" / "more"
NAMES = sorted(p.stem for p in MORE.glob("*.json"))


@pytest.fixture(scope="module")
def score_of(backend):
    return scorer(backend, MORE)


def test_more_fixtures_are_present():
    assert len(NAMES) >= 20, "run tests/fixtures/make_more_fixtures.py"
    bilabial = 0
    for n in NAMES:
        meta = json.loads((MORE / f"{n}.json").read_text())
        assert meta["rate"] == 16000 and meta["transcript"]
        assert meta["phones"][-1]["end"] == pytest.approx(meta["duration"], abs=0.02)
        bilabial += sum(p["phone"] in ("P", "B", "M") for p in meta["phones"])
    assert bilabial >= 60


@pytest.mark.parametrize("name", NAMES)
def test_more_with_transcript(name, score_of):
    path, s = score_of(name, True)
    assert path == "align"
    assert s.closure == 1.0, s.missed  # every p/b/m closes the lips
    assert s.open_closed == 0.0, s.missed  # no open vowel is shut
    assert abs(s.jaw_lag) <= 0.05 and s.jaw_r >= 0.7, (s.jaw_lag, s.jaw_r)


def test_more_with_transcript_rounds_oo_oh_w(score_of):
    *_, rounding, missed = pooled([score_of(n, True)[1] for n in NAMES])
    assert rounding >= 0.9, missed  # measured 0.98


def test_more_without_transcript(score_of):
    results = [score_of(n, False) for n in NAMES]
    assert all(path == "asr" for path, _ in results), [path for path, _ in results]
    closure, shut, rounding, missed = pooled([s for _, s in results])
    assert closure >= 0.70, (closure, missed)  # measured 0.81
    assert shut <= 0.05, (shut, missed)  # measured 0.01
    assert rounding >= 0.75, (rounding, missed)  # measured 0.88
    assert float(np.mean([s.jaw_r for _, s in results])) >= 0.8  # measured 0.92


def test_a_two_minute_reading_aligns_in_parallel_pieces(monkeypatch):
    """The whole set back to back (119 s) with its transcript: aligned in pieces in worker processes, not
    whole in one process. (One piece here, with sonnet lines 3 and 5, failed to align at every beam while the
    wider beams kept the word-exit beam narrow; the file was then aligned whole, 2x slower.) Every p/b/m of the
    80 still closes the lips."""
    monkeypatch.delitem(sys.modules, "bpy", raising=False)  # other suites may have imported bpy
    parts, words, known, t = [], [], [], 0.0
    gap = np.zeros(int(0.4 * ph.RATE), np.float32)
    for n in NAMES:
        meta = json.loads((MORE / f"{n}.json").read_text())
        a = audio_mod.load(MORE / f"{n}.wav", rate=ph.RATE)
        known += [ph.Phone(p.name, p.start + t, p.end + t) for p in evaluate.phones_from_json(meta)]
        parts += [a.samples, gap]
        words += normalise.words_of(meta["transcript"])
        t += a.duration + 0.4
    pcm = np.round(np.concatenate(parts) * 32767).astype(np.int16)
    r, warn = long_audio.align_long(pcm, words, 2, lambda: None)
    assert r is not None and not warn
    assert r.pieces >= 10  # ~10 s pieces; 1 would mean the slow whole-file fallback
    assert [w[0] for w in r.words] == words
    flat = r.phones
    gaps = [(round(x.end, 4), round(y.start, 4)) for x, y in zip(flat, flat[1:]) if abs(x.end - y.start) > 1e-3]
    assert not gaps  # the pieces join (to a sample)
    assert flat[-1].end == pytest.approx(len(pcm) / ph.RATE, abs=0.02)
    got = [p for p in flat if p.name in ("P", "B", "M")]
    ref = [p for p in known if p.name in ("P", "B", "M")]
    found = sum(any(min(g.end, k.end + 0.02) > max(g.start, k.start - 0.02) for g in got) for k in ref)
    assert found == len(ref), (found, len(ref))


def _noisy(name: str, snr_db: float) -> tuple[audio_mod.Audio, dict]:
    """The clip with white noise added at ``snr_db`` below its speech level (seeded: the same noise every run)."""
    meta = json.loads((MORE / f"{name}.json").read_text())
    a = audio_mod.load(MORE / f"{name}.wav", rate=ph.RATE)
    x = a.samples.astype(np.float64)
    level = np.mean(x[np.abs(x) > 0.02] ** 2)
    x += np.random.default_rng(0).normal(0.0, np.sqrt(level / 10 ** (snr_db / 10)), len(x))
    return audio_mod.Audio(np.clip(x, -1, 1).astype(np.float32), ph.RATE, name), meta


@pytest.mark.parametrize("name", ["jfk_ask_not", "mfa_english_fast", "praatio_mary", "ps_goforward"])
def test_the_transcript_is_used_over_loud_background_noise(backend, name):
    """Hiss 10 dB below the voice: the transcript is still aligned (it used to be refused as 'not matching' or
    'covering only part of the speech', because the aligner's word-exit beam stayed narrow and the pauses
    counted as loud) and every p/b/m still closes the lips."""
    audio, meta = _noisy(name, 10.0)
    clip = backend.infer(audio, RunConfig(), transcript=meta["transcript"])
    assert clip.meta["path"] == "align", clip.meta["warnings"]
    s = evaluate.score(clip, evaluate.phones_from_json(meta), audio.samples, audio.rate)
    assert s.closure == 1.0 and s.open_closed == 0.0, s.missed


@pytest.mark.parametrize("snr", [None, 20.0])
def test_another_lines_transcript_is_refused(backend, snr):
    """A transcript of another line of about the same length is refused (its phones fit the sounds poorly)
    and the speech is recognised instead: clean and over 20 dB hiss, for every other clip of the set (each
    with the next clip's transcript)."""
    texts = {n: json.loads((MORE / f"{n}.json").read_text())["transcript"] for n in NAMES}
    accepted = []
    for i, name in list(enumerate(NAMES))[::2]:
        other = NAMES[(i + 1) % len(NAMES)]
        if normalise.words_of(texts[other]) == normalise.words_of(texts[name]) or {name, other} == {"mfa_english_fast",
                                                                                      "mfa_english_slow"}:
            continue  # the same sentence said twice
        audio = _noisy(name, snr)[0] if snr else audio_mod.load(MORE / f"{name}.wav")
        clip = backend.infer(audio, RunConfig(), transcript=texts[other])
        if clip.meta["path"] == "align":
            accepted.append((name, other))
        else:
            assert any("does not match" in w or "covers only part" in w for w in clip.meta["warnings"])
    assert len(accepted) <= (0 if snr is None else 1), accepted  # all 20 pairs: 0 clean, 2 at 20 dB
