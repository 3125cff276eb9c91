"""The ProcessAudioStream client: audio + RunConfig in, a whole Clip (30 fps, emotion tracks) out.

Sequence (as NVIDIA's sample client): header, one-second PCM16 mono chunks (the emotion timeline on the
first), end_of_audio; then read header, animation data, events, status. Any failure raises one A2FError
with a message naming the cause; a partial stream is never returned.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import grpc
import numpy as np

from ..audio import Audio
from ..backends.base import CancelToken, ProgressFn, report
from ..clip import Clip, EmotionTrack
from ..config import RunConfig
from ..errors import A2FError, BackendError, Cancelled, ConnectionFailed
from ..names import EMOTIONS
from . import NIM_FPS, wire
from .channel import Target, host_of

MIN_RATE, MAX_RATE = 16000, 144000


def wire_rate(rate: int) -> int:
    """The rate audio is sent at: the input rate when the NIM accepts it, else 16 kHz (its model rate)."""
    return int(rate) if MIN_RATE <= rate <= MAX_RATE else MIN_RATE


def default_deadline(duration: float) -> float:
    """Seconds allowed for a whole stream: generous for a busy server's queue, finite so nothing hangs."""
    return 60.0 + 5.0 * duration


def request_messages(
    audio: Audio,
    config: RunConfig,
    *,
    chunk_seconds: float = 1.0,
    cancel: CancelToken | None = None,
    on_header: Callable[[], None] | None = None,
    emotion_params: bool = True,
) -> Iterator[wire.AudioStream]:
    """header, PCM16 chunks (timeline on the first), end_of_audio."""
    header = wire.header_from_config(config, audio.rate, emotion_params=emotion_params)
    if on_header:
        on_header()
    yield header
    pcm = audio.pcm16()
    step = max(2, int(round(audio.rate * chunk_seconds)) * 2)
    emotions = wire.timeline_msgs(config.emotion_timeline)
    for off in range(0, len(pcm), step):
        if cancel is not None and cancel.cancelled:
            return  # the reader cancels the call
        msg = wire.AudioWithEmotion(audio_buffer=pcm[off : off + step])
        if off == 0 and emotions:
            msg.emotions.extend(emotions)
        yield wire.AudioStream(audio_with_emotion=msg)
    yield wire.AudioStream(end_of_audio=wire.AudioStream.EndOfAudio())


@dataclass
class StreamResult:
    names: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    frames: list[list[float]] = field(default_factory=list)
    input_emotions: dict[float, dict[str, float]] = field(default_factory=dict)
    output_emotions: dict[float, dict[str, float]] = field(default_factory=dict)
    audio_rate: int = 0
    start_time_code_since_epoch: float = 0.0
    status_code: int | None = None
    status_message: str = ""
    notes: list[str] = field(default_factory=list)  # INFO/WARNING statuses
    event_seen: bool = False
    packets: int = 0  # 1 for the first message + 1 per animation_data (NVIDIA's perf-test count)
    t_sent: float = 0.0  # just before the header was written (time.time())
    t_first: float = 0.0  # first response message
    t_first_frame: float = 0.0  # first animation_data
    t_end: float = 0.0  # end of stream


