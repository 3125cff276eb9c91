"""`a2f serve`: our backends behind the A2F-3D NIM protocol (ProcessAudioStream + grpc.health.v1).

Per stream: validate the header (PCM, mono, 16-bit, 16-144 kHz) and answer with the animation header at
once; collect the audio (<= 10 s per buffer, <= 300 s per clip, idle timeout) and the time-coded emotions
until end_of_audio; run the backend with the request's parameters; stream one animation_data per 30 fps
frame with its audio slice and an emotion_aggregate where emotion values fall; then the
END_OF_A2F_AUDIO_PROCESSING event and a SUCCESS status. Input-limit violations end with an ERROR status;
a stream over the --max-streams limit is rejected with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib
import itertools
import logging
import multiprocessing
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import grpc
import numpy as np
from grpc_health.v1 import health as grpc_health
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..audio import Audio, from_pcm16
from ..backends.base import CancelToken
from ..clip import Clip, EmotionTrack, frame_count
from ..config import FACE_PARAM_RANGES, POST_PROCESSING_RANGES, EmotionKey, RunConfig
from ..errors import A2FError, BackendError, ConfigError
from ..names import NVIDIA_52, NVIDIA_TONGUE_16
from . import NIM_FPS, SERVICE_NAME, wire

log = logging.getLogger("a2f.serve")


@dataclass
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 52000  # 0 = pick a free port
    backend: str = "local"  # registry name or "module:Class"
    backend_options: dict = field(default_factory=dict)
    # Options for a stream whose audio is complete while more streams want a worker than there are
    # (``workers``, or 1 in-thread), e.g. the bundled backend's quality="fast": under load the server
    # answers with cheaper curves instead of queueing. None = always backend_options.
    busy_backend_options: dict | None = None
    max_streams: int = 10
    workers: int = 0  # backend processes; 0 = run the backend in the stream's thread
    secure_mode: str = "disabled"
    cert: str | None = None
    key: str | None = None
    ca: str | None = None
    idle_timeout: float = 30.0  # s without a message before a stream is ended (NIM max_wait_time_idle_ms)
    max_buffer_seconds: float = 10.0
    max_clip_seconds: float = 300.0
    min_rate: int = 16000
    max_rate: int = 144000
    tongue: bool = False  # also send the 16 tongue channels (NIM 2.0 style)
    # Clips longer than this are cut at pauses into pieces of about this length; each piece's frames are
    # streamed as soon as it is done (pieces run in parallel on the worker processes). 0 = whole clip.
    segment_seconds: float = 20.0
    interceptors: list = field(default_factory=list)  # grpc.ServerInterceptor (e.g. an auth check)
    base_config: RunConfig = field(default_factory=RunConfig)


AHEAD_SECONDS = 1.0  # an open stream this far ahead of real time will soon want a worker (see _busy)


class StreamError(Exception):
    """A request that breaks the protocol or the limits: ends the stream with an ERROR status."""


# --- backend execution (in-thread or in worker processes) -----------------------------------------
_WORKER_BACKEND: Any = None
_WORKER_BUSY: Any = None


def load_backend(spec: str, options: dict | None = None):
    if ":" in spec:
        mod, cls = spec.split(":", 1)
        return getattr(importlib.import_module(mod), cls)(**(options or {}))
    from .. import backends

    return backends.get(spec, **(options or {}))


def _check_spec(spec: str) -> None:
    """Import the backend class in this process so a bad name fails with a clear message."""
    if ":" in spec:
        mod, cls = spec.split(":", 1)
        try:
            getattr(importlib.import_module(mod), cls)
        except (ImportError, AttributeError) as e:
            raise BackendError(f"backend '{spec}' cannot load: {e}") from None
    else:
        from .. import backends

        backends.backend_class(spec)


def _worker_init(spec: str, options: dict, busy_options: dict | None = None) -> None:
    global _WORKER_BACKEND, _WORKER_BUSY
    _WORKER_BACKEND = load_backend(spec, options)
    _WORKER_BUSY = None if busy_options is None else load_backend(spec, busy_options)


def _worker_infer(audio: Audio, config: RunConfig, busy: bool = False) -> Clip:
    return (_WORKER_BUSY if busy and _WORKER_BUSY is not None else _WORKER_BACKEND).infer(audio, config)


class Runner:
    """Runs backend.infer for a stream: in the caller's thread, or in a pool of spawned processes."""

    def __init__(self, opts: ServeOptions):
        self.opts = opts
        self.backend: Any = None
        self.busy_backend: Any = None
        self.capacity = max(1, opts.workers)  # inferences that run at once
        self.in_flight = 0  # inferences submitted and not finished
        self._flight_lock = threading.Lock()
        self.pool: cf.ProcessPoolExecutor | None = None
        # In-thread backends run one at a time unless they say they are thread-safe (the bundled one
        # shares one speech decoder per process); use worker processes for parallel streams.
        self._lock: threading.Lock | None = None
        _check_spec(opts.backend)
        if opts.workers > 0:
            ctx = multiprocessing.get_context("spawn")  # never fork a process that runs gRPC threads
            self.pool = cf.ProcessPoolExecutor(
                opts.workers, mp_context=ctx, initializer=_worker_init,
                initargs=(opts.backend, opts.backend_options, opts.busy_backend_options),
            )
            # start the workers now (imports, decoder start-up) rather than on the first request
            try:
                list(self.pool.map(_noop, range(opts.workers)))
            except cf.process.BrokenProcessPool:
                self.pool.shutdown(wait=False, cancel_futures=True)
                raise BackendError(
                    f"backend '{opts.backend}' failed to start in a worker process; try --workers 0 to see why"
                ) from None
        else:
            self.backend = load_backend(opts.backend, opts.backend_options)
            if opts.busy_backend_options is not None:
                self.busy_backend = load_backend(opts.backend, opts.busy_backend_options)
            if not self.backend.capabilities.parallel:
                self._lock = threading.Lock()

    def _flight(self, n: int, _fut: Any = None) -> None:
        with self._flight_lock:
            self.in_flight += n

    def _submit(self, audio: Audio, config: RunConfig, busy: bool) -> cf.Future:
        assert self.pool is not None
        fut = self.pool.submit(_worker_infer, audio, config, busy)
        self._flight(1)
        fut.add_done_callback(lambda f: self._flight(-1))
        return fut

    def infer(self, audio: Audio, config: RunConfig, cancel: CancelToken, busy: bool = False) -> Clip:
        if self.pool is None:
            backend = self.busy_backend if busy and self.busy_backend is not None else self.backend
            self._flight(1)
            try:
                if self._lock is None:
                    return backend.infer(audio, config, cancel=cancel)
                while not self._lock.acquire(timeout=0.1):
                    cancel.check()
                try:
                    return backend.infer(audio, config, cancel=cancel)
                finally:
                    self._lock.release()
            finally:
                self._flight(-1)
        fut = self._submit(audio, config, busy)
        while True:
            try:
                return fut.result(timeout=0.1)
            except cf.TimeoutError:
                if cancel.cancelled:
                    fut.cancel()
                    cancel.check()

    def run_ordered(
        self, jobs: list[tuple[Audio, RunConfig]], cancel: CancelToken, busy: bool = False
    ) -> Iterator[Clip]:
        """Clips for ``jobs`` in order; with worker processes all jobs run at once, each yielded when done.
        ``busy``: run them with the busy backend options (when the server has them)."""
        if self.pool is None:
            for audio, config in jobs:
                yield self.infer(audio, config, cancel, busy)
            return
        futs = [self._submit(a, c, busy) for a, c in jobs]
        try:
            for fut in futs:
                while True:
                    try:
                        yield fut.result(timeout=0.1)
                        break
                    except cf.TimeoutError:
                        cancel.check()
        finally:
            for fut in futs:
                fut.cancel()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _noop(_: int) -> None:
    return None


