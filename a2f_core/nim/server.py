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
import math
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import grpc
import numpy as np
from grpc_health.v1 import health as grpc_health
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .. import pipeline, process_pool, segments
from ..audio import Audio
from ..backends.base import CancelToken
from ..clip import Clip, EmotionTrack, frame_count
from ..config import EmotionKey, RunConfig
from ..errors import A2FError, BackendError, ConfigError
from ..names import NVIDIA_52, NVIDIA_TONGUE_16
from . import NIM_FPS, SERVICE_NAME, wire
from .checks import MAX_EMOTION_KEYS, InputError, check_emotion_keys, check_header_values, precheck_request

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
    # A stream's audio must be complete (end_of_audio) this many seconds after it opened (0 = no limit), and
    # after the first rate_grace s it must arrive at >= min_audio_rate s of audio per s on average, so slow
    # or stalled clients cannot hold the slots (the idle timeout alone restarts with every message).
    receive_timeout: float = 330.0
    min_audio_rate: float = 0.5
    rate_grace: float = 10.0
    work_rate: int = 16000  # the backend gets the audio resampled to this rate as it arrives (0 = as received)
    min_rate: int = 16000
    max_rate: int = 144000
    tongue: bool = False  # also send the 16 tongue channels (NIM 2.0 style)
    # Clips longer than this are cut at pauses into pieces of about this length; each piece's frames are
    # streamed as soon as it is done (pieces run in parallel on the worker processes). 0 = whole clip.
    segment_seconds: float = 20.0
    interceptors: list = field(default_factory=list)  # grpc.ServerInterceptor (e.g. an auth check)
    base_config: RunConfig = field(default_factory=RunConfig)


AHEAD_SECONDS = 1.0  # an open stream this far ahead of real time will soon want a worker (see _busy)


class StreamError(InputError):
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


def _runner(spec: str, options: dict | None) -> pipeline.Runner:
    return pipeline.Runner(spec, backend=load_backend(spec, options))


def _worker_init(spec: str, options: dict, busy_options: dict | None = None) -> None:
    global _WORKER_BACKEND, _WORKER_BUSY
    _WORKER_BACKEND = _runner(spec, options)
    _WORKER_BUSY = None if busy_options is None else _runner(spec, busy_options)


def _worker_infer(audio: Audio, config: RunConfig, busy: bool = False) -> Clip:
    runner = _WORKER_BUSY if busy and _WORKER_BUSY is not None else _WORKER_BACKEND
    return runner.take(audio, config, max_seconds=None).clip


