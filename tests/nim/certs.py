"""Test certificates made with `cryptography`: a CA, a server cert for localhost/127.0.0.1, a client cert."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, key, cert) -> tuple[str, str]:
    kp = path.with_suffix(".key")
    cp = path.with_suffix(".crt")
    kp.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(cp), str(kp)


def _cert(subject: str, key, issuer_name, issuer_key, *, ca=False, server=False):
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if server:
        b = b.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def make_pki(folder: Path) -> dict[str, str]:
    """Paths: ca, server_cert/server_key, client_cert/client_key, other_ca (unrelated), other_client_*."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    ca_key = _key()
    ca = _cert("a2f test CA", ca_key, _name("a2f test CA"), ca_key, ca=True)
    out["ca"], _ = _write(folder / "ca", ca_key, ca)
    sk = _key()
    out["server_cert"], out["server_key"] = _write(folder / "server", sk, _cert("localhost", sk, ca.subject, ca_key, server=True))
    ck = _key()
    out["client_cert"], out["client_key"] = _write(folder / "client", ck, _cert("client", ck, ca.subject, ca_key))
    other_key = _key()
    other = _cert("other CA", other_key, _name("other CA"), other_key, ca=True)
    out["other_ca"], _ = _write(folder / "other_ca", other_key, other)
    ok = _key()
    out["other_client_cert"], out["other_client_key"] = _write(
        folder / "other_client", ok, _cert("intruder", ok, other.subject, other_key)
    )
    return out
