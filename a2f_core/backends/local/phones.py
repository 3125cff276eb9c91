"""Speech -> timed CMU phones with pocketsphinx 5.1.1 (its English model ships in the wheel).

Three paths, best first:
  align    - a transcript is given: forced alignment, beam widened 1e-48 -> 1e-80 -> 1e-120 -> 1e-200
             (synthetic and trimmed speech often fails at the default beam);
  asr      - no (usable) transcript: word recognition, then forced alignment of the recognised words;
  allphone - phone recognition, when word recognition finds nothing or cannot be aligned.
Audio is decoded at 16 kHz with dither (seeded) and 0.3 s of padding. Long audio and worker processes:
long_audio.py; transcript text -> words: text.py.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ... import segments
from .normalise import letter_to_sound, words_of

RATE = 16000
FRAME = 0.01  # pocketsphinx frame (s)
HOP = int(RATE * FRAME)  # samples per frame
PAD = 0.3  # s of silence around every decoded piece
# alignment beams, tried in turn: the first is pocketsphinx's default; the wider ones widen the phone and
# word-exit beams too (widening only the HMM beam cannot rescue noisy audio: the word exits were pruned)
BEAMS = (1e-48, 1e-80, 1e-120, 1e-200, 1e-300)
# Dither is added here (seeded per piece) and the features (CMN) are reset before every utterance,
# so a decode never depends on what the decoder saw before: same audio, same phones.
COMMON = {"dither": False, "loglevel": "FATAL"}
DITHER = 1.0  # LSB of noise against digital silence
# word recognition: the lipsync notes' fast settings (maxhmmpf=3000, fwdflat=False: about 2x faster than
# the defaults on natural speech, same mouth curves), narrowed further by measurement on the LibriVox
# clips in tests/fixtures/natural (bench/results_local.md, "Natural speech"): maxhmmpf=2000, maxwpf=5 and
# topn=3 cost 0.72-0.85x the CPU time on natural speech (0.60-0.71x on espeak) with the same closure,
# rounding and jaw timing on natural speech and no worse on espeak.
ASR_OPTIONS: dict[str, object] = {"maxhmmpf": 2000, "maxwpf": 5, "topn": 3, "fwdflat": False}
# a recognised silence over at least DROPPED_MIN s of loud audio (frames within DROPPED_LOUD_DB of the piece's
# 95th-percentile level and above its noise floor, see loud_frames) is speech the recogniser dropped: it gets
# phone recognition instead
DROPPED_MIN = 0.1
DROPPED_LOUD_DB = 10.5  # 0.3 of the loud level
SILENT_RMS = 0.3  # LSB: frames below this RMS are digital silence
DROPPED_CONTEXT = 15  # 10 ms frames of audio either side decoded with it
# phone recognition (the fallback, and all of quality "fast")
ALLPHONE_OPTIONS: dict[str, object] = {"lw": 2.0, "pip": 0.3, "beam": 1e-20, "pbeam": 1e-20}

# pocketsphinx's filler "phones" and noise words all mean "no speech shape"
_FILLERS = {"SIL", "+SPN+", "+NSN+", "+BREATH+", "+COUGH+", "+NOISE+", "+UH+", "+UM+", "+SMACK+", "<sil>", "<s>", "</s>"}


@dataclass
class Phone:
    """A CMU phone (``SIL`` for silence) from ``start`` to ``end`` seconds."""

    name: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Result:
    phones: list[Phone]
    path: str  # "align" | "asr" | "allphone"
    text: str = ""  # recognised or aligned words
    warnings: tuple[str, ...] = ()
    pieces: int = 1  # pieces of audio decoded separately
    words: tuple[tuple[str, float, float], ...] = ()  # (word, start s, end s) where known
    # alignments: how well the words fit the audio, as the mean per 10 ms speech frame of the aligned senones'
    # score against the best senone in that frame (pocketsphinx's scaled log units; 0 = perfect), and the count
    fit: float = 0.0
    fit_frames: int = 0
    recogniser: str = ""  # who heard the words of an "asr" result: "pocketsphinx" or "whisper" (words.py)


# --- decoders --------------------------------------------------------------------------------------

def _decoder(**kw):
    from pocketsphinx import Decoder

    return Decoder(**COMMON, **kw)


def _padded(pcm: np.ndarray) -> bytes:
    pad = np.zeros(int(PAD * RATE), np.float64)
    x = np.concatenate([pad, pcm.astype(np.float64), pad])
    x += np.random.default_rng(1).normal(0.0, DITHER, len(x))
    return np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes()


def _run(dec, data: bytes) -> None:
    dec.reinit_feat()
    dec.start_utt()
    dec.process_raw(data, full_utt=True)
    dec.end_utt()


def _phones_from_alignment(dec, offset: float, end: float) -> tuple[list[Phone], float, int]:
    """The decoder's phone alignment as Phones within [offset, end), with its fit (Result.fit, fit_frames)."""
    out = []
    score = frames = 0
    for e in dec.get_alignment().phones():
        if e.name not in _FILLERS:
            score += e.score
            frames += e.duration
        name = "SIL" if e.name in _FILLERS else e.name
        t0 = e.start * FRAME - PAD + offset
        t1 = (e.start + e.duration) * FRAME - PAD + offset
        t0, t1 = max(t0, offset), min(t1, end)
        if t1 > t0:
            out.append(Phone(name, t0, t1))
    return out, (score / frames if frames else 0.0), frames


