"""Hostile and broken requests (issue #13): non-finite or out-of-range values, unknown names, undecodable
messages. Each ends with an ERROR status naming the field and sends no frames; the server keeps serving."""

from __future__ import annotations

import logging
import math
import re

import grpc
import pytest
from nim_helpers import speechlike
from rawclient import audio, call, eoa, final_status, header, kinds, ld

from a2f_core.backends import get
from a2f_core.config import RunConfig
from a2f_core.nim import wire

SEC = 32000  # bytes in one second of 16 kHz 16-bit mono
NAN, INF = math.nan, math.inf


def hdr(fn) -> wire.AudioStream:
    """A valid header changed by ``fn(header)``."""
    h = header()
    fn(h.audio_stream_header)
    return h


def emo(*entries) -> wire.AudioStream:
    """One second of audio with the time-coded emotions ``entries`` = (time_code, {name: value})."""
    m = audio(SEC)
    for t, values in entries:
        m.audio_with_emotion.emotions.append(wire.emotions_msg(t, values))
    return m


def assert_refused(out, err, pattern):
    assert err is None, err
    st = final_status(out)
    assert st is not None and st.code == wire.Status.ERROR, kinds(out)
    assert re.search(pattern, st.message), st.message
    assert "\n" not in st.message
    assert "animation_data" not in kinds(out)


CASES = {
    "multiplier-nan": (
        [hdr(lambda h: h.blendshape_params.bs_weight_multipliers.update({"JawOpen": NAN})), audio(SEC), eoa()],
        r"bs_weight_multipliers\[JawOpen\] = nan is not a finite number",
    ),
    "multiplier-inf": (
        [hdr(lambda h: h.blendshape_params.bs_weight_multipliers.update({"JawOpen": INF})), audio(SEC), eoa()],
        r"bs_weight_multipliers\[JawOpen\] = inf is not a finite number",
    ),
    "multiplier-huge": (
        [hdr(lambda h: h.blendshape_params.bs_weight_multipliers.update({"JawOpen": 3e38})), audio(SEC), eoa()],
        r"bs_weight_multipliers\[JawOpen\] = 3e\+38 is outside its range \[-100, 100\]",
    ),
    "offset-minus-inf-with-clamping": (
        [hdr(lambda h: (h.blendshape_params.bs_weight_offsets.update({"MouthClose": -INF}),
                        setattr(h.blendshape_params, "enable_clamping_bs_weight", True))), audio(SEC), eoa()],
        r"bs_weight_offsets\[MouthClose\] = -inf is not a finite number",
    ),
    "offset-nan-with-clamping": (
        [hdr(lambda h: (h.blendshape_params.bs_weight_offsets.update({"JawOpen": NAN}),
                        setattr(h.blendshape_params, "enable_clamping_bs_weight", True))), audio(SEC), eoa()],
        r"bs_weight_offsets\[JawOpen\] = nan is not a finite number",
    ),
    "unknown-blendshape": (
        [hdr(lambda h: h.blendshape_params.bs_weight_multipliers.update({"JawOpn": 1.0})), audio(SEC), eoa()],
        r"bs_weight_multipliers has an unknown blendshape 'JawOpn'",
    ),
    "face-param-nan": (
        [hdr(lambda h: h.face_params.float_params.update({"skinStrength": NAN})), audio(SEC), eoa()],
        r"face parameter skinStrength = nan is not a finite number",
    ),
    "face-param-unknown": (
        [hdr(lambda h: h.face_params.float_params.update({"lowerFaceStrenght": 1.0})), audio(SEC), eoa()],
        r"unknown parameter 'lowerFaceStrenght'",
    ),
    "post-processing-inf": (
        [hdr(lambda h: setattr(h.emotion_post_processing_params, "emotion_strength", INF)), audio(SEC), eoa()],
        r"emotion_strength = inf is not a finite number",
    ),
    "live-transition-time-nan": (
        [hdr(lambda h: setattr(h.emotion_params, "live_transition_time", NAN)), audio(SEC), eoa()],
        r"live_transition_time = nan is not a finite number",
    ),
    "live-transition-time-zero": (
        [hdr(lambda h: setattr(h.emotion_params, "live_transition_time", 0.0)), audio(SEC), eoa()],
        r"live_transition_time = 0 is outside its range > 0",
    ),
    "beginning-emotion-unknown": (
        [hdr(lambda h: h.emotion_params.beginning_emotion.update({"happiness": 1.0})), audio(SEC), eoa()],
        r"beginning_emotion has an unknown emotion 'happiness'; known: amazement, anger",
    ),
    "beginning-emotion-nan": (
        [hdr(lambda h: h.emotion_params.beginning_emotion.update({"joy": NAN})), audio(SEC), eoa()],
        r"beginning_emotion\[joy\] = nan is not a finite number",
    ),
    "emotion-nan": ([header(), emo((0.0, {"joy": NAN})), eoa()], r"emotion\[joy\] = nan is not a finite number"),
    "emotion-inf": ([header(), emo((0.0, {"fear": INF})), eoa()], r"emotion\[fear\] = inf is not a finite number"),
    "emotion-above-1": ([header(), emo((0.0, {"joy": 1.5})), eoa()], r"emotion\[joy\] = 1.5 is outside its range \[0, 1\]"),
    "emotion-unknown-name": (
        [header(), emo((0.0, {"out_of_breath": 1.0})), eoa()],
        r"unknown emotion 'out_of_breath'; known: .*outofbreath",
    ),
    "emotion-time-nan": ([header(), emo((NAN, {"joy": 1.0})), eoa()], r"time_code = nan is not a finite number"),
    "emotion-time-negative": ([header(), emo((-1.0, {"joy": 1.0})), eoa()], r"time_code = -1 is outside"),
    "emotion-in-a-later-message": (
        [header(), emo((0.0, {"joy": 1.0})), emo((1.0, {"grief": 2.0})), eoa()],
        r"emotion\[grief\] = 2 is outside its range \[0, 1\]",
    ),
}


