"""NVIDIA Audio2Face-3D NIM protocol: client, health check, NIM-compatible server, perf test.

Kept light: importing this package loads no gRPC code; the submodules do.
"""

from __future__ import annotations

DEFAULT_URL = "127.0.0.1:52000"
NVCF_URL = "grpc.nvcf.nvidia.com:443"
SERVICE_NAME = "nvidia_ace.services.a2f_controller.v1.A2FControllerService"
SECURE_MODES = ("disabled", "tls", "mtls")
NIM_FPS = 30.0


def health(url: str = DEFAULT_URL, **kwargs) -> tuple[bool, str]:
    """(online, message) for the server at ``url``; never raises. Options: see :func:`.healthcheck.health`.

    (The implementation lives in ``healthcheck.py``: a submodule named ``health`` would replace this
    function as the package attribute once imported.)"""
    from .healthcheck import health as _health

    return _health(url, **kwargs)


__all__ = ["DEFAULT_URL", "NVCF_URL", "SERVICE_NAME", "SECURE_MODES", "NIM_FPS", "health"]
