"""gRPC channels to a NIM: insecure | tls | mtls, NVCF, and multi-server targets with round robin."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from ..errors import ConfigError
from . import DEFAULT_URL, NVCF_URL, SECURE_MODES

# round_robin spreads streams over every address a target resolves to (ipv4:A,B or a DNS name with several
# records); with one address it behaves like pick_first.
_SERVICE_CONFIG = json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@dataclass
class Target:
    """Where and how to connect. ``api_key`` is kept out of repr() so it never reaches a log."""

    url: str = DEFAULT_URL
    secure_mode: str = "disabled"
    root_cert_path: str | None = None
    client_cert_path: str | None = None
    client_key_path: str | None = None
    function_id: str | None = None
    api_key: str | None = field(default=None, repr=False)

    @property
    def nvcf(self) -> bool:
        return bool(self.function_id)

    def metadata(self) -> list[tuple[str, str]]:
        md: list[tuple[str, str]] = []
        if self.function_id:
            md.append(("function-id", self.function_id))
        if self.api_key and self.secure_mode != "disabled":  # never send a key in clear text
            md.append(("authorization", f"Bearer {self.api_key}"))
        return md

    def describe(self) -> str:
        if self.nvcf:
            return f"{self.url} (NVCF)"
        return {"tls": f"{self.url} (TLS)", "mtls": f"{self.url} (mTLS)"}.get(self.secure_mode, self.url)


def make_target(
    url: str | None = None,
    secure_mode: str | None = "disabled",
    root_cert_path: str | None = None,
    client_cert_path: str | None = None,
    client_key_path: str | None = None,
    function_id: str | None = None,
    api_key: str | None = None,
) -> Target:
    """Normalise user options: scheme prefixes, NVCF defaults, the key from $NVCF_API_KEY; checks required ones."""
    mode = (secure_mode or "disabled").lower()
    url = (url or "").strip()
    if url.startswith("https://"):
        url = url[len("https://") :]
        if mode == "disabled":
            mode = "tls"
    elif url.startswith("http://"):
        url = url[len("http://") :]
    url = url.rstrip("/")
    function_id = (function_id or "").strip() or None
    if function_id:
        url = url if url and url != DEFAULT_URL else NVCF_URL
        if mode == "disabled":
            mode = "tls"
        api_key = api_key or os.environ.get("NVCF_API_KEY") or None
        if not api_key:
            raise ConfigError(
                "NVCF needs an API key: set the NVCF_API_KEY environment variable or the key in the add-on preferences"
            )
    url = check_url(url or DEFAULT_URL)
    if mode not in SECURE_MODES:
        raise ConfigError(f"secure mode '{secure_mode}' is not one of: {', '.join(SECURE_MODES)}")
    t = Target(url, mode, root_cert_path or None, client_cert_path or None, client_key_path or None, function_id, api_key)
    if mode == "mtls" and not (t.client_cert_path and t.client_key_path):
        raise ConfigError("secure mode 'mtls' needs --client-cert-path and --client-key-path")
    check_pem(t)
    return t


PORT_MIN, PORT_MAX = 1, 65535
URL_EXAMPLE = "write HOST:PORT, e.g. 127.0.0.1:52000 (several: h1:p1,h2:p2)"


def _check_port(url: str, port: str) -> None:
    if not port.isdigit():
        raise ConfigError(f"{url}: '{port}' is not a port number; {URL_EXAMPLE}")
    if not PORT_MIN <= int(port) <= PORT_MAX:
        raise ConfigError(f"{url}: port {int(port)} is out of range; allowed {PORT_MIN}-{PORT_MAX}")


def check_url(url: str) -> str:
    """Check a server address once, where the user gave it: HOST:PORT (a bare host means gRPC's default port),
    [IPv6]:PORT, comma-separated lists of them, or a gRPC target (ipv4:, ipv6:, dns:, unix:). Every port must be
    a number from 1 to 65535 (gRPC would wrap 99999 to 34463 and read 'notaport' as 0). Returns ``url``."""
    u = url.strip()
    if not u or any(c.isspace() for c in u):
        raise ConfigError(f"'{url}' is not a server address; {URL_EXAMPLE}")
    if u.startswith("unix:"):
        return url
    body = u
    for prefix in ("ipv4:", "ipv6:", "dns:"):
        if u.startswith(prefix):
            body = u[len(prefix):].rsplit("/", 1)[-1]  # dns:///host:port, dns://resolver/host:port
            break
    else:
        if "://" in u:
            scheme = u.split("://", 1)[0]
            raise ConfigError(f"{url}: unknown scheme '{scheme}://'; {URL_EXAMPLE} (https://HOST:PORT for TLS)")
    for item in body.split(","):
        item = item.strip()
        if item.startswith("["):
            host, closed, rest = item[1:].partition("]")
            if not closed or (rest and not rest.startswith(":")):
                raise ConfigError(f"{url}: '{item}' is not [IPv6]:PORT; {URL_EXAMPLE}")
            port = rest[1:] if rest else None
        elif item.count(":") > 1:  # a bare IPv6 address
            host, port = item, None
        else:
            host, colon, port_s = item.partition(":")
            port = port_s if colon else None
        if not host:
            raise ConfigError(f"{url}: '{item}' names no host; {URL_EXAMPLE}")
        if port is not None:
            _check_port(url, port)
    return url


def _pem_problem(e: Exception) -> str:
    """OpenSSL's short reason (KEY_VALUES_MISMATCH -> ' (key values mismatch)'), or nothing."""
    reason = getattr(e, "reason", None)
    return f" ({str(reason).replace('_', ' ').lower()})" if reason else ""


def check_pem(t: Target) -> None:
    """The certificate files of a TLS/mTLS target must be PEM that OpenSSL can load (a garbage or DER CA file
    would otherwise surface only as a server that never answers). Read once here, with the ssl module."""
    import ssl

    if t.secure_mode == "disabled":
        return
    if t.root_cert_path:
        data = _read(t.root_cert_path, "root certificate") or b""
        try:
            if not data.strip():
                raise ValueError("empty")
            ssl.create_default_context(cadata=data.decode("ascii"))
        except (ssl.SSLError, UnicodeDecodeError, ValueError) as e:
            raise ConfigError(
                f"root certificate '{t.root_cert_path}' is not a PEM certificate{_pem_problem(e)}; give the CA "
                "certificate as PEM text ('-----BEGIN CERTIFICATE-----'), e.g. convert a DER file with "
                "`openssl x509 -inform der -in ca.der -out ca.crt`"
            ) from None
    if t.secure_mode == "mtls" and t.client_cert_path and t.client_key_path:
        for path, what in ((t.client_cert_path, "client certificate"), (t.client_key_path, "client key")):
            _read(path, what)  # missing or unreadable: named as such
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            ctx.load_cert_chain(str(Path(t.client_cert_path).expanduser()), str(Path(t.client_key_path).expanduser()),
                                password=lambda: b"")
        except (ssl.SSLError, OSError, ValueError) as e:
            raise ConfigError(
                f"client certificate '{t.client_cert_path}' and key '{t.client_key_path}' cannot be used"
                f"{_pem_problem(e)}; give the client certificate and its unencrypted private key as PEM files "
                "that belong together"
            ) from None


def _read(path: str | None, what: str) -> bytes | None:
    if not path:
        return None
    p = Path(path).expanduser()
    try:
        return p.read_bytes()
    except OSError as e:
        raise ConfigError(f"{what} '{p}' cannot be read ({e.strerror}); check the path") from None


def credentials(t: Target) -> grpc.ChannelCredentials | None:
    if t.secure_mode == "disabled":
        return None
    root = _read(t.root_cert_path, "root certificate")
    if t.secure_mode == "mtls":
        return grpc.ssl_channel_credentials(
            root_certificates=root,
            private_key=_read(t.client_key_path, "client key"),
            certificate_chain=_read(t.client_cert_path, "client certificate"),
        )
    return grpc.ssl_channel_credentials(root_certificates=root)


def _split_hostport(item: str) -> tuple[str, str]:
    item = item.strip()
    if item.startswith("["):  # [v6]:port
        host, _, port = item[1:].partition("]:")
        return host, port
    host, _, port = item.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"'{item}' is not HOST:PORT; write each server as host:port, e.g. 10.0.0.5:52000")
    _check_port(item, port)
    return host, port


