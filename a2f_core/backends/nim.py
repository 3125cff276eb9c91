"""The `nim` backend: NVIDIA Audio2Face-3D NIM (self-hosted, NVCF, or `a2f serve`) over gRPC.

One instance is safe to use from many threads at once: they share one channel, and a target naming
several servers spreads the streams with gRPC's round_robin policy.
"""

from __future__ import annotations

import threading
from typing import Any

from ..audio import Audio
from ..clip import Clip
from ..config import RunConfig
from ..nim import DEFAULT_URL
from .base import Availability, CancelToken, Capabilities, ProgressFn, report


class NimBackend:
    name = "nim"
    capabilities = Capabilities(
        label="NVIDIA A2F-3D NIM",
        description="NVIDIA Audio2Face-3D NIM over gRPC (self-hosted GPU server, NVIDIA cloud, or `a2f serve`)",
        needs_network=True,
        accepts_transcript=False,
        parallel=True,  # one channel; gRPC round robin spreads parallel streams over a fleet
    )

    def __init__(
        self,
        url: str = DEFAULT_URL,
        secure_mode: str = "disabled",
        root_cert_path: str | None = None,
        client_cert_path: str | None = None,
        client_key_path: str | None = None,
        function_id: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        health_timeout: float = 3.0,
        chunk_seconds: float = 1.0,
        **_ignored: Any,
    ):
        from ..nim.channel import make_target

        # Raises ConfigError for bad options (unknown mode, mtls without a client cert, NVCF without a key).
        self.target = make_target(url, secure_mode, root_cert_path, client_cert_path, client_key_path, function_id, api_key)
        self.timeout = timeout
        self.health_timeout = health_timeout
        self.chunk_seconds = chunk_seconds
        self._lock = threading.Lock()
        self._channel: Any = None

    def __repr__(self) -> str:
        return f"NimBackend({self.target.describe()})"

    def _get_channel(self):
        with self._lock:
            if self._channel is None:
                from ..nim.channel import open_channel

                self._channel = open_channel(self.target)
            return self._channel

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
                self._channel = None

    def availability(self) -> Availability:
        """A health check over the backend's own channel: it also connects that channel to every
        address of a fleet URL before the first stream, so round robin has them all to pick from."""
        from ..errors import A2FError
        from ..nim.healthcheck import check_channel

        try:
            channel = self._get_channel()
        except A2FError as e:
            return Availability(False, str(e))
        ok, msg = check_channel(channel, self.target, timeout=self.health_timeout)
        return Availability(ok, "" if ok else msg)

    def infer(
        self,
        audio: Audio,
        config: RunConfig,
        *,
        transcript: str | None = None,
        progress: ProgressFn | None = None,
        cancel: CancelToken | None = None,
    ) -> Clip:
        from ..nim.client import run_stream, to_clip

        if cancel is not None:
            cancel.check()
        report(progress, 0.0, f"streaming to {self.target.url}")
        res = run_stream(
            self._get_channel(),
            self.target,
            audio,
            config,
            timeout=self.timeout,
            progress=progress,
            cancel=cancel,
            chunk_seconds=self.chunk_seconds,
        )
        clip = to_clip(res, self.target, audio)
        report(progress, 1.0, "done")
        return clip
