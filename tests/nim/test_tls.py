"""TLS and mTLS with certificates made in the test: accepted when right, one clear message when wrong."""

from __future__ import annotations

import pytest
from nim_helpers import speechlike

from a2f_core.backends import get
from a2f_core.config import RunConfig
from a2f_core.errors import ConfigError, ConnectionFailed
from a2f_core.nim import health


def _server(serve, pki, mode):
    return serve(secure_mode=mode, cert=pki["server_cert"], key=pki["server_key"], ca=pki["ca"])


def test_tls_round_trip(serve, pki):
    s = _server(serve, pki, "tls")
    for url in (s.address, f"localhost:{s.port}"):
        nim = get("nim", url=url, secure_mode="tls", root_cert_path=pki["ca"])
        assert nim.availability().ok
        assert nim.infer(speechlike(0.5), RunConfig()).n_frames == 16


def test_tls_wrong_ca_rejected(serve, pki):
    s = _server(serve, pki, "tls")
    nim = get("nim", url=s.address, secure_mode="tls", root_cert_path=pki["other_ca"])
    with pytest.raises(ConnectionFailed, match=r"TLS handshake failed: the server's certificate is not trusted"):
        nim.infer(speechlike(0.5), RunConfig())
    ok, msg = health(s.address, secure_mode="tls", root_cert_path=pki["other_ca"])
    assert not ok and "not trusted by the root certificate" in msg


def test_plaintext_client_to_tls_server(serve, pki):
    s = _server(serve, pki, "tls")
    with pytest.raises(ConnectionFailed, match=r"if it uses TLS, connect with --secure-mode tls"):
        get("nim", url=s.address).infer(speechlike(0.5), RunConfig())


def test_mtls_round_trip(serve, pki):
    s = _server(serve, pki, "mtls")
    kw = dict(secure_mode="mtls", root_cert_path=pki["ca"], client_cert_path=pki["client_cert"], client_key_path=pki["client_key"])
    nim = get("nim", url=s.address, **kw)
    assert nim.availability().ok
    assert nim.infer(speechlike(0.5), RunConfig()).n_frames == 16


def test_mtls_without_client_cert_rejected(serve, pki):
    s = _server(serve, pki, "mtls")
    nim = get("nim", url=s.address, secure_mode="tls", root_cert_path=pki["ca"])
    with pytest.raises(ConnectionFailed, match=r"TLS handshake failed: .*needs a client certificate"):
        nim.infer(speechlike(0.5), RunConfig())
    ok, msg = health(s.address, secure_mode="tls", root_cert_path=pki["ca"])
    assert not ok and "client certificate" in msg


def test_mtls_client_cert_from_another_ca_rejected(serve, pki):
    s = _server(serve, pki, "mtls")
    nim = get(
        "nim",
        url=s.address,
        secure_mode="mtls",
        root_cert_path=pki["ca"],
        client_cert_path=pki["other_client_cert"],
        client_key_path=pki["other_client_key"],
    )
    with pytest.raises(ConnectionFailed, match=r"TLS handshake failed"):
        nim.infer(speechlike(0.5), RunConfig())


def test_mtls_wrong_server_ca_rejected(serve, pki):
    s = _server(serve, pki, "mtls")
    kw = dict(secure_mode="mtls", root_cert_path=pki["other_ca"], client_cert_path=pki["client_cert"], client_key_path=pki["client_key"])
    with pytest.raises(ConnectionFailed, match=r"not trusted by the root certificate"):
        get("nim", url=s.address, **kw).infer(speechlike(0.5), RunConfig())


def test_option_mistakes_are_config_errors(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="needs --client-cert-path and --client-key-path"):
        get("nim", secure_mode="mtls")
    with pytest.raises(ConfigError, match="secure mode 'ssl' is not one of"):
        get("nim", secure_mode="ssl")
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError, match=r"root certificate '.*nope.pem' cannot be read"):
        get("nim", secure_mode="tls", root_cert_path=str(missing)).infer(speechlike(0.2), RunConfig())
    monkeypatch.delenv("NVCF_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="NVCF needs an API key"):
        get("nim", function_id="462f7853-60e8-474a-9728-7b598e58472c")