# --- the service -------------------------------------------------------------------------------------
class A2FService(wire.A2FControllerServiceServicer):
    def __init__(self, opts: ServeOptions, runner: Runner):
        self.opts = opts
        self.runner = runner
        self.names = list(NVIDIA_52) + (list(NVIDIA_TONGUE_16) if opts.tongue else [])
        self._slots = threading.BoundedSemaphore(opts.max_streams)
        self._ids = itertools.count(1)
        self.served = 0
        self._open: dict[int, dict[str, Any]] = {}  # open streams' stats
        self._lock = threading.Lock()

    def ProcessAudioStream(self, request_iterator, context):
        sid = next(self._ids)
        if not self._slots.acquire(blocking=False):
            log.info("stream %d %s: rejected, all %d streams busy", sid, context.peer(), self.opts.max_streams)
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"all {self.opts.max_streams} streams are busy; retry later or start the server with more --max-streams",
            )
        stats: dict[str, Any] = {"t0": time.monotonic(), "outcome": "?", "audio_s": 0.0, "frames": 0, "rate": 0,
                                 "mode": "", "received": 0.0, "submitted": False}
        with self._lock:
            self._open[sid] = stats
        try:
            yield from self._stream(request_iterator, context, stats)
        finally:
            with self._lock:
                self.served += 1
                del self._open[sid]
            self._slots.release()
            log.info(
                "stream %d %s: %s%s; %.2f s audio at %d Hz, %d frames, %.2f s",
                sid,
                context.peer(),
                stats["outcome"],
                stats["mode"],
                stats["audio_s"],
                stats["rate"],
                stats["frames"],
                time.monotonic() - stats["t0"],
            )

    @property
    def active(self) -> int:
        """Streams open now."""
        return len(self._open)

    def _busy(self, stats: dict[str, Any]) -> tuple[bool, int]:
        """Whether this stream should get the busy options: the streams that want a worker now (running
        inferences, this one, and open streams whose audio arrives faster than real time, i.e. will want
        one within a second) outnumber the workers. A stream paced in real time does not count."""
        now = time.monotonic()
        with self._lock:
            stats["submitted"] = True
            coming = sum(
                1 for st in self._open.values()
                if not st["submitted"] and st["received"] - (now - st["t0"]) > AHEAD_SECONDS
            )
            load = self.runner.in_flight + 1 + coming
        return self.opts.busy_backend_options is not None and load > self.runner.capacity, load

    # one stream -----------------------------------------------------------------------------------
    def _stream(self, request_iterator, context, stats) -> Iterator[wire.AnimationDataStream]:
        o = self.opts
        q: queue.Queue = queue.Queue()
        threading.Thread(target=_read_all, args=(request_iterator, q), name="a2f-serve-reader", daemon=True).start()
        gone = CancelToken()
        context.add_callback(gone.cancel)

        def next_msg():
            limit = time.monotonic() + o.idle_timeout
            while True:
                if gone.cancelled:
                    return "gone", None
                try:
                    return q.get(timeout=max(0.0, min(0.1, limit - time.monotonic())))
                except queue.Empty:
                    if time.monotonic() >= limit:
                        return "idle", None

        def error(msg: str) -> wire.AnimationDataStream:
            stats["outcome"] = f"ERROR {msg}"
            return wire.AnimationDataStream(status=wire.Status(code=wire.Status.ERROR, message=msg))

        try:
            kind, msg = next_msg()
            if kind != "msg":
                stats["outcome"] = f"ended before a header ({kind})"
                if kind == "eof" or kind == "idle":
                    yield error(_ended_msg(kind, o.idle_timeout, "audio_stream_header"))
                return
            part = msg.WhichOneof("stream_part")
            if part != "audio_stream_header":
                raise StreamError(f"the first message must be audio_stream_header, got {part or 'an empty message'}")
            header = msg.audio_stream_header
            rate = self._check_audio_header(header)
            stats["rate"] = rate
            config = wire.config_from_header(header, o.base_config)
            _check_ranges(header)
            yield wire.AnimationDataStream(
                animation_data_stream_header=wire.AnimationDataStreamHeader(
                    audio_header=wire.audio_header(rate),
                    skel_animation_header=wire.SkelAnimationHeader(blend_shapes=self.names),
                    start_time_code_since_epoch=time.time(),
                )
            )
            chunks: list[bytes] = []
            emotions: list[wire.EmotionWithTimeCode] = []
            total = 0
            max_buf = int(round(o.max_buffer_seconds * rate)) * 2
            max_total = int(round(o.max_clip_seconds * rate)) * 2
            while True:
                kind, msg = next_msg()
                if kind == "gone":
                    stats["outcome"] = "client went away"
                    return
                if kind != "msg":
                    raise StreamError(_ended_msg(kind, o.idle_timeout, "end_of_audio"))
                part = msg.WhichOneof("stream_part")
                if part == "end_of_audio":
                    break
                if part == "audio_stream_header":
                    raise StreamError("a second audio_stream_header arrived; send one header per stream")
                if part != "audio_with_emotion":
                    raise StreamError("empty message in the audio stream")
                buf = msg.audio_with_emotion.audio_buffer
                if len(buf) % 2:
                    raise StreamError(f"audio buffer of {len(buf)} bytes is not whole 16-bit samples")
                if len(buf) > max_buf:
                    raise StreamError(
                        f"audio buffer of {len(buf) / 2 / rate:.2f} s exceeds the {o.max_buffer_seconds:g} s "
                        "per-message limit; send the audio in smaller chunks (1 s is usual)"
                    )
                total += len(buf)
                stats["received"] = total / 2 / rate
                if total > max_total:
                    raise StreamError(
                        f"audio clip longer than {o.max_clip_seconds:g} s (the per-clip limit); split the audio"
                    )
                chunks.append(buf)
                emotions.extend(msg.audio_with_emotion.emotions)
            if total == 0:
                raise StreamError("no audio arrived before end_of_audio")
            raw = b"".join(chunks)
            audio = from_pcm16(raw, rate, source="stream")
            stats["audio_s"] = audio.duration
            if emotions:
                config.emotion_timeline = [
                    EmotionKey(float(e.time_code), {k: float(v) for k, v in e.emotion.items()})
                    for e in sorted(emotions, key=lambda e: e.time_code)
                ]
            cuts = plan_segments(audio, o.segment_seconds)
            if len(cuts) == 2:
                jobs = [(audio, config)]
            else:
                jobs = [(audio.slice(a, b), _segment_config(config, a, b)) for a, b in zip(cuts, cuts[1:])]
            n_total = frame_count(audio.duration, NIM_FPS)
            busy, load = self._busy(stats)
            if busy:
                stats["mode"] = f", busy ({load} streams want the {self.runner.capacity} worker(s))"
            results = self.runner.run_ordered(jobs, gone, busy)
            for k, (a, b) in enumerate(zip(cuts, cuts[1:])):
                try:
                    clip = next(results)
                except A2FError as e:
                    if gone.cancelled:
                        stats["outcome"] = "client went away"
                        return
                    raise StreamError(f"inference failed: {e}") from None
                last = k == len(cuts) - 2
                first_i = int(np.ceil(a * NIM_FPS - 1e-6))
                end_i = n_total if last else int(np.ceil(b * NIM_FPS - 1e-6))
                for fr in self._frames(clip, a, range(first_i, end_i), raw, audio.rate, emotions, last):
                    if gone.cancelled:
                        stats["outcome"] = "client went away"
                        return
                    yield fr
                    stats["frames"] += 1
            yield wire.AnimationDataStream(event=wire.Event(event_type=wire.END_OF_A2F_AUDIO_PROCESSING))
            stats["outcome"] = "SUCCESS"
            yield wire.AnimationDataStream(status=wire.Status(code=wire.Status.SUCCESS, message="sent all data"))
        except StreamError as e:
            yield error(str(e))
        except Exception as e:  # a bug in a backend: tell the client, keep serving
            log.exception("stream failed")
            yield error(f"internal server error ({type(e).__name__}: {e}); see the server log")

    def _check_audio_header(self, header) -> int:
        o = self.opts
        if not header.HasField("audio_header"):
            raise StreamError("the audio_stream_header has no audio_header (format, channels, rate, bits)")
        ah = header.audio_header
        if ah.audio_format != wire.AudioHeader.AUDIO_FORMAT_PCM:
            raise StreamError(f"audio_format {ah.audio_format} is not supported; send PCM")
        if ah.channel_count != 1:
            raise StreamError(f"{ah.channel_count} audio channels; only mono (channel_count 1) is accepted")
        if ah.bits_per_sample != 16:
            raise StreamError(f"{ah.bits_per_sample} bits per sample; only 16-bit PCM is accepted")
        rate = int(ah.samples_per_second)
        if not o.min_rate <= rate <= o.max_rate:
            raise StreamError(
                f"sample rate {rate} Hz is outside the accepted {o.min_rate}-{o.max_rate} Hz; resample the audio"
            )
        return rate

    def _frames(
        self, clip: Clip, start: float, frames: range, pcm: bytes, rate: int, emotions, last: bool
    ) -> list[wire.AnimationDataStream]:
        """Messages for global 30 fps frames ``frames`` from one piece's clip (which starts at ``start`` s):
        weights in header order, the frame's slice of the received PCM, emotion values falling in the frame."""
        c = clip.select(self.names)
        times = np.arange(frames.start, frames.stop, dtype=np.float64) / NIM_FPS
        local = times - start
        if c.n_frames == 0:
            w = np.zeros((len(times), len(self.names)), np.float32)
        else:
            w = np.stack([np.interp(local, c.times, c.weights[:, j]) for j in range(len(self.names))], axis=1)
        lo, hi = start, (np.inf if last else start + len(frames) / NIM_FPS)
        inp_entries = _track_entries(clip.input_emotions, start) or [
            e for e in emotions if (frames.start == 0 or e.time_code >= lo) and e.time_code < hi
        ]
        inp = _entries_by_frame(inp_entries, frames, lo, hi)
        out = _entries_by_frame(_track_entries(clip.output_emotions, start), frames, lo, hi)
        msgs = []
        for j, i in enumerate(frames):
            t = float(times[j])
            a = int(round(t * rate)) * 2
            b = min(len(pcm), int(round((i + 1) / NIM_FPS * rate)) * 2)
            ad = wire.AnimationData()
            bw = ad.skel_animation.blend_shape_weights.add()
            bw.time_code = t
            bw.values.extend(w[j].astype(np.float32).tolist())
            ad.audio.time_code = t
            ad.audio.audio_buffer = pcm[a:b]
            if inp.get(i) or out.get(i):
                ad.metadata[wire.EMOTION_AGGREGATE_KEY].CopyFrom(
                    wire.pack_emotion_aggregate(inp.get(i, []), out.get(i, []))
                )
            msgs.append(wire.AnimationDataStream(animation_data=ad))
        return msgs


