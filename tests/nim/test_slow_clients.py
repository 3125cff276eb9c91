"""Slow, stalled and greedy clients (issue #13): a per-stream receive deadline, a minimum audio rate and
a cut for clients that stop reading free the slots; health says NOT_SERVING while every slot is taken."""

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
from a2f_core.nim.healthcheck import health

SEC = 32000  # bytes in one second of 16 kHz 16-bit mono


def paced(chunk_bytes: int, every: float, seconds: float, end: bool = True):
    """A header, then ``chunk_bytes`` of audio every ``every`` s for ``seconds`` s (then end_of_audio)."""
    yield header()
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        yield audio(chunk_bytes)
        time.sleep(every)
    if end:
        yield eoa()


def assert_error(out, err, pattern):
    import re

    assert err is None, err
    st = final_status(out)
    assert st is not None and st.code == wire.Status.ERROR, kinds(out)
    assert re.search(pattern, st.message), st.message


def test_trickling_client_is_cut_by_the_minimum_rate(serve):
    s = serve(min_audio_rate=0.5, rate_grace=0.5)
    t0 = time.monotonic()
    out, err = call(s.address, paced(2, 0.1, 10.0))  # 2 bytes every 0.1 s: never idle, hopelessly slow
    assert_error(out, err, r"audio arrives too slowly: 0.00 s of audio in \d+ s, below the server's "
                           r"--min-audio-rate of 0.5 s of audio per second; send it at least in real time")
    assert time.monotonic() - t0 < 3


def test_client_paced_in_real_time_is_served(serve):
    s = serve(min_audio_rate=0.5, rate_grace=0.3)
    out, err = call(s.address, paced(SEC // 10, 0.1, 1.5))  # 0.1 s of audio every 0.1 s
    assert err is None and final_status(out).code == wire.Status.SUCCESS


def test_receive_deadline_ends_a_stream_that_never_finishes(serve):
    s = serve(receive_timeout=1.0, min_audio_rate=0.0)
    t0 = time.monotonic()
    out, err = call(s.address, paced(SEC // 10, 0.2, 10.0))  # 0.5x real time, never idle, never ends in time
    assert_error(out, err, r"the audio was not complete 1 s after the stream started \(the server's --receive-timeout")
    assert time.monotonic() - t0 < 3


def test_slow_clients_fill_the_slots_then_are_cut(serve):
    """Two trickling clients take both slots: health NOT_SERVING, a third stream is refused with a clear
    RESOURCE_EXHAUSTED; once the minimum rate cuts them, health is SERVING and streams are served."""
    s = serve(max_streams=2, min_audio_rate=0.5, rate_grace=1.5)
    ok, msg = health(s.address)
    assert ok, msg
    results: list = []
    slow = [threading.Thread(target=lambda: results.append(call(s.address, paced(2, 0.2, 10.0))))
            for _ in range(2)]
    for t in slow:
        t.start()
    deadline = time.monotonic() + 3
    while s.service.active < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    ok, msg = health(s.address)
    assert not ok and "NOT_SERVING: every stream slot is in use" in msg
    out, err = call(s.address, [header(), audio(SEC), eoa()])
    assert err is not None and err.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "all 2 streams are busy" in err.details()
    for t in slow:
        t.join(10)
    assert [final_status(o).message.startswith("audio arrives too slowly") for o, _ in results] == [True, True]
    ok, msg = health(s.address)
    assert ok, msg
    assert get("nim", url=s.address).infer(speechlike(0.5), RunConfig()).n_frames == 16


@pytest.mark.parametrize("rate", [144000])
def test_client_that_stops_reading_is_cut(serve, rate):
    """A client that sends a long clip and never reads the answer holds a slot until the idle timeout."""
    s = serve(idle_timeout=0.6, min_audio_rate=0.0)
    h = header(rate=rate)
    ten = audio(10 * rate * 2)
    with grpc.insecure_channel(s.address) as ch:
        stub = wire.A2FControllerServiceStub(ch)
        call_ = stub.ProcessAudioStream(iter([h] + [ten] * 6 + [eoa()]), timeout=30)  # 60 s, ~17 MB of answers
        deadline = time.monotonic() + 10
        while s.service.active < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert s.service.active == 1
        while s.service.active and time.monotonic() < deadline:
            time.sleep(0.05)
        assert s.service.active == 0  # cut, slot freed, although we never read
        call_.cancel()
    assert get("nim", url=s.address).infer(speechlike(0.5), RunConfig()).n_frames == 16
