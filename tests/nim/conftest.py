"""Fixtures for the NIM tests: real gRPC servers (`a2f serve` in-process) on ephemeral loopback ports."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GRPC_VERBOSITY", "NONE")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # tiny_backend, certs, helpers (also for spawned worker processes)

from nim_helpers import TINY, speechlike  # noqa: E402,F401

from a2f_core.nim.server import NimServer, ServeOptions  # noqa: E402


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
