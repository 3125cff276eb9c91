"""A long transcript (110 s: the 30 held-out espeak sentences of tests/fixtures/espeak_heldout joined) is aligned
in pieces, in worker processes or in this process alike. Found by the held-out set: pocketsphinx's word pass over
the whole file aligns nothing at the first beam there (it used to raise a TypeError), and one alignment of the
whole file drifts (fit -55 per frame, so the right transcript was refused)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from a2f_core import audio as audio_mod
from a2f_core import process_pool
from a2f_core.backends.local import LocalBackend, evaluate, long_audio
from a2f_core.backends.local import backend as backend_mod
from a2f_core.backends.local.normalise import words_of
from a2f_core.backends.local.phones import BEAMS, recognizer
from a2f_core.config import RunConfig

HELD_OUT = Path(__file__).resolve().parent.parent / "fixtures" / "espeak_heldout"
GAP = 0.4  # s of silence between the sentences

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def joined():
    parts, known, text, t = [], [], [], 0.0
    for j in sorted(HELD_OUT.glob("*.json")):
        meta = json.loads(j.read_text())
        a = audio_mod.load(j.with_suffix(".wav"), rate=16000)
        known += [evaluate.Phone(p.name, p.start + t, p.end + t) for p in evaluate.phones_from_json(meta)]
        parts += [a.samples, np.zeros(int(GAP * 16000), np.float32)]
        text.append(meta["transcript"])
        t += a.duration + GAP
    return audio_mod.Audio(np.concatenate(parts), 16000, "held-out"), " ".join(text), known


def test_the_word_pass_goes_on_to_a_wider_beam_where_the_first_aligns_nothing(joined):
    audio, text, _ = joined
    pcm = np.round(audio.samples * 32768).astype(np.float64)
    words = words_of(text)
    dec = recognizer()._aligner_with(BEAMS[0], recognizer()._spell(words)[0])
    dec.set_align_text(" ".join(words))
    from a2f_core.backends.local.phones import _padded, _run

    _run(dec, _padded(pcm))
    assert dec.seg() is None  # the case that raised TypeError
    segs = recognizer().word_pass(pcm, words)
    assert segs is not None and [w for w, _, _ in segs if not w.startswith("<")] == words


@pytest.mark.parametrize("processes", [True, False], ids=["worker-processes", "one-process"])
def test_a_long_transcript_is_aligned_in_pieces_and_kept(joined, monkeypatch, processes):
    audio, text, known = joined
    if not processes:
        monkeypatch.setattr(process_pool, "can_use_processes", lambda: False)
    pcm = np.round(audio.samples * 32768).astype(np.float64)
    r, warn = long_audio.align_long(pcm, words_of(text), 2, lambda: None)
    assert r is not None and r.pieces >= 8 and r.fit > backend_mod.MIN_FIT, (r and (r.pieces, r.fit), warn)
    clip = LocalBackend(workers=2).infer(audio, RunConfig(), transcript=text)
    assert clip.meta["path"] == "align", clip.meta["warnings"]
    s = evaluate.score(clip, known, audio.samples, audio.rate)
    assert s.closure >= 0.9 and s.open_closed <= 0.08, s.missed  # bench_local_quality: 0.93 / 0.05 clip by clip
