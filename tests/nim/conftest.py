"""Fixtures for the NIM tests: real gRPC servers (`a2f serve` in-process) on ephemeral loopback ports."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("GRPC_VERBOSITY", "NONE")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # tiny_backend, certs, helpers (also for spawned worker processes)

from a2f_core.audio import Audio  # noqa: E402
from a2f_core.nim.server import NimServer, ServeOptions  # noqa: E402

TINY = "tiny_backend:TinyBackend"


def speechlike(seconds: float = 2.0, rate: int = 16000, seed: int = 1) -> Audio:
    """Syllable-like bursts of a harmonic tone with pauses (deterministic)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    voice = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 6))
    gate = (np.sin(2 * np.pi * 3.0 * t) > -0.2).astype(np.float64)
    x = 0.3 * voice * gate + 0.003 * rng.standard_normal(len(t))
    return Audio(x.astype(np.float32), rate, source=f"speechlike{seconds:g}s")


@pytest.fixture
def serve():
    """serve(**ServeOptions overrides) -> a started NimServer on 127.0.0.1:<free port>; stopped after the test."""
    servers: list[NimServer] = []

    def start(**kw) -> NimServer:
        kw.setdefault("backend", TINY)
        kw.setdefault("port", 0)
        s = NimServer(ServeOptions(**kw)).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop(0.2)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    from certs import make_pki

    return make_pki(tmp_path_factory.mktemp("pki"))