def explain_rpc_error(err: grpc.RpcError, target: Target, *, frames: int = 0) -> A2FError:
    """One clear message per failure class."""
    code = err.code() if hasattr(err, "code") else None
    details = (err.details() if hasattr(err, "details") else "") or ""
    low = details.lower()
    where = target.describe()
    host = host_of(target.url)
    if code == grpc.StatusCode.CANCELLED and "cancel" in low and "locally" in low:
        return Cancelled("cancelled")
    if code == grpc.StatusCode.UNAUTHENTICATED or code == grpc.StatusCode.PERMISSION_DENIED or "unauthenticated" in low:
        hint = "check the NVCF API key and function id" if target.nvcf else "check the credentials the server expects"
        return ConnectionFailed(f"{where}: the server refused our credentials (unauthenticated: {details}); {hint}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return ConnectionFailed(
            f"{where}: no complete answer before the deadline ({frames} frames received); the server is too slow or "
            "stuck; raise the timeout or check the server"
        )
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return BackendError(f"{where}: the server is busy ({details}); retry later or use fewer parallel jobs")
    if code == grpc.StatusCode.UNAVAILABLE:
        if "dns" in low or "resolution" in low or "resolve" in low or "name or service" in low:
            return ConnectionFailed(f"{where}: cannot resolve host '{host}' (DNS lookup failed); check the URL spelling")
        if "certificate_verify_failed" in low:
            return ConnectionFailed(
                f"{where}: TLS handshake failed: the server's certificate is not trusted by the root certificate "
                f"given ({target.root_cert_path or 'system roots'}); pass the CA that signed it with --root-cert-path"
            )
        if any(s in low for s in ("ssl", "tls", "handshake", "certificate", "x509")):
            return ConnectionFailed(
                f"{where}: TLS handshake failed ({_short(details)}); check --secure-mode and the certificate paths "
                "(root CA for tls; client certificate and key for mtls)"
            )
        if "refused" in low:
            return ConnectionFailed(
                f"{where}: connection refused; is the NIM running and listening on this port? "
                f"(try `a2f health --url {target.url}`)"
            )
        if frames == 0 and "socket closed" in low:
            if target.secure_mode == "disabled":
                return ConnectionFailed(
                    f"{where}: the server closed the connection during set-up; if it uses TLS, connect with "
                    "--secure-mode tls (or mtls) and --root-cert-path"
                )
            return ConnectionFailed(
                f"{where}: TLS handshake failed: the server closed the connection; a server in mTLS mode needs a "
                "client certificate signed by its CA (--client-cert-path, --client-key-path)"
            )
        if frames:
            return ConnectionFailed(
                f"{where}: the stream was cut after {frames} frames ({_short(details)}); the partial result was discarded"
            )
        return ConnectionFailed(f"{where}: server unavailable ({_short(details)})")
    name = code.name if code is not None else "UNKNOWN"
    if frames:
        return ConnectionFailed(
            f"{where}: the stream failed after {frames} frames ({name}: {_short(details)}); "
            "the partial result was discarded"
        )
    return BackendError(f"{where}: the server answered {name}: {_short(details)}")


def _short(details: str, n: int = 300) -> str:
    d = " ".join(details.split())
    return d if len(d) <= n else d[: n - 3] + "..."


def _emotions(entries, into: dict[float, dict[str, float]]) -> None:
    for e in entries:
        into[round(float(e.time_code), 9)] = {k: float(v) for k, v in e.emotion.items()}


