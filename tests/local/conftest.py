"""Shared fixtures for the bundled CPU backend tests: real pocketsphinx on real espeak-ng speech.

Clips are computed once per session (decoding is the slow part) and shared by the tests.
"""

from __future__ import annotations

import pytest
from local_helpers import NAMES, Fixture

from a2f_core.backends.local import LocalBackend
from a2f_core.config import RunConfig

_CLIPS: dict[tuple[str, bool], object] = {}



@pytest.fixture(scope="session")
def backend() -> LocalBackend:
    return LocalBackend(workers=1)


@pytest.fixture(scope="session")
def fixtures() -> dict[str, Fixture]:
    return {n: Fixture(n) for n in NAMES}


@pytest.fixture(scope="session")
def clip_of(backend, fixtures):
    """clip_of(name, with_transcript) -> Clip with the default RunConfig (cached)."""

    def get(name: str, with_transcript: bool = True):
        key = (name, with_transcript)
        if key not in _CLIPS:
            f = fixtures[name]
            _CLIPS[key] = backend.infer(f.audio, RunConfig(), transcript=f.transcript if with_transcript else None)
        return _CLIPS[key]

    return get
