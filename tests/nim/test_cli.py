"""`a2f health | serve | perf` from the command line, and NVCF metadata."""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from nim_helpers import TINY, speechlike

from a2f_core.audio import save_wav
from a2f_core.backends import get
from a2f_core.cli.main import main
from a2f_core.config import RunConfig
from a2f_core.errors import ConnectionFailed

HERE = Path(__file__).resolve().parent


def test_health_online_and_offline(serve, capsys):
    s = serve()
    assert main(["health", "--url", s.address]) == 0
    assert capsys.readouterr().out.startswith(f"ONLINE: Service {s.address} is ONLINE")
    s.stop(0)
    assert main(["health", "--url", s.address, "--timeout", "2"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("OFFLINE:") and "connection refused" in out


def test_health_dns_failure(capsys):
    assert main(["health", "--url", "no-such-host.invalid:52000", "--timeout", "3"]) == 3
    assert "cannot resolve host 'no-such-host.invalid'" in capsys.readouterr().out


def test_health_of_a_malformed_address_is_a_user_error(capsys):
    assert main(["health", "--url", "127.0.0.1:99999"]) == 2  # not OFFLINE (3): nothing was dialled
    assert "port 99999 is out of range; allowed 1-65535" in capsys.readouterr().err


def test_health_for_the_service_name(serve):
    from a2f_core.nim import SERVICE_NAME, health

    s = serve()
    assert health(s.address, service=SERVICE_NAME)[0]
    ok, msg = health(s.address, service="no.such.Service")
    assert not ok


def test_refused_and_dns_messages_from_the_backend():
    audio = speechlike(0.3)
    with pytest.raises(ConnectionFailed, match=r"127.0.0.1:1: connection refused; is the NIM running"):
        get("nim", url="127.0.0.1:1").infer(audio, RunConfig())
    with pytest.raises(ConnectionFailed, match=r"cannot resolve host 'no-such-host.invalid' \(DNS lookup failed\)"):
        get("nim", url="no-such-host.invalid:52000").infer(audio, RunConfig())
    assert not get("nim", url="127.0.0.1:1", health_timeout=1).availability().ok


class _RequireKey(grpc.ServerInterceptor):
    """What NVCF does with our metadata, in miniature: function-id + bearer key or UNAUTHENTICATED."""

    def __init__(self):
        self.seen: list[dict] = []

    def intercept_service(self, continuation, details):
        md = dict(details.invocation_metadata)
        self.seen.append(md)
        if md.get("authorization") != "Bearer sekrit" or md.get("function-id") != "fn-1":
            def deny(request, context):
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "no authorization was passed")

            if details.method.endswith("ProcessAudioStream"):
                return grpc.stream_stream_rpc_method_handler(lambda it, ctx: deny(it, ctx))
            return grpc.unary_unary_rpc_method_handler(deny)
        return continuation(details)


def test_nvcf_metadata_and_unauthenticated_message(serve, pki, monkeypatch):
    guard = _RequireKey()
    s = serve(secure_mode="tls", cert=pki["server_cert"], key=pki["server_key"], interceptors=[guard])
    monkeypatch.setenv("NVCF_API_KEY", "sekrit")
    nim = get("nim", url=s.address, function_id="fn-1", root_cert_path=pki["ca"])
    assert nim.target.secure_mode == "tls"  # NVCF implies TLS
    assert "sekrit" not in repr(nim) and "sekrit" not in repr(nim.target)
    assert nim.infer(speechlike(0.3), RunConfig()).n_frames == 10
    assert guard.seen[-1]["function-id"] == "fn-1"
    bad = get("nim", url=s.address, function_id="fn-1", api_key="wrong", root_cert_path=pki["ca"])
    with pytest.raises(ConnectionFailed, match=r"refused our credentials .*check the NVCF API key and function id") as e:
        bad.infer(speechlike(0.3), RunConfig())
    assert "wrong" not in str(e.value)
    assert get("nim", function_id="fn-1").target.url == "grpc.nvcf.nvidia.com:443"


def _start_serve(*extra):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.Popen(
        [sys.executable, "-m", "a2f_core", "serve", "--port", "0", "--backend", TINY, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    line = p.stdout.readline()
    m = re.search(r"on (127\.0\.0\.1:\d+)", line)
    assert m, line
    return p, m.group(1)


def test_serve_and_perf_from_the_command_line(tmp_path, capsys):
    p, address = _start_serve("--workers", "0", "--max-streams", "4")
    try:
        wav = tmp_path / "clip.wav"
        save_wav(wav, speechlike(1.0))
        rc = main([
            "perf", "--url", address, "--request-nb", "4", "--max-stream-nb", "2", "--audio", str(wav),
            "-o", str(tmp_path), "--jitter", "0.1", "--pause", "0",
        ])  # fmt: skip
        assert rc == 0, capsys.readouterr()
        out_dir = tmp_path / "performance_output_000001"
        names = sorted(f.name for f in out_dir.iterdir())
        assert names == [
            "fps_stream_2_request_4.txt", "latency_stream_2_request_4.txt", "stream_2_request_4.csv",
            "stream_2_request_4.png", "throughput_stream_2_request_4.txt",
        ]  # fmt: skip
        rows = list(csv.DictReader((out_dir / "stream_2_request_4.csv").open()))
        assert len(rows) == 1 and rows[0]["successful_requests"] == "4" and rows[0]["sample_rate"] == "16khz"
        assert float(rows[0]["1st packet percentile99 latency (ms)"]) > 0
        assert float(rows[0]["median fps"]) > 30
        assert (out_dir / "fps_stream_2_request_4.txt").read_text().startswith("percentile1 FPS: ")
        assert "99% of the requests have latency below" in (out_dir / "latency_stream_2_request_4.txt").read_text()
        assert "4 ok, 0 failed" in (out_dir / "throughput_stream_2_request_4.txt").read_text()
        assert (out_dir / "stream_2_request_4.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=15)
    assert p.returncode == 0
    assert "stopped after 4 stream(s)" in out
    assert len(re.findall(r"stream \d+ ipv4:127\.0\.0\.1:\d+: SUCCESS", out)) == 4  # one log line per stream


def test_serve_option_errors(capsys):
    assert main(["serve", "--secure-mode", "tls", "--port", "0"]) == 2
    assert "needs --cert and --key" in capsys.readouterr().err
    assert main(["serve", "--backend", "nope", "--port", "0", "--workers", "0"]) == 2
    assert "unknown backend 'nope'" in capsys.readouterr().err
    for flag, value, msg in [
        ("--min-audio-rate", "-1", "--min-audio-rate must be a number of 0 or more, not -1"),
        ("--receive-timeout", "nan", "--receive-timeout must be a number of 0 or more, not nan"),
        ("--idle-timeout", "0", "--idle-timeout must be a number above 0, not 0"),
    ]:
        assert main(["serve", flag, value, "--port", "0", "--workers", "0", "--backend", TINY]) == 2
        err = capsys.readouterr().err
        assert msg in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_perf_with_server_down_reports_failures(tmp_path, capsys):
    wav = tmp_path / "clip.wav"
    save_wav(wav, speechlike(0.5))
    rc = main(["perf", "--url", "127.0.0.1:1", "--request-nb", "2", "--max-stream-nb", "2", "--audio", str(wav),
               "-o", str(tmp_path), "--jitter", "0", "--pause", "0"])  # fmt: skip
    assert rc == 3
    out = capsys.readouterr().out
    assert "0 ok, 2 failed" in out and "connection refused" in out


def test_package_health_function_stays_callable_and_import_is_light():
    """The add-on calls a2f_core.nim.health(...); importing the package must not load gRPC."""
    code = (
        "import sys, a2f_core.nim as nim; assert 'grpc' not in sys.modules; "
        "from a2f_core.backends.nim import NimBackend; NimBackend(url='127.0.0.1:1', health_timeout=1).availability(); "
        "ok, msg = nim.health('127.0.0.1:1', timeout=1); assert not ok and 'refused' in msg, msg"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