class Recognizer:
    """Lazily built pocketsphinx decoders (one set per process)."""

    def __init__(self) -> None:
        self._aligners: dict[float, Any] = {}
        self._asr: Any = None
        self._allphone: Any = None
        self._spelled: set[str] = set()  # words added by letter rules (still "unknown" to lookup)

    def aligner(self, beam: float):
        if beam not in self._aligners:
            wide = {} if beam == BEAMS[0] else {"pbeam": beam, "wbeam": beam}
            self._aligners[beam] = _decoder(lm=None, bestpath=False, beam=beam, **wide)
        return self._aligners[beam]

    def lookup(self, word: str) -> str | None:
        """The dictionary pronunciation, None for unknown words."""
        return None if word in self._spelled else self.aligner(BEAMS[0]).lookup_word(word)

    # -- with a transcript ---------------------------------------------------------------------
    def _spell(self, words: Sequence[str]) -> tuple[dict[str, str], list[str]]:
        """Letter-rule pronunciations (and warnings) for words missing from the dictionary."""
        warnings: list[str] = []
        prons: dict[str, str] = {}
        for w in dict.fromkeys(words):
            if self.lookup(w) is None:
                prons[w] = letter_to_sound(w)
                warnings.append(
                    f"word '{w}' is not in the pronouncing dictionary; spelled out by letter rules as {prons[w]}"
                )
        return prons, warnings

    def _aligner_with(self, beam: float, prons: dict[str, str]):  # type: ignore[no-untyped-def]
        dec = self.aligner(beam)
        for w, p in prons.items():
            if dec.lookup_word(w) != p:
                dec.add_word(w, p, True)
            self._spelled.add(w)
        return dec

    def word_pass(self, pcm: np.ndarray, words: Sequence[str]) -> list[tuple[str, float, float]] | None:
        """Word-level forced alignment only: (word or "<sil>", start s, end s); None if it fails."""
        prons, _ = self._spell(words)
        data = _padded(pcm)
        for beam in BEAMS:
            dec = self._aligner_with(beam, prons)
            try:
                dec.set_align_text(" ".join(words))
                _run(dec, data)
                segs = [(re.sub(r"\(\d+\)$", "", g.word), g.start_frame * FRAME - PAD, (g.end_frame + 1) * FRAME - PAD)
                        for g in dec.seg() or ()]  # None: nothing aligned at this beam
            except RuntimeError:
                continue
            if sum(1 for g in segs if g[0] not in _FILLERS) == len(words):
                return segs
        return None

    def align(self, pcm: np.ndarray, words: Sequence[str], offset: float = 0.0) -> Result | None:
        """Forced alignment with beam escalation; None when no beam fits the words to the audio."""
        prons, warnings = self._spell(words)
        text = " ".join(words)
        data = _padded(pcm)
        end = offset + len(pcm) / RATE
        for beam in BEAMS:
            dec = self._aligner_with(beam, prons)
            try:
                dec.set_align_text(text)
                _run(dec, data)
                timed = tuple((re.sub(r"\(\d+\)$", "", g.word), g.start_frame * FRAME - PAD + offset,
                               (g.end_frame + 1) * FRAME - PAD + offset) for g in dec.seg() or () if g.word not in _FILLERS)
                dec.set_alignment()
                _run(dec, data)
                phones, fit, frames = _phones_from_alignment(dec, offset, end)
            except RuntimeError:
                continue
            if phones:
                return Result(phones, "align", text, tuple(warnings), words=timed, fit=fit, fit_frames=frames)
        return None

    # -- without a transcript ------------------------------------------------------------------
    def recognize(self, pcm: np.ndarray, offset: float = 0.0) -> Result:
        """Word recognition, then forced alignment of the recognised words (the transcript path's
        aligner: cheaper than aligning on the recognition decoder, with the same or better curves);
        phone recognition when that fails."""
        if self._asr is None:
            self._asr = _decoder(**ASR_OPTIONS)
        _run(self._asr, _padded(pcm))
        hyp = self._asr.hyp()
        text = hyp.hypstr.strip() if hyp is not None else ""
        words = words_of(text)
        if words:
            r = self.align(pcm, words, offset)
            if r is not None and any(p.name != "SIL" for p in r.phones):
                return Result(self._fill_dropped(pcm, r.phones, offset), "asr", text, r.warnings, words=r.words)
        return self.allphone(pcm, offset)

    def _fill_dropped(self, pcm: np.ndarray, phones: list[Phone], offset: float) -> list[Phone]:
        """Speech the recogniser dropped (a silence over loud audio, e.g. a misheard robotic voice) is
        given phones by phone recognition, so the mouth does not stay shut while someone talks."""
        rms = np.sqrt(frame_energy(pcm))
        n = len(rms)
        if n == 0:
            return phones
        loud = loud_frames(20 * np.log10(np.maximum(rms, 1e-3)), DROPPED_LOUD_DB) & (rms > SILENT_RMS)
        merged: list[Phone] = []  # neighbouring silences as one
        for p in phones:
            if merged and p.name == "SIL" and merged[-1].name == "SIL":
                merged[-1] = Phone("SIL", merged[-1].start, p.end)
            else:
                merged.append(Phone(p.name, p.start, p.end))
        out: list[Phone] = []
        for p in merged:
            a, b = int((p.start - offset) * 100), int((p.end - offset) * 100)
            if p.name != "SIL" or loud[a:b].sum() < DROPPED_MIN * 100:
                out.append(p)
                continue
            # decoded with a little context either side, kept only within the silence
            ca, cb = max(0, a - DROPPED_CONTEXT), min(n, b + DROPPED_CONTEXT)
            filled = self.allphone(pcm[ca * HOP: cb * HOP], offset + ca / 100).phones
            kept = [Phone(q.name, max(q.start, p.start), min(q.end, p.end)) for q in filled
                    if min(q.end, p.end) > max(q.start, p.start)]
            if not kept:
                out.append(p)
                continue
            if kept[0].start > p.start:
                out.append(Phone("SIL", p.start, kept[0].start))
            out.extend(kept)
            if kept[-1].end < p.end:
                out.append(Phone("SIL", kept[-1].end, p.end))
        return out

    def allphone(self, pcm: np.ndarray, offset: float = 0.0) -> Result:
        from pocketsphinx import get_model_path

        if self._allphone is None:
            self._allphone = _decoder(allphone=get_model_path("en-us/en-us-phone.lm.bin"), lm=None, **ALLPHONE_OPTIONS)
        dec = self._allphone
        _run(dec, _padded(pcm))
        end = offset + len(pcm) / RATE
        out = []
        for s in dec.seg():
            name = "SIL" if s.word in _FILLERS else s.word
            t0 = max(offset, s.start_frame * FRAME - PAD + offset)
            t1 = min(end, (s.end_frame + 1) * FRAME - PAD + offset)
            if t1 > t0:
                out.append(Phone(name, t0, t1))
        return Result(out, "allphone")


# --- loudness ---------------------------------------------------------------------------------------

NOISE_MARGIN = 6.0  # dB: speech must stand this far above the recording's noise floor (its 5th-percentile level)


def loud_frames(db: np.ndarray, below_top: float) -> np.ndarray:
    """Frames (levels in dB) within ``below_top`` dB of the loud parts (95th percentile) and NOISE_MARGIN dB
    above the noise floor: speech, in clean audio and over steady background noise alike."""
    if len(db) == 0:
        return np.zeros(0, bool)
    floor, top = np.percentile(db, [5, 95])
    return db > max(top - below_top, floor + NOISE_MARGIN)


def frame_energy(pcm: np.ndarray) -> np.ndarray:
    """Mean square of each 10 ms frame of 16 kHz PCM (the trailing partial frame is dropped)."""
    return segments.frame_energy(pcm, RATE)


# pocketsphinx decoders are not thread-safe (two threads on one decoder crash the process):
# each thread gets its own.
_THREAD = threading.local()


def recognizer() -> Recognizer:
    rec = getattr(_THREAD, "recognizer", None)
    if rec is None:
        rec = _THREAD.recognizer = Recognizer()
    return rec
