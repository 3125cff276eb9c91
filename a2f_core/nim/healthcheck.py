"""gRPC health check of a NIM (grpc.health.v1, service ""), as NVIDIA's sample client does it."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..errors import A2FError
from . import DEFAULT_URL
from .channel import make_target, open_channel


def health(
    url: str = DEFAULT_URL,
    *,
    secure_mode: str = "disabled",
    root_cert_path: str | None = None,
    client_cert_path: str | None = None,
    client_key_path: str | None = None,
    function_id: str | None = None,
    api_key: str | None = None,
    timeout: float = 5.0,
    service: str = "",
) -> tuple[bool, str]:
    """(True, "... is ONLINE") when the server answers SERVING, else (False, why and what to do). Never raises."""
    try:
        target = make_target(url, secure_mode, root_cert_path, client_cert_path, client_key_path, function_id, api_key)
    except A2FError as e:
        return False, str(e)
    try:
        channel = open_channel(target)
    except A2FError as e:
        return False, str(e)
    try:
        return check_channel(channel, target, timeout=timeout, service=service)
    finally:
        channel.close()


def check_channel(channel, target, *, timeout: float = 5.0, service: str = "") -> tuple[bool, str]:
    """The health check over an open channel (the nim backend uses its own, which also warms it up)."""
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        resp = stub.Check(
            health_pb2.HealthCheckRequest(service=service), timeout=timeout, metadata=target.metadata() or None
        )
    except grpc.RpcError as e:
        from .client import explain_rpc_error

        err = explain_rpc_error(e, target)
        if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            return False, f"{target.describe()}: no answer within {timeout:g} s; check the URL and that the server runs"
        return False, str(err)
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
    if resp.status == health_pb2.HealthCheckResponse.SERVING:
        return True, f"Service {target.url} is ONLINE"
    if resp.status == health_pb2.HealthCheckResponse.NOT_SERVING:
        return False, (
            f"Service {target.url} answered NOT_SERVING: every stream slot is in use or it is shutting down; retry later"
        )
    return False, f"Service {target.url} answered {status}; it is not ready to serve"