def plan_segments(audio: Audio, seconds: float) -> list[float]:
    """Cut times (s) from 0 to the end: one piece, or pieces of about ``seconds`` cut at the quietest
    50 ms near each target, on the 30 fps grid."""
    dur = audio.duration
    if seconds <= 0 or dur <= 1.5 * seconds:
        return [0.0, dur]
    x = audio.samples.astype(np.float64)
    hop = max(1, int(audio.rate * 0.05))
    n = len(x) // hop
    energy = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))
    cuts = [0.0]
    while dur - cuts[-1] > 1.5 * seconds:
        target = cuts[-1] + seconds
        a = int((target - 0.25 * seconds) / 0.05)
        b = min(n, int((target + 0.25 * seconds) / 0.05))
        k = a + int(np.argmin(energy[a:b])) if b > a else int(target / 0.05)
        cut = round((k + 0.5) * 0.05 * NIM_FPS) / NIM_FPS
        cuts.append(max(cut, cuts[-1] + 1.0 / NIM_FPS))
    cuts.append(dur)
    return cuts


def _segment_config(config: RunConfig, start: float, end: float) -> RunConfig:
    """The config for the piece [start, end) of a longer clip: emotion keys inside it, shifted; the key in
    force at ``start`` moves to 0."""
    if not config.emotion_timeline:
        return config
    keys = sorted(config.emotion_timeline, key=lambda k: k.time_code)
    before = [k for k in keys if k.time_code <= start]
    inside = [EmotionKey(k.time_code - start, dict(k.emotions)) for k in keys if start < k.time_code < end]
    head = [EmotionKey(before[-1].time_code - start, dict(before[-1].emotions))] if before else []
    if start > 0.0 and head:
        head[0].time_code = 0.0
    return replace(config, emotion_timeline=head + inside)


