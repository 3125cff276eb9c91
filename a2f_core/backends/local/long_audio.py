"""Long audio: cut at pauses (segments.py) and decode the pieces in the shared worker pool (process_pool.py).

Without a transcript, audio is cut at quiet points so every worker process decodes a piece (the decoder holds
the GIL, so threads do not help), each with OVERLAP s of its neighbours for context; with one, audio over
2 * ALIGN_PIECE s is aligned in pieces cut at the pauses a word-level pass finds. In an interactive Blender every
decode goes to the workers (process_pool.only_in_workers).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ... import process_pool, segments
from ...errors import BackendError
from .phones import _FILLERS, RATE, Phone, Result, recognizer

PIECE_TARGET = 6.0  # s: no-transcript audio is decoded in pieces of about this length
PIECE_MAX = 30.0  # s: in one process, shorter audio stays whole (cutting only adds overlap)
MIN_PIECE = 2.5  # s: with worker processes, audio is cut so every worker gets a piece, down to this length
CUT_SEARCH = 0.5  # s: a cut goes to the quietest point this close to its even position (pieces stay even)
OVERLAP = 0.3  # s of neighbouring audio decoded with each piece for context


def piece_count(total: float, parallel: int) -> int:
    """How many pieces to decode ``total`` s of audio in, with ``parallel`` worker processes (1 = none):
    a multiple of the workers so none idles, each about PIECE_TARGET s and never under MIN_PIECE s."""
    if parallel > 1:
        n = parallel * max(1, round(total / (PIECE_TARGET * parallel)))
    else:
        n = math.ceil(total / PIECE_MAX)
    return max(1, min(n, int(total // MIN_PIECE)))


def split_at_pauses(pcm: np.ndarray, pieces: int) -> list[tuple[float, float]]:
    """``pieces`` spans covering the whole audio, cut at the quietest point within CUT_SEARCH s of even
    spacing (segments.quiet_cuts)."""
    reach = min(CUT_SEARCH, len(pcm) / RATE / max(1, pieces) / 3)
    cuts = segments.quiet_cuts(pcm, RATE, pieces, reach)
    return list(zip(cuts[:-1], cuts[1:]))


def _decode_piece(pcm: np.ndarray, offset: float, fast: bool = False, words: tuple | None = None) -> Result:
    """Worker entry point (module level so process pools can pickle it). ``fast``: phone recognition
    only (about 2x cheaper, weaker lip closures), for CPU servers that must keep up with many streams.
    ``words``: Whisper's words for the piece's own span, aligned (words.hear_piece), when they fit."""
    rec = recognizer()
    if fast:
        return rec.allphone(pcm, offset)
    if words is not None:
        from .words import hear_piece

        heard = hear_piece(rec, pcm, offset, *words)
        if heard is not None:
            return heard
    return rec.recognize(pcm, offset)


def recognize_long(
    pcm: np.ndarray,
    workers: int,
    check: Callable[[], None],
    progress: Callable[[float], None],
    fast: bool = False,
    pieces: int | None = None,
    words_model: str | None = None,
    min_fit: float = -45.0,
) -> tuple[list[Result], list[str]]:
    """Recognise speech without a transcript. With worker processes the audio is cut at pauses so
    every worker decodes a piece; in one process only audio over PIECE_MAX s is cut. ``words_model``:
    a Whisper folder (words.py) hears each piece's words (longer pieces, no overlap), pocketsphinx
    where they do not fit (``min_fit``)."""
    pooled_ok = process_pool.can_use_processes()
    parallel = workers if workers > 1 and pooled_ok else 1
    from . import words as whisper  # here, not at the top: words.py imports this module

    use_words = bool(words_model) and not fast
    count = (whisper.piece_count if use_words else piece_count)(len(pcm) / RATE, parallel)
    spans = split_at_pauses(pcm, pieces or count)
    warnings: list[str] = []
    total = len(pcm) / RATE
    # each piece is decoded with OVERLAP s of its neighbours for context, then trimmed to its span
    ext = [(max(0.0, a - OVERLAP), min(total, b + OVERLAP)) for a, b in spans]
    cut = [(pcm[int(a * RATE): int(b * RATE)], a) for a, b in ext]
    heard = [(words_model, whisper.threads_for(parallel), a, b, min_fit) if use_words else None for a, b in spans]
    results: list[Result | None] = [None] * len(cut)
    if parallel > 1 or (process_pool.only_in_workers() and pooled_ok):  # even one piece: threads decoding other files
        # at once then use the other cores
        jobs = [(p, off, fast, h) for (p, off), h in zip(cut, heard)]
        pooled, why = process_pool.shared(workers).run(_decode_piece, jobs, check, progress)
        if pooled is not None:
            results = list(pooled)
        else:
            warnings.append(f"worker processes unavailable ({why}); decoded in this process")
    for i, (p, off) in enumerate(cut):
        if results[i] is None:
            check()
            results[i] = _decode_piece(p, off, fast, heard[i])
            progress((i + 1) / len(cut))
    done = [r for r in results if r is not None]
    if len(done) != len(cut):
        raise BackendError("speech recognition lost a piece of the audio")
    return [_trim(r, a, b) for r, (a, b) in zip(done, spans)], warnings


def _trim(r: Result, a: float, b: float) -> Result:
    """The part of a decoded piece within [a, b) s."""
    kept = [Phone(p.name, max(p.start, a), min(p.end, b)) for p in r.phones if min(p.end, b) > max(p.start, a)]
    words = tuple(w for w in r.words if a <= 0.5 * (w[1] + w[2]) < b)  # a word belongs to the piece its middle is in
    # Whisper heard only its own span (no overlap): its text, punctuation and all, is the piece's
    text = " ".join(w[0] for w in words) if r.words and r.recogniser != "whisper" else r.text
    return Result(kept, r.path, text, r.warnings, r.pieces, words, r.fit, r.fit_frames, r.recogniser)


ALIGN_PIECE = 10.0  # s: with a transcript, audio longer than 2 pieces is aligned piecewise in parallel
MIN_CUT_PAUSE = 0.15  # s: pauses at least this long may be cut


def _word_pass(pcm: np.ndarray, words: list[str]) -> list[tuple[str, float, float]] | None:
    """Worker entry point: the word-level pass that finds the pauses a long alignment is cut at."""
    return recognizer().word_pass(pcm, words)


def _align_piece(pcm: np.ndarray, words: list[str], offset: float) -> Result | None:
    """Worker entry point for one piece of a long transcript alignment."""
    if not words:
        return Result([Phone("SIL", offset, offset + len(pcm) / RATE)], "align")
    return recognizer().align(pcm, words, offset)


def align_long(
    pcm: np.ndarray,
    words: list[str],
    workers: int,
    check: Callable[[], None],
    piece: float = ALIGN_PIECE,
) -> tuple[Result | None, list[str]]:
    """Forced alignment of ``words``; long audio: one word pass over the whole file finds pauses
    to cut at, then the pieces (with their words) are aligned again, in worker processes where there are
    some (one alignment of minutes of audio drifts: 110 s of espeak voices fitted -55 whole, -36 to -48 in
    pieces). Falls back to one whole-file alignment if any piece fails."""
    total = len(pcm) / RATE
    words = list(words)
    pooled = process_pool.can_use_processes() and (workers >= 2 or process_pool.only_in_workers())

    def whole() -> Result | None:
        return process_pool.run_here_or_in_workers(workers, _align_piece, (pcm, words, 0.0), check)

    if not pooled and total <= 2 * piece:
        return recognizer().align(pcm, words), []
    if total <= 2 * piece:  # whole, but in a worker: threads aligning other files at once use the other cores
        one, why = process_pool.shared(workers).run(_align_piece, [(pcm, words, 0.0)], check)
        if one is None:
            return recognizer().align(pcm, words), [f"worker processes unavailable ({why}); aligned in this process"]
        return one[0], []
    segs = process_pool.run_here_or_in_workers(workers, _word_pass, (pcm, words), check)
    if segs is None:
        return None, []
    check()
    cuts = [0.0]
    for w, a, b in segs:
        if w in _FILLERS and b - a >= MIN_CUT_PAUSE and 0 < a and b < total:
            mid = 0.5 * (a + b)
            if mid - cuts[-1] >= piece and total - mid >= piece / 2:
                cuts.append(mid)
    cuts.append(total)
    if len(cuts) <= 2:
        return whole(), []
    spoken = [(w, 0.5 * (a + b)) for w, a, b in segs if w not in _FILLERS]
    jobs = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        jobs.append((pcm[int(a * RATE): int(b * RATE)], [w for w, m in spoken if a <= m < b], a))
    warnings: list[str] = []
    results: list[Result | None] | None = None
    if pooled:
        results, why = process_pool.shared(workers).run(_align_piece, jobs, check)
        if results is None:
            warnings.append(f"worker processes unavailable ({why}); aligned in this process")
    if results is None:
        results = []
        for job in jobs:
            check()
            results.append(_align_piece(*job))
    if any(r is None for r in results):
        return whole(), warnings
    done = [r for r in results if r is not None]
    frames = sum(r.fit_frames for r in done)
    merged = Result(
        [p for r in done for p in r.phones], "align", " ".join(words),
        tuple(dict.fromkeys(w for r in done for w in r.warnings)), len(done), tuple(w for r in done for w in r.words),
        sum(r.fit * r.fit_frames for r in done) / frames if frames else 0.0, frames,
    )
    return merged, warnings
