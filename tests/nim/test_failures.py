"""Client failure classes against misbehaving servers: deadline, cut stream, no final status, ERROR status."""

from __future__ import annotations

import concurrent.futures as cf

import grpc
import pytest
from nim_helpers import speechlike

from a2f_core.backends import get
from a2f_core.config import RunConfig
from a2f_core.errors import BackendError, ConnectionFailed
from a2f_core.names import NVIDIA_52
from a2f_core.nim import wire


class Broken(wire.A2FControllerServiceServicer):
    """Reads the request, sends a header and ``frames`` frames, then ends as ``how`` says."""

    def __init__(self, how: str, frames: int = 5):
        self.how, self.frames = how, frames

    def ProcessAudioStream(self, request_iterator, context):
        for msg in request_iterator:
            if msg.WhichOneof("stream_part") == "end_of_audio":
                break
        yield wire.AnimationDataStream(
            animation_data_stream_header=wire.AnimationDataStreamHeader(
                skel_animation_header=wire.SkelAnimationHeader(blend_shapes=list(NVIDIA_52))
            )
        )
        for i in range(self.frames):
            ad = wire.AnimationData()
            bw = ad.skel_animation.blend_shape_weights.add()
            bw.time_code = i / 30.0
            bw.values.extend([0.1] * 52)
            yield wire.AnimationDataStream(animation_data=ad)
        if self.how == "abort":
            context.abort(grpc.StatusCode.UNAVAILABLE, "backend node lost")
        elif self.how == "error-status":
            yield wire.AnimationDataStream(status=wire.Status(code=wire.Status.ERROR, message="GPU out of memory"))
        elif self.how == "warning-then-success":
            yield wire.AnimationDataStream(status=wire.Status(code=wire.Status.WARNING, message="late data ignored"))
            yield wire.AnimationDataStream(event=wire.Event())
            yield wire.AnimationDataStream(status=wire.Status(code=wire.Status.SUCCESS))
        # "no-status": just end


@pytest.fixture
def broken():
    servers = []

    def start(how, frames=5):
        srv = grpc.server(cf.ThreadPoolExecutor(4))
        wire.add_A2FControllerServiceServicer_to_server(Broken(how, frames), srv)
        port = srv.add_insecure_port("127.0.0.1:0")
        srv.start()
        servers.append(srv)
        return f"127.0.0.1:{port}"

    yield start
    for s in servers:
        s.stop(0)


def test_stream_cut_mid_way(broken):
    url = broken("abort")
    with pytest.raises(ConnectionFailed, match=r"stream was cut after 5 frames .*partial result was discarded"):
        get("nim", url=url).infer(speechlike(0.5), RunConfig())


def test_stream_without_final_status_is_not_success(broken):
    url = broken("no-status")
    with pytest.raises(ConnectionFailed, match=r"ended after 5 frames without a SUCCESS status"):
        get("nim", url=url).infer(speechlike(0.5), RunConfig())


def test_error_status_from_the_server(broken):
    url = broken("error-status")
    with pytest.raises(BackendError, match=r"server reported an error: GPU out of memory"):
        get("nim", url=url).infer(speechlike(0.5), RunConfig())


def test_warning_status_is_kept_as_a_note(broken):
    url = broken("warning-then-success")
    clip = get("nim", url=url).infer(speechlike(0.5), RunConfig())
    assert clip.n_frames == 5 and clip.meta["notes"] == ["WARNING: late data ignored"]


def test_deadline(serve):
    s = serve(backend_options={"delay": 3.0})
    with pytest.raises(ConnectionFailed, match=r"no complete answer before the deadline"):
        get("nim", url=s.address, timeout=0.5).infer(speechlike(0.5), RunConfig())


def test_backend_bug_gives_error_status_and_server_keeps_serving(serve):
    s = serve(backend="tiny_backend:ExplodingBackend")
    with pytest.raises(BackendError, match=r"internal server error \(ZeroDivisionError: oops\)"):
        get("nim", url=s.address).infer(speechlike(0.5), RunConfig())
    assert get("nim", url=s.address).availability().ok
