"""`a2f health`: is a NIM (or `a2f serve`) reachable and serving? Prints ONLINE/OFFLINE, exit 0/3."""

from __future__ import annotations

import os


def add_connection_args(p, *, default_url: str = "127.0.0.1:52000") -> None:
    """--url, --secure-mode and the certificate paths (as NVIDIA's sample client), plus NVCF's --function-id."""
    p.add_argument(
        "--url",
        "-u",
        default=default_url,
        help="HOST:PORT of the NIM, or a gRPC target naming several servers (ipv4:H:P1,H:P2 or dns:///name:port)",
    )
    p.add_argument("--secure-mode", choices=("disabled", "tls", "mtls"), default="disabled")
    p.add_argument("--root-cert-path", help="CA certificate that signed the server's certificate (tls, mtls)")
    p.add_argument("--client-cert-path", help="client certificate (mtls)")
    p.add_argument("--client-key-path", help="client private key (mtls)")
    p.add_argument(
        "--function-id", help="NVCF function id (NVIDIA cloud); the API key is read from $NVCF_API_KEY"
    )


def connection_kwargs(args) -> dict:
    return {
        "secure_mode": args.secure_mode,
        "root_cert_path": args.root_cert_path,
        "client_cert_path": args.client_cert_path,
        "client_key_path": args.client_key_path,
        "function_id": args.function_id,
    }


def quiet_grpc() -> None:
    """Keep gRPC's C-core log lines (handshake failures ...) off the terminal; our message says it once."""
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")


def add_parser(sub):
    p = sub.add_parser("health", help="check that a NIM / `a2f serve` is ONLINE (exit 0) or OFFLINE (exit 3)")
    add_connection_args(p)
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer (default 5)")
    return p


def run(args) -> int:
    quiet_grpc()
    from ..nim import health
    from ..nim.channel import check_url

    check_url(args.url)  # a malformed address is the user's mistake (exit 2), not an OFFLINE server

    ok, message = health(args.url, timeout=args.timeout, **connection_kwargs(args))
    if ok:
        print(f"ONLINE: {message}")
        return 0
    print(f"OFFLINE: {message}")
    return 3