class Runner:
    """Runs a stream's inference through the pipeline's Runner: in the stream's thread, or in worker processes
    (process_pool.Pool, each worker holding its own backend)."""

    def __init__(self, opts: ServeOptions):
        self.opts = opts
        self.backend: pipeline.Runner | None = None
        self.busy_backend: pipeline.Runner | None = None
        self.capacity = max(1, opts.workers)  # inferences that run at once
        self.in_flight = 0  # inferences submitted and not finished
        self._flight_lock = threading.Lock()
        self.pool: process_pool.Pool | None = None
        _check_spec(opts.backend)
        if opts.workers > 0:
            self.pool = process_pool.Pool(opts.workers, _worker_init,
                                          (opts.backend, opts.backend_options, opts.busy_backend_options))
            try:  # start the workers now (imports, decoder start-up) rather than on the first request
                self.pool.start()
            except cf.process.BrokenProcessPool:
                self.pool.close(wait=False)
                raise BackendError(
                    f"backend '{opts.backend}' failed to start in a worker process; try --workers 0 to see why"
                ) from None
        else:  # in-thread backends that are not parallel take turns (the pipeline's Runner sees to it)
            self.backend = _runner(opts.backend, opts.backend_options)
            if opts.busy_backend_options is not None:
                self.busy_backend = _runner(opts.backend, opts.busy_backend_options)

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
            runner = self.busy_backend if busy and self.busy_backend is not None else self.backend
            assert runner is not None
            self._flight(1)
            try:
                return runner.take(audio, config, max_seconds=None, cancel=cancel).clip
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
            self.pool.close(wait=False)


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
        # called with the number of open streams whenever it changes (NimServer: health NOT_SERVING when full)
        self.on_load: Callable[[int], None] | None = None
        self._stop = threading.Event()
        threading.Thread(target=self._watch, name="a2f-serve-watch", daemon=True).start()

    def close(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        """Cut streams whose client has not taken an answer message for --idle-timeout s (it stopped
        reading: gRPC flow control holds our send, and the stream's thread and slot, forever)."""
        while not self._stop.wait(0.2):
            now = time.monotonic()
            with self._lock:
                stuck = [st for st in self._open.values()
                         if st.get("send_t") is not None and now - st["send_t"] > self.opts.idle_timeout]
            for st in stuck:
                st["send_t"] = None
                st["outcome"] = (f"cut: the client took no answer for {self.opts.idle_timeout:g} s "
                                 f"after {st['frames']} frames (idle timeout)")
                st["ctx"].cancel()

    def _load_changed(self) -> None:
        if self.on_load is not None:
            self.on_load(len(self._open))

    def ProcessAudioStream(self, request_iterator, context):
        sid = next(self._ids)
        if not self._slots.acquire(blocking=False):
            log.info("stream %d %s: rejected, all %d streams busy", sid, context.peer(), self.opts.max_streams)
            context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"all {self.opts.max_streams} streams are busy; retry later or start the server with more --max-streams",
            )
        stats: dict[str, Any] = {"t0": time.monotonic(), "outcome": "?", "audio_s": 0.0, "frames": 0, "rate": 0,
                                 "mode": "", "received": 0.0, "submitted": False, "ctx": context, "send_t": None}
        with self._lock:
            self._open[sid] = stats
            self._load_changed()
        try:
            for msg in self._stream(request_iterator, context, stats):
                stats["send_t"] = time.monotonic()  # back here once gRPC has sent it (see _watch)
                yield msg
                stats["send_t"] = None
        finally:
            if stats["outcome"] == "?":  # closed at a yield: the client cancelled or went away
                stats["outcome"] = "client went away"
            with self._lock:
                self.served += 1
                del self._open[sid]
                self._load_changed()
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
        # A small queue: a client that keeps sending while we are busy is held back by gRPC flow
        # control instead of filling the server's memory.
        q: queue.Queue = queue.Queue(maxsize=2)
        gone = CancelToken()
        context.add_callback(gone.cancel)
        threading.Thread(
            target=_read_all, args=(request_iterator, q, gone), name="a2f-serve-reader", daemon=True
        ).start()
        t0 = stats["t0"]
        n_msgs = 0

        def next_msg():
            nonlocal n_msgs
            limit = time.monotonic() + o.idle_timeout
            while True:
                if gone.cancelled:
                    return "gone", None
                now = time.monotonic()
                if o.receive_timeout > 0 and now - t0 >= o.receive_timeout:
                    return "deadline", None
                if too_slow(now - t0, stats["received"], o):
                    return "slow", None
                try:
                    kind, m = q.get(timeout=max(0.0, min(0.1, limit - now)))
                except queue.Empty:
                    if time.monotonic() >= limit:
                        return "idle", None
                    continue
                if kind == "msg":
                    n_msgs += 1
                    if isinstance(m, Undecodable):
                        raise StreamError(f"message {n_msgs} ({m.size} bytes) {m.why}")
                return kind, m

        def ended(kind: str, waiting_for: str) -> str:
            if kind == "deadline":
                return (
                    f"the audio was not complete {o.receive_timeout:g} s after the stream started (the server's "
                    f"--receive-timeout; {stats['received']:.1f} s of audio arrived); send audio faster or in shorter clips"
                )
            if kind == "slow":
                el = time.monotonic() - t0
                return (
                    f"audio arrives too slowly: {stats['received']:.2f} s of audio in {el:.0f} s, below the server's "
                    f"--min-audio-rate of {o.min_audio_rate:g} s of audio per second; send it at least in real time"
                )
            return _ended_msg(kind, o.idle_timeout, waiting_for)

        def error(msg: str) -> wire.AnimationDataStream:
            msg = _one_line(msg)
            stats["outcome"] = f"ERROR {msg}"
            return wire.AnimationDataStream(status=wire.Status(code=wire.Status.ERROR, message=msg))

        try:
            kind, msg = next_msg()
            if kind != "msg":
                stats["outcome"] = f"ended before a header ({kind})"
                if kind != "gone":
                    yield error(ended(kind, "audio_stream_header"))
                return
            part = msg.WhichOneof("stream_part")
            if part != "audio_stream_header":
                raise StreamError(f"the first message must be audio_stream_header, got {part or 'an empty message'}")
            header = msg.audio_stream_header
            rate = self._check_audio_header(header)
            stats["rate"] = rate
            check_header_values(header)
            config = wire.config_from_header(header, o.base_config)
            yield wire.AnimationDataStream(
                animation_data_stream_header=wire.AnimationDataStreamHeader(
                    audio_header=wire.audio_header(rate),
                    skel_animation_header=wire.SkelAnimationHeader(blend_shapes=self.names),
                    start_time_code_since_epoch=time.time(),
                )
            )
            received = StreamAudio(rate, o.work_rate, o.max_clip_seconds)
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
                    raise StreamError(ended(kind, "end_of_audio"))
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
                received.add(buf)
                check_emotion_keys(msg.audio_with_emotion.emotions, o.max_clip_seconds)
                if len(emotions) + len(msg.audio_with_emotion.emotions) > MAX_EMOTION_KEYS:
                    raise StreamError(
                        f"more than {MAX_EMOTION_KEYS} time-coded emotions in one stream; send at most one per frame"
                    )
                emotions.extend(msg.audio_with_emotion.emotions)
            if total == 0:
                raise StreamError("no audio arrived before end_of_audio")
            raw, audio = received.finish()
            del received
            stats["audio_s"] = len(raw) / 2 / rate
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
            n_total = frame_count(len(raw) / 2 / rate, NIM_FPS)
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
                bad = _non_finite(clip)
                if bad:
                    log.error("stream: the backend produced non-finite %s; refused to send them", bad)
                    stats["outcome"] = f"ERROR backend produced non-finite {bad}"
                    yield wire.AnimationDataStream(status=wire.Status(
                        code=wire.Status.ERROR,
                        message=f"internal server error: the backend produced non-finite {bad}; see the server log",
                    ))
                    return
                last = k == len(cuts) - 2
                first_i = int(np.ceil(a * NIM_FPS - 1e-6))
                end_i = n_total if last else int(np.ceil(b * NIM_FPS - 1e-6))
                for fr in self._frames(clip, a, range(first_i, end_i), raw, rate, emotions, last):
                    if gone.cancelled:
                        stats["outcome"] = "client went away"
                        return
                    yield fr
                    stats["frames"] += 1
            yield wire.AnimationDataStream(event=wire.Event(event_type=wire.END_OF_A2F_AUDIO_PROCESSING))
            stats["outcome"] = "SUCCESS"
            yield wire.AnimationDataStream(status=wire.Status(code=wire.Status.SUCCESS, message="sent all data"))
        except InputError as e:
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
        self, clip: Clip, start: float, frames: range, pcm: Pcm, rate: int, emotions, last: bool
    ) -> Iterator[wire.AnimationDataStream]:
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
        if not np.isfinite(w).all():  # _non_finite checked the clip; interpolation cannot add any
            raise RuntimeError("non-finite weights after interpolation")
        for j, i in enumerate(frames):
            t = float(times[j])
            a = int(round(t * rate)) * 2
            b = min(len(pcm), int(round((i + 1) / NIM_FPS * rate)) * 2)
            ad = wire.AnimationData()
            bw = ad.skel_animation.blend_shape_weights.add()
            bw.time_code = t
            bw.values.extend(w[j].astype(np.float32).tolist())
            ad.audio.time_code = t
            ad.audio.audio_buffer = pcm.slice(a, b)
            if inp.get(i) or out.get(i):
                ad.metadata[wire.EMOTION_AGGREGATE_KEY].CopyFrom(
                    wire.pack_emotion_aggregate(inp.get(i, []), out.get(i, []))
                )
            yield wire.AnimationDataStream(animation_data=ad)


