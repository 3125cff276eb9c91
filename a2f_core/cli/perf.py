"""`a2f perf`: NVIDIA's NIM performance test (latency, FPS per stream) plus throughput and failures."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .health import add_connection_args, connection_kwargs, quiet_grpc


def add_parser(sub):
    p = sub.add_parser("perf", help="measure a NIM / `a2f serve`: time to first response, FPS per stream, throughput")
    add_connection_args(p)
    p.add_argument("--request-nb", type=int, required=True, help="requests per audio file")
    p.add_argument("--max-stream-nb", type=int, required=True, help="requests in flight at once")
    p.add_argument("--audio", nargs="+", metavar="FILE", help="audio files (default: the shipped samples/*.wav)")
    p.add_argument("-o", "--output", default=".", help="folder for performance_output_NNNNNN (default: .)")
    p.add_argument("--jitter", type=float, default=1.0, help="max random delay before each request, s (1, as NVIDIA)")
    p.add_argument("--pause", type=float, default=3.0, help="pause between audio files, s (3, as NVIDIA)")
    p.add_argument("--timeout", type=float, help="seconds allowed per request (default: 60 + 5 x the audio length)")
    return p


def run(args) -> int:
    quiet_grpc()
    from ..nim.channel import make_target
    from ..nim.perf import run_perf

    if args.request_nb < 1 or args.max_stream_nb < 1:
        raise ConfigError("--request-nb and --max-stream-nb must be at least 1")
    files = args.audio
    if not files:
        samples = Path(__file__).resolve().parents[2] / "samples"
        files = sorted(str(p) for p in samples.glob("*.wav"))
        if not files:
            raise ConfigError("no audio given; pass --audio FILE ...")
    target = make_target(args.url, **connection_kwargs(args))
    results, paths = run_perf(
        target,
        files,
        args.request_nb,
        args.max_stream_nb,
        Path(args.output),
        jitter=args.jitter,
        pause=args.pause,
        timeout=args.timeout,
    )
    print(paths["throughput"].read_text().strip())
    print(f"results in {paths['csv'].parent}")
    failed = sum(r.failures for r in results)
    if failed:
        print(f"{failed} request(s) failed (see the throughput file for the errors)")
    return 0 if failed == 0 else 3
