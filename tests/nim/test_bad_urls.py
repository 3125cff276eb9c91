"""NIM addresses and certificates are checked where the user gives them (issue #13): a port out of range or not a
number, an unknown scheme, a certificate file that is not PEM -- one line naming it, exit 2, before any dialling.
Good addresses still reach a real server on loopback."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from a2f_core.cli.main import main
from a2f_core.errors import ConfigError
from a2f_core.nim.channel import check_url, grpc_target, make_target

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
HELLO = ROOT / "samples" / "hello.wav"

BAD_URLS = [
    ("127.0.0.1:99999", "port 99999 is out of range; allowed 1-65535"),
    ("127.0.0.1:0", "port 0 is out of range"),
    ("127.0.0.1:-1", "'-1' is not a port number"),
    ("127.0.0.1:notaport", "'notaport' is not a port number"),
    ("127.0.0.1:", "'' is not a port number"),
    (":52000", "names no host"),
    ("[::1]:70000", "port 70000 is out of range"),
    ("[::1", "is not [IPv6]:PORT"),
    ("h1:52000,h2:port", "'port' is not a port number"),
    ("ipv4:127.0.0.1:65536", "port 65536 is out of range"),
    ("dns:///localhost:123456", "port 123456 is out of range"),
    ("grpc://127.0.0.1:52000", "unknown scheme 'grpc://'"),
    ("127.0.0.1 :52000", "is not a server address"),
]
GOOD_URLS = ["127.0.0.1:52000", "localhost:1", "[::1]:65535", "::1", "nim.example.com", "ipv4:10.0.0.5:52000,10.0.0.6:52000",
             "dns:///localhost:52000", "unix:/tmp/a2f.sock", "https://nim.example.com:443"]


@pytest.mark.parametrize("url, words", BAD_URLS)
def test_bad_url_is_one_line_naming_it(url, words, capsys):
    with pytest.raises(ConfigError) as ei:
        make_target(url)
    assert words in str(ei.value) and url.strip() in str(ei.value)
    rc = main(["infer", str(HELLO), "--backend", "nim", "--url", url, "--skip-print-to-files"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and words in err[0], err


@pytest.mark.parametrize("url", GOOD_URLS)
def test_good_urls_pass(url):
    t = make_target(url)
    assert check_url(t.url) == t.url


def test_a_fleet_list_with_a_bad_port_is_refused_before_dns():
    with pytest.raises(ConfigError, match="port 99999 is out of range"):
        grpc_target("127.0.0.1:52000,127.0.0.1:99999")


def test_valid_port_still_reaches_a_real_server(serve):
    from a2f_core.nim import health

    s = serve()
    host, port = s.address.rsplit(":", 1)
    ok, msg = health(f"{host}:{int(port)}")
    assert ok, msg


def _der(pem_path, tmp_path):
    cert = x509.load_pem_x509_certificate(open(pem_path, "rb").read())
    p = tmp_path / "ca.der"
    p.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    return p


@pytest.mark.parametrize("kind", ["garbage", "empty", "der", "a key", "a folder"])
def test_root_certificate_that_is_not_pem(kind, pki, tmp_path, capsys):
    if kind == "garbage":
        ca = tmp_path / "ca.crt"
        ca.write_text("this is not a certificate\n")
    elif kind == "empty":
        ca = tmp_path / "ca.crt"
        ca.write_bytes(b"")
    elif kind == "der":
        ca = _der(pki["ca"], tmp_path)
    elif kind == "a key":
        ca = pki["client_key"]
    else:
        ca = tmp_path
    rc = main(["infer", str(HELLO), "--backend", "nim", "--url", "127.0.0.1:52000", "--secure-mode", "tls",
               "--root-cert-path", str(ca), "--skip-print-to-files"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "root certificate" in err[0] and str(ca) in err[0]
    assert "no answer" not in err[0]
    if kind != "a folder":
        assert "is not a PEM certificate" in err[0]


def test_client_certificate_and_key_that_do_not_belong_together(pki, capsys):
    rc = main(["infer", str(HELLO), "--backend", "nim", "--url", "127.0.0.1:52000", "--secure-mode", "mtls",
               "--root-cert-path", pki["ca"], "--client-cert-path", pki["client_cert"],
               "--client-key-path", pki["other_client_key"], "--skip-print-to-files"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "client certificate" in err[0] and "key values mismatch" in err[0]


def test_good_pem_files_still_connect_over_mtls(serve, pki):
    from a2f_core.nim import health

    s = serve(secure_mode="mtls", cert=pki["server_cert"], key=pki["server_key"], ca=pki["ca"])
    ok, msg = health(s.address, secure_mode="mtls", root_cert_path=pki["ca"], client_cert_path=pki["client_cert"],
                     client_key_path=pki["client_key"])
    assert ok, msg