def plan_segments(audio: Audio, seconds: float) -> list[float]:
    """Cut times (s) from 0 to the end: one piece, or pieces of about ``seconds`` cut at pauses (the bundled
    backend's cutter, segments.quiet_cuts, within a quarter piece of even spacing), on the 30 fps grid."""
    dur = audio.duration
    if seconds <= 0 or dur <= 1.5 * seconds:
        return [0.0, dur]
    cuts = segments.quiet_cuts(audio.samples, audio.rate, max(2, round(dur / seconds)), 0.25 * seconds)
    grid = [0.0]
    for c in cuts[1:-1]:
        grid.append(max(round(c * NIM_FPS) / NIM_FPS, grid[-1] + 1.0 / NIM_FPS))
    return grid + [dur]


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


def _non_finite(clip: Clip) -> str:
    """What in a backend's clip is NaN or infinite ('' when all is finite): never sent to a client."""
    if not np.isfinite(clip.weights).all():
        return "weights"
    for track in (clip.input_emotions, clip.output_emotions):
        if track is not None and not (np.isfinite(track.values).all() and np.isfinite(track.times).all()):
            return "emotion values"
    return ""


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


class Undecodable:
    """A request message that cannot or must not be parsed (it ends its stream with an ERROR status)."""

    def __init__(self, size: int, why: str):
        self.size, self.why = size, why


