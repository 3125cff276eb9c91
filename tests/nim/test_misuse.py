"""Protocol misuse and input limits: an ERROR status (or a clean abort), and the server keeps serving."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
from nim_helpers import speechlike
from rawclient import audio, call, eoa, final_status, header, kinds

from a2f_core.backends import get
from a2f_core.config import RunConfig
from a2f_core.nim import wire

SEC = 32000  # bytes in one second of 16 kHz 16-bit mono


def assert_error(out, err, pattern):
    assert err is None, err
    st = final_status(out)
    assert st is not None and st.code == wire.Status.ERROR, kinds(out)
    import re

    assert re.search(pattern, st.message), st.message
    assert "animation_data" not in kinds(out)  # no frames for a refused request


@pytest.mark.parametrize(
    "messages, pattern",
    [
        ([audio(SEC), eoa()], r"first message must be audio_stream_header"),
        ([eoa()], r"first message must be audio_stream_header"),
        ([], r"closed its side before sending audio_stream_header"),
        ([header(bits=8), audio(SEC), eoa()], r"8 bits per sample; only 16-bit"),
        ([header(bits=32), audio(SEC), eoa()], r"32 bits per sample"),
        ([header(channels=2), audio(SEC), eoa()], r"2 audio channels; only mono"),
        ([header(rate=8000), audio(SEC), eoa()], r"8000 Hz is outside the accepted 16000-144000 Hz"),
        ([header(rate=192000), audio(SEC), eoa()], r"192000 Hz is outside"),
        ([header(), audio(11 * SEC), eoa()], r"11.00 s exceeds the 10 s per-message limit"),
        ([header(), audio(SEC + 1), eoa()], r"not whole 16-bit samples"),
        ([header(), audio(SEC), header(), eoa()], r"second audio_stream_header"),
        ([header(), audio(SEC)], r"closed its side before sending end_of_audio"),
        ([header(), eoa()], r"no audio arrived"),
        ([header(lower_face_strength=5.0), audio(SEC), eoa()], r"lowerFaceStrength = 5 is outside its range \[0, 2\]"),
    ],
    ids=[
        "audio-before-header", "no-header", "empty-stream", "8-bit", "32-bit", "stereo", "8kHz", "192kHz",
        "11s-buffer", "odd-bytes", "two-headers", "no-end-of-audio", "no-audio", "face-param-range",
    ],
)  # fmt: skip
def test_misuse_gives_error_status(serve, messages, pattern):
    s = serve()
    out, err = call(s.address, messages)
    assert_error(out, err, pattern)
    # the server is still fine afterwards
    assert get("nim", url=s.address).infer(speechlike(0.5), RunConfig()).n_frames == 16


def test_301_second_clip_is_refused(serve):
    s = serve()
    msgs = [header()] + [audio(10 * SEC)] * 30 + [audio(SEC), eoa()]  # 301 s, sent as fast as possible
    t0 = time.monotonic()
    out, err = call(s.address, msgs)
    assert_error(out, err, r"longer than 300 s")
    assert time.monotonic() - t0 < 20


def test_idle_stream_is_closed(serve):
    s = serve(idle_timeout=0.4)
    hold = threading.Event()
    t0 = time.monotonic()
    out, err = call(s.address, [header(), audio(SEC)], hold=hold, timeout=10)
    assert_error(out, err, r"no message for 0.4 s .*idle timeout")
    assert time.monotonic() - t0 < 5


def test_client_vanishing_mid_stream_does_not_hurt_others(serve):
    s = serve(backend_options={"delay": 0.5})
    results = {}

    def good():
        results["good"] = get("nim", url=s.address).infer(speechlike(1.0), RunConfig()).n_frames

    t = threading.Thread(target=good)
    t.start()
    # a client that sends half its audio and disappears
    with grpc.insecure_channel(s.address) as ch:
        stub = wire.A2FControllerServiceStub(ch)
        stop = threading.Event()

        def gen():
            yield header()
            yield audio(SEC)
            stop.wait(5)

        it = stub.ProcessAudioStream(gen(), timeout=10)
        first = next(it)
        assert first.WhichOneof("stream_part") == "animation_data_stream_header"
        it.cancel()
        stop.set()
    t.join(10)
    assert results["good"] == 31
    deadline = time.monotonic() + 3
    while s.service.active and time.monotonic() < deadline:
        time.sleep(0.05)
    assert s.service.active == 0  # the vanished stream's slot was freed
