"""Checks of a NIM request's values (server side): every number finite and in range, every name known.

Small pure functions over the wire messages so another server loop can reuse them. Each raises
``InputError`` with one line naming the field, the value and what is allowed.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

from ..config import FACE_PARAM_RANGES, POST_PROCESSING_RANGES
from ..names import EMOTIONS, NVIDIA_52, NVIDIA_TONGUE_16, to_nvidia

# The NIM documents no hard range for blendshape multipliers and offsets (NVIDIA's Maya UI uses 0..2 and
# -1..1 as soft ranges); these bounds only keep out values that cannot be meant and would overflow float32.
BS_MULTIPLIER_RANGE = (-100.0, 100.0)
BS_OFFSET_RANGE = (-100.0, 100.0)
BLENDSHAPE_NAMES = frozenset(NVIDIA_52) | frozenset(NVIDIA_TONGUE_16)
MAX_EMOTION_KEYS = 10_000  # time-coded emotion entries per stream (one per 30 fps frame of 300 s is 9,000)


class InputError(ValueError):
    """A request value a client must fix; the message is one line for the client and the log."""


def _num(v: float) -> str:
    return repr(v) if not math.isfinite(v) else f"{v:g}"


def check_range(field: str, v: float, lo: float | None, hi: float | None, *, open_lo: bool = False) -> None:
    """``v`` finite and within [lo, hi] (``open_lo``: > lo)."""
    if not math.isfinite(v):
        raise InputError(f"{field} = {_num(v)} is not a finite number")
    below = lo is not None and (v <= lo if open_lo else v < lo)
    if below or (hi is not None and v > hi):
        if lo is not None and hi is not None and not open_lo:
            allowed = f"[{lo:g}, {hi:g}]"
        else:
            parts = [] if lo is None else [f"> {lo:g}" if open_lo else f">= {lo:g}"]
            allowed = " and ".join(parts + ([] if hi is None else [f"<= {hi:g}"]))
        raise InputError(f"{field} = {_num(v)} is outside its range {allowed}")


def check_face_params(values: Mapping[str, float]) -> None:
    for k, v in values.items():
        if k not in FACE_PARAM_RANGES:
            raise InputError(
                f"face_params.float_params has an unknown parameter '{k}'; known: {', '.join(FACE_PARAM_RANGES)}"
            )
        lo, hi, _ = FACE_PARAM_RANGES[k]
        check_range(f"face parameter {k}", v, lo, hi)


def check_post_processing(pp) -> None:
    for k, (lo, hi, _, kind) in POST_PROCESSING_RANGES.items():
        if kind is not bool and pp.HasField(k):
            check_range(f"emotion post-processing parameter {k}", float(getattr(pp, k)), lo, hi)


def check_blendshape_params(bs) -> None:
    for field, values, (lo, hi) in (
        ("bs_weight_multipliers", bs.bs_weight_multipliers, BS_MULTIPLIER_RANGE),
        ("bs_weight_offsets", bs.bs_weight_offsets, BS_OFFSET_RANGE),
    ):
        for k, v in values.items():
            if to_nvidia(k) not in BLENDSHAPE_NAMES:
                raise InputError(
                    f"blendshape_params.{field} has an unknown blendshape '{k}'; use the ARKit names in NVIDIA's "
                    "spelling (EyeBlinkLeft ... TongueOut, and the 16 tongue names)"
                )
            check_range(f"blendshape_params.{field}[{k}]", v, lo, hi)


def check_emotion_values(field: str, values: Mapping[str, float]) -> None:
    """Emotion name -> value: names among the ten, values finite in [0, 1]."""
    for k, v in values.items():
        if k not in EMOTIONS:
            raise InputError(f"{field} has an unknown emotion '{k}'; known: {', '.join(EMOTIONS)}")
        check_range(f"{field}[{k}]", v, 0.0, 1.0)


def check_emotion_params(ep) -> None:
    if ep.HasField("live_transition_time"):
        check_range("emotion_params.live_transition_time", ep.live_transition_time, 0.0, None, open_lo=True)
    check_emotion_values("emotion_params.beginning_emotion", ep.beginning_emotion)


def check_header_values(header) -> None:
    """Every run-time parameter of an audio_stream_header."""
    check_face_params(header.face_params.float_params)
    check_post_processing(header.emotion_post_processing_params)
    check_blendshape_params(header.blendshape_params)
    check_emotion_params(header.emotion_params)


def check_emotion_keys(entries: Iterable, max_time: float | None = None) -> None:
    """Time-coded emotions of an audio_with_emotion message."""
    for e in entries:
        check_range("emotions.time_code", e.time_code, 0.0, max_time)
        check_emotion_values(f"emotions at time_code {e.time_code:g}: emotion", e.emotion)


# --- a cheap look at a request message before it is parsed --------------------------------------------
# Parsing costs about 40 bytes of memory per field: 8 MB of two-byte emotion entries become 160 MB of
# objects. A message may be large only because of its audio.
MAX_NON_AUDIO_BYTES = 512 * 1024
_MAX_SCANNED_FIELDS = MAX_EMOTION_KEYS + 100


def _varint(data: bytes, i: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[i]  # IndexError when truncated
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(data: bytes, start: int, end: int) -> Iterable[tuple[int, int, int, int]]:
    """(field number, wire type, start, end of a length-delimited value) of the fields in data[start:end]."""
    i = start
    while i < end:
        key, i = _varint(data, i)
        num, wt = key >> 3, key & 7
        a = i
        if wt == 0:
            _, i = _varint(data, i)
        elif wt == 1:
            i += 8
        elif wt == 2:
            n, a = _varint(data, i)
            i = a + n
        elif wt == 5:
            i += 4
        else:
            raise ValueError(f"wire type {wt}")
        if i > end:
            raise ValueError("truncated")
        yield num, wt, a, i


def precheck_request(data: bytes) -> str:
    """Why a serialized AudioStream must not be parsed ('' = parse it): more than 512 KiB besides its
    audio, or more emotion entries than a stream may hold. Malformed data is left to the parser."""
    if len(data) <= MAX_NON_AUDIO_BYTES:
        return ""
    audio = seen = 0
    try:
        for num, wt, a, b in _fields(data, 0, len(data)):
            seen += 1
            if num == 2 and wt == 2:  # audio_with_emotion
                for num2, wt2, a2, b2 in _fields(data, a, b):
                    seen += 1
                    if num2 == 1 and wt2 == 2:
                        audio += b2 - a2
                    if seen > _MAX_SCANNED_FIELDS:
                        break
            if seen > _MAX_SCANNED_FIELDS:
                return f"holds more than {MAX_EMOTION_KEYS} fields or emotion entries; send fewer per message"
    except (ValueError, IndexError):
        return ""
    if len(data) - audio > MAX_NON_AUDIO_BYTES:
        return (
            f"holds {len(data) - audio} bytes besides audio (at most {MAX_NON_AUDIO_BYTES}); "
            "send emotions in smaller batches"
        )
    return ""