def run_stream(
    channel: grpc.Channel,
    target: Target,
    audio: Audio,
    config: RunConfig,
    *,
    timeout: float | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    chunk_seconds: float = 1.0,
) -> StreamResult:
    """One ProcessAudioStream call; raises an A2FError unless the server ended with SUCCESS."""
    rate = wire_rate(audio.rate)
    if rate != audio.rate:
        audio = audio.resampled(rate)
    res = StreamResult()
    deadline = timeout if timeout else default_deadline(audio.duration)
    expected = max(1, int(audio.duration * NIM_FPS))

    def mark_sent() -> None:
        res.t_sent = time.time()

    stub = wire.A2FControllerServiceStub(channel)
    requests = request_messages(audio, config, chunk_seconds=chunk_seconds, cancel=cancel, on_header=mark_sent)
    call = stub.ProcessAudioStream(requests, timeout=deadline, metadata=target.metadata() or None)
    watcher = None
    if cancel is not None:
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.05):
                if cancel.cancelled:
                    call.cancel()
                    return

        watcher = threading.Thread(target=watch, name="a2f-nim-cancel", daemon=True)
        watcher.start()
    try:
        for msg in call:
            kind = msg.WhichOneof("stream_part")
            if res.packets == 0:
                res.t_first = time.time()
                res.packets = 1
            if kind == "animation_data_stream_header":
                h = msg.animation_data_stream_header
                res.names = list(h.skel_animation_header.blend_shapes)
                res.audio_rate = h.audio_header.samples_per_second
                res.start_time_code_since_epoch = h.start_time_code_since_epoch
            elif kind == "animation_data":
                res.packets += 1
                if not res.t_first_frame:
                    res.t_first_frame = time.time()
                ad = msg.animation_data
                for bw in ad.skel_animation.blend_shape_weights:
                    res.times.append(float(bw.time_code))
                    res.frames.append(list(bw.values))
                if wire.EMOTION_AGGREGATE_KEY in ad.metadata:
                    agg = wire.unpack_emotion_aggregate(ad.metadata[wire.EMOTION_AGGREGATE_KEY])
                    if agg is not None:
                        _emotions(agg.input_emotions, res.input_emotions)
                        _emotions(agg.a2f_smoothed_output, res.output_emotions)
                if progress is not None and len(res.times) % 30 == 0:
                    report(progress, 0.1 + 0.9 * min(1.0, len(res.times) / expected), "receiving frames")
            elif kind == "event":
                if msg.event.event_type == wire.END_OF_A2F_AUDIO_PROCESSING:
                    res.event_seen = True
            elif kind == "status":
                st = msg.status
                if st.code == wire.Status.ERROR:
                    call.cancel()
                    raise BackendError(f"{target.describe()}: the server reported an error: {st.message or '(no message)'}")
                if st.code in (wire.Status.INFO, wire.Status.WARNING):
                    res.notes.append(f"{wire.STATUS_NAMES[st.code]}: {st.message}")
                else:
                    res.status_code = st.code
                    res.status_message = st.message
    except grpc.RpcError as e:
        if cancel is not None and cancel.cancelled:
            raise Cancelled("cancelled") from None
        raise explain_rpc_error(e, target, frames=len(res.times)) from None
    finally:
        if watcher is not None:
            stop.set()
    res.t_end = time.time()
    if cancel is not None and cancel.cancelled:
        raise Cancelled("cancelled")
    if res.status_code != wire.Status.SUCCESS:
        raise ConnectionFailed(
            f"{target.describe()}: the stream ended after {len(res.times)} frames without a SUCCESS status; "
            "the partial result was discarded"
        )
    return res


def to_clip(res: StreamResult, target: Target, audio: Audio) -> Clip:
    """The frames as a Clip at the NIM's 30 fps (names from the server header, in its order)."""
    if not res.names:
        raise BackendError(f"{target.describe()}: the server sent no blendshape names in its header")
    if not res.frames:
        raise BackendError(f"{target.describe()}: the server sent no animation frames")
    bad = [i for i, f in enumerate(res.frames) if len(f) != len(res.names)]
    if bad:
        raise BackendError(
            f"{target.describe()}: frame {bad[0]} has {len(res.frames[bad[0]])} values for {len(res.names)} names"
        )
    times = np.asarray(res.times, np.float64)
    weights = np.asarray(res.frames, np.float32)
    order = np.argsort(times, kind="stable")
    meta = {
        "backend": "nim",
        "url": target.url,
        "server_names": list(res.names),
        "audio_rate": res.audio_rate,
        "start_time_code_since_epoch": res.start_time_code_since_epoch,
        "status": res.status_message,
        "notes": list(res.notes),
        "source": audio.source,
        "duration": audio.duration,
        "time_to_first_response": res.t_first - res.t_sent,
        "time_to_first_frame": res.t_first_frame - res.t_sent,
        "stream_seconds": res.t_end - res.t_sent,
    }
    return Clip(
        list(res.names),
        times[order],
        weights[order],
        NIM_FPS,
        input_emotions=_track(res.input_emotions),
        output_emotions=_track(res.output_emotions),
        meta=meta,
    )


def _track(entries: dict[float, dict[str, float]]) -> EmotionTrack | None:
    if not entries:
        return None
    seen = {k for e in entries.values() for k in e}
    names = [n for n in EMOTIONS if n in seen] + sorted(seen - set(EMOTIONS))
    times = sorted(entries)
    values = np.array([[entries[t].get(n, 0.0) for n in names] for t in times], np.float32)
    return EmotionTrack(names, np.asarray(times), values)
