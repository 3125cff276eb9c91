"""Transcript handling, letter-to-sound fallback and phone -> viseme rules."""

from __future__ import annotations

import numpy as np

from a2f_core.backends.local import phones
from a2f_core.backends.local.normalise import letter_to_sound, words_of
from a2f_core.backends.local.phones import Phone, recognizer
from a2f_core.backends.local.visemes import to_segments


def test_words_of_transcript():
    assert words_of("Bob's 21 boys, who flew—to ROME!") == ["bob's", "twenty", "one", "boys", "who", "flew", "to", "rome"]
    assert words_of("It\u2019s 1999.") == ["it's", "one", "thousand", "nine", "hundred", "ninety", "nine"]
    assert words_of("... ?!") == []


def test_letter_to_sound_gives_dictionary_phones():
    known = set("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH"
                .split())
    for w in ("zorblax", "quixotic", "mxyzptlk", "brightwhistle", "a"):
        phones = letter_to_sound(w).split()
        assert phones and set(phones) <= known, (w, phones)
    assert letter_to_sound("zorblax") == "Z AO R B L AE K S"
    assert recognizer().lookup("zorblax") is None and recognizer().lookup("bob") == "B AA B"


def test_diphthongs_split_and_stop_closure_joins_the_bilabial():
    segs = to_segments([Phone("AY1", 0.0, 0.2), Phone("SIL", 0.2, 0.28), Phone("B", 0.28, 0.33),
                        Phone("SIL", 0.33, 1.0), Phone("M", 1.0, 1.1)])
    assert [s.viseme for s in segs] == ["aa", "ih", "PP", "PP", "sil", "PP"]
    assert abs(segs[0].end - 0.12) < 1e-9  # 60/40 split
    assert segs[3].start == 0.28  # a long pause stays a pause


def test_loud_frames_ignore_a_steady_noise_floor():
    """Speech bursts over hiss: the pauses are not 'loud' even though the hiss is within 15 dB of the speech."""
    rng = np.random.default_rng(0)
    db_speech, db_hiss, db_silence = 72.0, 58.0, -60.0
    frames = np.full(200, db_hiss) + rng.normal(0, 1, 200)
    frames[20:80] = db_speech + rng.normal(0, 2, 60)
    frames[120:180] = db_speech + rng.normal(0, 2, 60)
    loud = phones.loud_frames(frames, 15.0)
    hiss = np.ones(200, bool)
    hiss[20:80] = hiss[120:180] = False
    assert (frames[hiss] > np.percentile(frames, 95) - 15).any()  # "within 15 dB of the top" alone takes hiss
    assert loud[25:75].all() and loud[125:175].all()
    assert not loud[hiss].any()
    clean = np.where(hiss, db_silence, frames)  # the same speech in digital silence: the old rule
    assert (phones.loud_frames(clean, 15.0) == (clean > np.percentile(clean, 95) - 15)).all()
