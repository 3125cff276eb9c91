"""The backend interface: audio + RunConfig in, Clip (with emotion tracks) out.

Callers ask the registry (backends/__init__.py) for a backend by name and never import one
directly, so adding a backend changes no caller.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Protocol, runtime_checkable

from ..audio import Audio
from ..clip import Clip
from ..config import RunConfig
from ..errors import Cancelled

# progress(fraction 0..1, short message)
ProgressFn = Callable[[float, str], None]


@dataclass(frozen=True)
class Capabilities:
    label: str  # shown in the UI, e.g. "Bundled CPU"
    description: str
    needs_network: bool = False
    accepts_transcript: bool = False
    # infer() may run in several threads at once on one instance (else a Runner makes them take turns)
    parallel: bool = False
    # the face (FACE_PARAM_RANGES) and post-processing (POST_PROCESSING_RANGES) parameters it applies; None = all
    parameters: frozenset[str] | None = None


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str = ""  # why not, and what to do (shown to users)


class CancelToken:
    """Thread-safe cancellation flag handed to a backend."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled")


@runtime_checkable
class Backend(Protocol):
    name: str
    capabilities: Capabilities

    def availability(self) -> Availability:
        """Whether this backend can run here, and why not."""
        ...

    def infer(
        self,
        audio: Audio,
        config: RunConfig,
        *,
        transcript: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Clip:
        """The whole clip, or an A2FError. Never a partial result."""
        ...


def report(progress: ProgressFn | None, fraction: float, message: str = "") -> None:
    if progress is not None:
        progress(max(0.0, min(1.0, fraction)), message)