def _check_ranges(header) -> None:
    """Face and emotion post-processing parameters inside the NIM's documented ranges."""
    for k, v in header.face_params.float_params.items():
        if k in FACE_PARAM_RANGES:
            lo, hi, _ = FACE_PARAM_RANGES[k]
            if not lo <= v <= hi:
                raise StreamError(f"face parameter {k} = {v:g} is outside its range [{lo:g}, {hi:g}]")
    pp = header.emotion_post_processing_params
    for k, (lo, hi, _, kind) in POST_PROCESSING_RANGES.items():
        if kind is not bool and pp.HasField(k) and not lo <= getattr(pp, k) <= hi:
            raise StreamError(
                f"emotion post-processing parameter {k} = {getattr(pp, k):g} is outside its range [{lo:g}, {hi:g}]"
            )


def _track_entries(track: EmotionTrack | None, shift: float = 0.0) -> list[wire.EmotionWithTimeCode]:
    if track is None:
        return []
    return [
        wire.emotions_msg(float(t) + shift, {nm: float(v) for nm, v in zip(track.names, row)})
        for t, row in zip(track.times, track.values)
    ]


def _entries_by_frame(entries, frames: range, lo: float, hi: float) -> dict[int, list]:
    """Entries with lo <= time < hi (the first piece also takes earlier ones) by the frame they fall in."""
    by: dict[int, list] = {}
    for e in entries:
        if e.time_code >= hi or (e.time_code < lo and frames.start > 0):
            continue
        i = min(frames.stop - 1, max(frames.start, int(np.floor(e.time_code * NIM_FPS + 1e-6))))
        by.setdefault(i, []).append(e)
    return by