def decode_request(data: bytes) -> Any:
    """gRPC's request deserializer: a bad message becomes an Undecodable (gRPC itself would log a
    traceback and answer INTERNAL "Exception deserializing request!"); so does a message whose parse
    would cost far more memory than its audio (see checks.precheck_request)."""
    why = precheck_request(data)
    if why:
        return Undecodable(len(data), why)
    try:
        return wire.AudioStream.FromString(data)
    except Exception as e:  # google.protobuf.message.DecodeError
        e_text = " ".join(str(e).split()) or type(e).__name__
        return Undecodable(len(data), f"is not a valid AudioStream message ({e_text}); check the client's protobuf definitions")


def too_slow(elapsed: float, received_s: float, o: ServeOptions) -> bool:
    """Audio arriving below ``o.min_audio_rate`` (s of audio per s) once ``o.rate_grace`` s have passed,
    counted from the stream's start (so pauses are fine as long as the average keeps up)."""
    return o.min_audio_rate > 0 and elapsed > o.rate_grace and received_s < o.min_audio_rate * (elapsed - o.rate_grace)


def _one_line(msg: str, limit: int = 500) -> str:
    """A client-facing message as one line of bounded length (names in it come from the client)."""
    msg = " ".join(msg.split())
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


class Pcm:
    """The received PCM as the chunks that arrived (no joined copy, no growing buffer): len() and
    slice(a, b) in bytes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.ends: list[int] = []  # end offset of each chunk

    def append(self, buf: bytes) -> None:
        if buf:
            self.chunks.append(buf)
            self.ends.append(len(self) + len(buf))

    def __len__(self) -> int:
        return self.ends[-1] if self.ends else 0

    def slice(self, a: int, b: int) -> bytes:
        import bisect

        b = min(b, len(self))
        out = []
        k = bisect.bisect_right(self.ends, a)
        while a < b and k < len(self.chunks):
            start = self.ends[k] - len(self.chunks[k])
            piece = self.chunks[k][a - start : b - start]
            out.append(piece)
            a += len(piece)
            k += 1
        return b"".join(out)


class StreamAudio:
    """A stream's audio as it arrives: the received PCM bytes (echoed back in the frames) and float32
    samples at ``work_rate`` for the backend, resampled chunk by chunk, so a stream never holds more
    than its PCM plus the working copy (no float64, no joined copies). The working copy is written into
    one buffer sized for ``max_seconds``, allocated up front but untouched (so not resident) past the
    audio received."""

    def __init__(self, rate: int, work_rate: int = 0, max_seconds: float = 300.0):
        self.rate = rate
        self.work_rate = work_rate if work_rate > 0 else rate
        self.pcm = Pcm()
        self._x = np.empty(int(max_seconds * self.work_rate) + self.work_rate, np.float32)
        self._n = 0
        self._rs: Any = None
        if self.work_rate != rate:
            import soxr

            self._rs = soxr.ResampleStream(rate, self.work_rate, 1, dtype="float32", quality="HQ")

    def _put(self, x: np.ndarray) -> None:
        if self._n + len(x) > len(self._x):  # more than max_seconds: grow (the server refuses that earlier)
            self._x = np.concatenate([self._x[: self._n], np.empty(len(x) + self.work_rate, np.float32)])
        self._x[self._n : self._n + len(x)] = x
        self._n += len(x)

    def add(self, buf: bytes) -> None:
        self.pcm.append(buf)
        x = np.frombuffer(buf, dtype="<i2").astype(np.float32)
        x *= np.float32(1.0 / 32768.0)
        self._put(self._rs.resample_chunk(x) if self._rs is not None else x)

    def finish(self) -> tuple[Pcm, Audio]:
        """(the received PCM, the audio for the backend); the latter exactly as long as the former."""
        if self._rs is not None:
            self._put(self._rs.resample_chunk(np.zeros(0, np.float32), last=True))
            self._rs = None
        n = int(round(len(self.pcm) // 2 * self.work_rate / self.rate))
        if self._n < n:
            self._put(np.zeros(n - self._n, np.float32))
        return self.pcm, Audio(self._x[:n], self.work_rate, "stream", self.rate, 1)


def _read_all(request_iterator, q: queue.Queue, gone: CancelToken) -> None:
    """Move the client's messages into ``q`` until end_of_audio (what follows it is never read), the
    client's end, or the stream's end."""

    def put(item) -> bool:
        while not gone.cancelled:
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    try:
        for msg in request_iterator:
            if not put(("msg", msg)):
                return
            if not isinstance(msg, Undecodable) and msg.WhichOneof("stream_part") == "end_of_audio":
                return
        put(("eof", None))
    except Exception:  # the RPC ended or the client vanished
        put(("gone", None))


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
        for flag, v in (("--idle-timeout", opts.idle_timeout), ("--receive-timeout", opts.receive_timeout),
                        ("--min-audio-rate", opts.min_audio_rate)):
            if not math.isfinite(v) or v < 0 or (flag == "--idle-timeout" and v == 0):
                raise ConfigError(f"{flag} must be a number {'above' if flag == '--idle-timeout' else 'of'} 0"
                                  f"{'' if flag == '--idle-timeout' else ' or more'}, not {v:g}")
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
        service, method = wire.METHOD.strip("/").split("/")
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, {
            method: grpc.stream_stream_rpc_method_handler(
                self.service.ProcessAudioStream,
                request_deserializer=decode_request,
                response_serializer=wire.AnimationDataStream.SerializeToString,
            )
        }),))
        self.health = grpc_health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._serving: bool | None = None
        self.service.on_load = self._health_for_load
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
            self.service.close()
            self.runner.close()
            raise ConfigError(f"cannot listen on {addr} ({e}); is the port in use?") from None
        if not self.port:
            self.service.close()
            self.runner.close()
            raise ConfigError(f"cannot listen on {addr}; is the port in use?")

    @property
    def address(self) -> str:
        return f"{self.opts.host}:{self.port}"

    def start(self) -> NimServer:
        self.server.start()
        self._serving = None
        self._health_for_load(self.service.active)
        return self

    def _health_for_load(self, n_open: int) -> None:
        """Health SERVING while a stream slot is free, NOT_SERVING while all --max-streams are in use (so a
        load balancer or readiness probe sends new streams elsewhere). Called under the service's lock."""
        serving = n_open < self.opts.max_streams
        if serving != self._serving:
            self._serving = serving
            status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
            for name in ("", SERVICE_NAME):
                self.health.set(name, status)  # ignored once stop() began the graceful shutdown

    def stop(self, grace: float | None = 2.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.service.close()
        self.runner.close()

    def wait(self) -> None:
        self.server.wait_for_termination()

    def __enter__(self) -> NimServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop(0.5)