def grpc_target(url: str) -> tuple[str, str | None]:
    """(gRPC target, TLS name) for a URL. A plain list 'h1:p1,h2:p2' becomes 'ipv4:IP1:p1,IP2:p2' (names
    resolved here) so one channel balances over all of them; gRPC targets (ipv4:, ipv6:, dns:) pass through."""
    if "," not in url or url.startswith(("ipv4:", "ipv6:", "dns:", "unix:")):
        return url, None
    import ipaddress
    import socket

    out: list[str] = []
    first_name: str | None = None
    v6 = False
    for item in url.split(","):
        host, port = _split_hostport(item)
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            first_name = first_name or host
            try:
                infos = socket.getaddrinfo(host, int(port), proto=socket.IPPROTO_TCP)
            except OSError:
                from ..errors import ConnectionFailed

                raise ConnectionFailed(
                    f"{url}: cannot resolve host '{host}' (DNS lookup failed); check the URL spelling"
                ) from None
            ip = ipaddress.ip_address(sorted(infos, key=lambda i: i[0] != socket.AF_INET)[0][4][0])
        v6 = v6 or ip.version == 6
        out.append(f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}")
    if v6 and any(not a.startswith("[") for a in out):
        raise ConfigError(f"{url}: mixes IPv4 and IPv6 servers; use one family")
    return ("ipv6:" if v6 else "ipv4:") + ",".join(out), first_name


def open_channel(t: Target, *, extra_options: list[tuple[str, object]] | None = None) -> grpc.Channel:
    target, tls_name = grpc_target(t.url)
    options: list[tuple[str, object]] = [
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.enable_retries", 0),
    ]
    options += extra_options or []
    creds = credentials(t)
    if creds is None:
        return grpc.insecure_channel(target, options=options)
    if tls_name:
        options.append(("grpc.ssl_target_name_override", tls_name))
    return grpc.secure_channel(target, creds, options=options)


def host_of(url: str) -> str:
    """The host part of the first address in a target (for messages)."""
    u = url.split("///")[-1]
    for prefix in ("ipv4:", "ipv6:", "dns:"):
        if u.startswith(prefix):
            u = u[len(prefix) :]
    first = u.split(",")[0]
    if first.startswith("["):
        return first[1 : first.find("]")]
    return first.rsplit(":", 1)[0] if ":" in first else first