def _ended_msg(kind: str, idle: float, waiting_for: str) -> str:
    if kind == "idle":
        return f"no message for {idle:g} s while waiting for {waiting_for}; the stream was closed (idle timeout)"
    return f"the client closed its side before sending {waiting_for}"


def _read_all(request_iterator, q: queue.Queue) -> None:
    try:
        for msg in request_iterator:
            q.put(("msg", msg))
        q.put(("eof", None))
    except Exception:  # the RPC ended or the client vanished
        q.put(("gone", None))


# --- server lifecycle ----------------------------------------------------------------------------
def _read_file(path: str | None, what: str) -> bytes:
    if not path:
        raise ConfigError(f"secure mode needs --{what}")
    try:
        return Path(path).expanduser().read_bytes()
    except OSError as e:
        raise ConfigError(f"--{what} '{path}' cannot be read ({e.strerror}); check the path") from None


class NimServer:
    """A running server; ``port`` is the bound port (useful with port 0)."""

    def __init__(self, opts: ServeOptions):
        if opts.secure_mode not in ("disabled", "tls", "mtls"):
            raise ConfigError(f"--secure-mode must be disabled, tls or mtls, not '{opts.secure_mode}'")
        if opts.max_streams < 1:
            raise ConfigError("--max-streams must be at least 1")
        self.opts = opts
        self.runner = Runner(opts)
        self.service = A2FService(opts, self.runner)
        self.server = grpc.server(
            cf.ThreadPoolExecutor(max_workers=opts.max_streams + 8, thread_name_prefix="a2f-serve"),
            interceptors=list(opts.interceptors),
            options=[
                ("grpc.max_receive_message_length", 16 * 1024 * 1024),
                ("grpc.max_send_message_length", 16 * 1024 * 1024),
                ("grpc.so_reuseport", 0),
            ],
        )
        wire.add_A2FControllerServiceServicer_to_server(self.service, self.server)
        self.health = grpc_health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        addr = f"{opts.host}:{opts.port}"
        try:
            if opts.secure_mode == "disabled":
                self.port = self.server.add_insecure_port(addr)
            else:
                creds = grpc.ssl_server_credentials(
                    [(_read_file(opts.key, "key"), _read_file(opts.cert, "cert"))],
                    root_certificates=_read_file(opts.ca, "ca") if opts.secure_mode == "mtls" else None,
                    require_client_auth=opts.secure_mode == "mtls",
                )
                self.port = self.server.add_secure_port(addr, creds)
        except RuntimeError as e:
            self.runner.close()
            raise ConfigError(f"cannot listen on {addr} ({e}); is the port in use?") from None
        if not self.port:
            self.runner.close()
            raise ConfigError(f"cannot listen on {addr}; is the port in use?")

    @property
    def address(self) -> str:
        return f"{self.opts.host}:{self.port}"

    def start(self) -> NimServer:
        self.server.start()
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        return self

    def stop(self, grace: float | None = 2.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.runner.close()

    def wait(self) -> None:
        self.server.wait_for_termination()

    def __enter__(self) -> NimServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop(0.5)
