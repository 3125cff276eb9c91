"""Many streams at once: all correct, the N+1th rejected cleanly, round robin over two servers."""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time

import numpy as np
import pytest
from nim_helpers import speechlike
from tiny_backend import TinyBackend

from a2f_core.audio import from_pcm16
from a2f_core.backends import get
from a2f_core.config import RunConfig
from a2f_core.errors import BackendError


def test_ten_concurrent_streams_all_correct(serve):
    s = serve(max_streams=10, backend_options={"delay": 0.3})
    nim = get("nim", url=s.address)  # one backend instance shared by 10 threads
    audios = [speechlike(0.5 + 0.1 * i, seed=i) for i in range(10)]
    peak = []

    def watch():
        while len(peak) < 200 and not done.is_set():
            peak.append(s.service.active)
            time.sleep(0.01)

    done = threading.Event()
    w = threading.Thread(target=watch)
    w.start()
    with cf.ThreadPoolExecutor(10) as pool:
        clips = list(pool.map(lambda a: nim.infer(a, RunConfig()), audios))
    done.set()
    w.join()
    assert max(peak) >= 5  # they really overlapped
    for a, c in zip(audios, clips):
        direct = TinyBackend().infer(from_pcm16(a.pcm16(), a.rate), RunConfig()).resample(30.0, duration=a.duration)
        assert c.n_frames == direct.n_frames
        np.testing.assert_allclose(c.weights, direct.weights, atol=1e-6)  # no cross-talk between streams
    assert s.service.served == 10


@pytest.mark.parametrize("workers", [0, 1])
def test_busy_server_switches_to_the_busy_options(serve, workers):
    """With busy options (`a2f serve --quality auto`), a stream whose audio is complete while more streams
    want a worker than there are workers gets the cheaper options; a lone stream gets the normal ones, and
    open streams count only when their audio arrives faster than real time."""
    import rawclient

    s = serve(workers=workers, backend_options={"delay": 0.4}, busy_backend_options={"cheek": 1.0})
    nim = get("nim", url=s.address)

    def cheek(clip) -> float:
        return float(clip.channel("cheekPuff").mean())

    assert cheek(nim.infer(speechlike(0.5), RunConfig())) == 0.0  # alone: normal options
    hold = threading.Event()
    sending = [threading.Thread(target=rawclient.call, args=(s.address, [rawclient.header(), rawclient.audio(3200)]),
                                kwargs={"hold": hold}) for _ in range(3)]
    for t in sending:
        t.start()
    deadline = time.monotonic() + 5
    while s.service.active < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert s.service.active == 3  # three streams open, sending no faster than real time
    assert cheek(nim.infer(speechlike(0.5), RunConfig())) == 0.0  # nobody else wants a worker: normal options
    hold.set()
    for t in sending:
        t.join()
    hold = threading.Event()  # one open stream already 3 s ahead of real time will want the only worker
    ahead = threading.Thread(target=rawclient.call, args=(s.address, [rawclient.header(), rawclient.audio(96000)]),
                             kwargs={"hold": hold})
    ahead.start()
    deadline = time.monotonic() + 5
    while s.service.active < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert cheek(nim.infer(speechlike(0.5), RunConfig())) == pytest.approx(1.0)
    hold.set()
    ahead.join()
    with cf.ThreadPoolExecutor(3) as pool:
        clips = list(pool.map(lambda i: nim.infer(speechlike(0.5, seed=i), RunConfig()), range(3)))
    assert sorted(cheek(c) for c in clips)[-1] == pytest.approx(1.0)  # the burst: busy options
    assert cheek(nim.infer(speechlike(0.5), RunConfig())) == 0.0  # quiet again


def test_serve_quality_auto_means_best_then_fast():
    from a2f_core.cli.serve import local_options

    assert local_options("auto", 2, busy=False) == {"quality": "best", "workers": 1}
    assert local_options("auto", 2, busy=True) == {"quality": "fast", "workers": 1}
    assert local_options("best", 0, busy=False) == {"quality": "best"}


def test_stream_over_the_limit_is_rejected_cleanly(serve):
    s = serve(max_streams=2, backend_options={"delay": 1.0})
    nim = get("nim", url=s.address)
    with cf.ThreadPoolExecutor(2) as pool:
        busy = [pool.submit(nim.infer, speechlike(0.5, seed=i), RunConfig()) for i in range(2)]
        deadline = time.monotonic() + 5
        while s.service.active < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        with pytest.raises(BackendError, match=r"server is busy .*all 2 streams are busy"):
            nim.infer(speechlike(0.5), RunConfig())
        assert all(f.result().n_frames == 16 for f in busy)
    assert nim.infer(speechlike(0.5), RunConfig()).n_frames == 16  # served again once a slot is free


def test_round_robin_over_two_servers_uses_both(serve):
    a, b = serve(), serve()
    nim = get("nim", url=f"ipv4:127.0.0.1:{a.port},127.0.0.1:{b.port}")
    assert nim.availability().ok
    for i in range(8):
        assert nim.infer(speechlike(0.3, seed=i), RunConfig()).n_frames == 10
    assert a.service.served >= 2 and b.service.served >= 2
    assert a.service.served + b.service.served == 8


@pytest.mark.parametrize("style", ["plain-ips", "plain-names"])
def test_plain_server_list_is_balanced_too(serve, style):
    a, b = serve(), serve()
    host = "127.0.0.1" if style == "plain-ips" else "localhost"
    nim = get("nim", url=f"{host}:{a.port},{host}:{b.port}")
    for i in range(6):
        assert nim.infer(speechlike(0.3, seed=i), RunConfig()).n_frames == 10
    assert a.service.served >= 1 and b.service.served >= 1


def test_server_list_with_bad_entries():
    from a2f_core.errors import ConfigError, ConnectionFailed

    with pytest.raises(ConfigError, match="'nope' is not HOST:PORT"):
        get("nim", url="127.0.0.1:5,nope").infer(speechlike(0.2), RunConfig())
    with pytest.raises(ConnectionFailed, match="cannot resolve host 'no-such-host.invalid'"):
        get("nim", url="127.0.0.1:5,no-such-host.invalid:52000").infer(speechlike(0.2), RunConfig())