@pytest.mark.parametrize("messages, pattern", list(CASES.values()), ids=list(CASES))
def test_bad_values_are_refused_by_name(serve, messages, pattern):
    s = serve()
    out, err = call(s.address, messages)
    assert_refused(out, err, pattern)
    assert get("nim", url=s.address).infer(speechlike(0.5), RunConfig()).n_frames == 16  # still serving


def test_too_many_emotion_keys(serve):
    s = serve()
    many = emo(*[(i / 1000.0, {"joy": 0.5}) for i in range(10_001)])
    out, err = call(s.address, [header(), many, eoa()])
    assert_refused(out, err, r"more than 10000 time-coded emotions")


def test_all_valid_values_pass(serve):
    """The boundaries themselves are accepted: every weight sent is finite."""
    s = serve()

    def edge(h):
        h.blendshape_params.bs_weight_multipliers.update({"JawOpen": 100.0, "mouthClose": -100.0})
        h.blendshape_params.bs_weight_offsets.update({"BrowInnerUp": -100.0, "TongueTipUp": 1.0})
        h.emotion_params.beginning_emotion.update({"joy": 1.0, "outofbreath": 0.0})
        h.emotion_params.live_transition_time = 1e-6

    out, err = call(s.address, [hdr(edge), emo((0.0, {"joy": 1.0, "pain": 0.0}), (300.0, {"fear": 1.0})), eoa()])
    assert err is None and final_status(out).code == wire.Status.SUCCESS
    values = [v for r in out if r.WhichOneof("stream_part") == "animation_data"
              for v in r.animation_data.skel_animation.blend_shape_weights[0].values]
    assert len(values) == 31 * 52 and all(math.isfinite(v) for v in values)


def test_non_finite_weights_from_a_backend_are_never_sent(serve):
    s = serve(backend="tiny_backend:NanBackend")
    out, err = call(s.address, [header(), audio(SEC), eoa()])
    assert_refused(out, err, r"internal server error: the backend produced non-finite weights")


RAW = wire.METHOD


@pytest.mark.parametrize(
    "blob",
    [b"\xff\xff\xff\xff", b"\x0a\x05\x0a", b"\x12\xff\xff\xff\xff\x0f" + b"\0" * 8, b"\x0a\x02\x0a\x80"],
    ids=["garbage", "truncated-header", "huge-length", "bad-varint"],
)
def test_undecodable_message_gets_one_log_line_and_an_error(serve, blob, caplog):
    caplog.set_level(logging.INFO)
    s = serve()
    with grpc.insecure_channel(s.address) as ch:
        rpc = ch.stream_stream(RAW, request_serializer=lambda b: b,
                               response_deserializer=wire.AnimationDataStream.FromString)
        out = list(rpc(iter([header().SerializeToString(), blob]), timeout=10))
    assert_refused(out, None, r"message 2 .* is not a valid AudioStream message")
    text = caplog.text
    assert "Traceback" not in text and "Exception deserializing" not in text
    assert len([r for r in caplog.records if "not a valid AudioStream" in r.getMessage()]) == 1
    assert get("nim", url=s.address).infer(speechlike(0.5), RunConfig()).n_frames == 16


def _raw_call(address, blobs):
    with grpc.insecure_channel(address) as ch:
        rpc = ch.stream_stream(RAW, request_serializer=lambda b: b,
                               response_deserializer=wire.AnimationDataStream.FromString)
        return list(rpc(iter(blobs), timeout=20))




@pytest.mark.parametrize(
    "blob, pattern",
    [
        # 4 MB of empty emotion entries: 2 million objects if parsed (about 80 MB)
        (ld(2, b"\x12\x00" * 2_000_000), r"message 2 \(\d+ bytes\) holds more than 10000 fields or emotion entries"),
        # one second of audio and one emotion entry with a 700 KB map of made-up names
        (ld(2, ld(1, bytes(SEC)) + ld(2, b"".join(ld(2, ld(1, b"x%06d" % i)) for i in range(70_000)))),
         r"holds \d+ bytes besides audio \(at most 524288\); send emotions in smaller batches"),
    ],
    ids=["millions-of-empty-emotions", "huge-emotion-map"],
)
def test_messages_that_would_cost_memory_to_parse_are_refused(serve, blob, pattern):
    s = serve()
    out = _raw_call(s.address, [header().SerializeToString(), blob])
    assert_refused(out, None, pattern)


def test_largest_valid_message_is_accepted(serve):
    """10 s at 144 kHz (2.88 MB) with emotions is within the limits."""
    s = serve()
    m = audio(10 * 144000 * 2)
    m.audio_with_emotion.emotions.append(wire.emotions_msg(0.0, {"joy": 1.0}))
    out, err = call(s.address, [header(rate=144000), m, eoa()])
    assert err is None and final_status(out).code == wire.Status.SUCCESS
    assert kinds(out).count("animation_data") == 301
