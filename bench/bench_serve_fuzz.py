"""`a2f serve` under hostile input (issue #13): malformed streams with valid ones interleaved, then the
server's memory at 10 maximum-size streams.

Run: .venv/bin/python bench/bench_serve_fuzz.py [--malformed 2100] [--valid-every 20] [--rss-streams 10]
     [--skip-fuzz] [--skip-rss] [--code DIR]   (about 8 min at load 5 on 2 cores; writes bench/results/)

Fuzz: a real `a2f serve --backend local` (default flags but --idle-timeout 3) on loopback; 6 client threads
send the malformed streams (seeded, 14 kinds: garbage and bit-flipped messages, bad values and names,
protocol misuse, memory bombs, clients that vanish, stop reading or trickle) and every N-th stream a valid
one (samples/hello.wav at a random rate), which must end with SUCCESS, the right frame count and its audio
echoed (it retries while the server answers RESOURCE_EXHAUSTED, as a client should). Counted: server
crashes (the process must be alive and its log free of tracebacks), non-finite weights or emotion values
in any answer, outcomes per kind.

RSS: a fresh server; N clients each send 299 s of speech at 144 kHz (86 MB of PCM, the per-clip and rate
limits) in 10 s messages as fast as loopback takes them, then read every frame. Peak RSS of the server
process (sampled every 0.1 s, and VmHWM) and of its worker processes.

Bounded: every call has a deadline; the fuzz sends a fixed number of streams; loopback only.
"""

from __future__ import annotations

import argparse
import collections
import math
import os
import random
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import grpc
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Report, add_results_args  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "nim"))
from rawclient import ld  # noqa: E402  (the tests' hand-built protobuf fields)

from a2f_core import audio as audio_mod  # noqa: E402
from a2f_core.clip import frame_count  # noqa: E402
from a2f_core.nim import wire  # noqa: E402

NAN, INF = math.nan, math.inf
RAW = wire.METHOD


# --- the server -------------------------------------------------------------------------------------
class Server:
    def __init__(self, code: Path, log: Path, *extra: str, env_extra: dict | None = None):
        env = dict(os.environ, PYTHONPATH=str(code), GRPC_VERBOSITY="NONE", **(env_extra or {}))
        cmd = [sys.executable, "-m", "a2f_core", "serve", "--port", "0", "--backend", "local", *extra]
        self.log = log
        self._err = log.open("w")
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._err, text=True, env=env, cwd=str(code))
        assert self.p.stdout is not None
        line = self.p.stdout.readline()
        m = re.search(r"on (127\.0\.0\.1:\d+)", line)
        if not m:
            raise SystemExit(f"server did not start: {line!r}; see {log}")
        self.address = m.group(1)
        threading.Thread(target=self.p.stdout.read, daemon=True).start()

    def alive(self) -> bool:
        return self.p.poll() is None

    def rss(self) -> tuple[float, float, float]:
        """(server VmRSS, server VmHWM, summed VmRSS of its child processes) in MB."""
        def status(pid: int) -> dict[str, float]:
            out = {}
            try:
                for ln in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if ln.startswith(("VmRSS:", "VmHWM:")):
                        out[ln.split(":")[0]] = int(ln.split()[1]) / 1024.0
            except OSError:
                pass
            return out

        me = status(self.p.pid)
        kids = 0.0
        for task in Path(f"/proc/{self.p.pid}/task").glob("*"):
            try:
                for pid in (task / "children").read_text().split():
                    kids += status(int(pid)).get("VmRSS", 0.0)
            except OSError:
                pass
        return me.get("VmRSS", 0.0), me.get("VmHWM", 0.0), kids

    def stop(self) -> int:
        self.p.terminate()
        try:
            rc = self.p.wait(30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait(10)
        self._err.close()
        return rc


# --- messages ---------------------------------------------------------------------------------------
def ser(m) -> bytes:
    return m.SerializeToString()


def header(rate=16000, channels=1, bits=16, fmt=0) -> wire.AudioStream:
    return wire.AudioStream(audio_stream_header=wire.AudioStreamHeader(audio_header=wire.AudioHeader(
        audio_format=fmt, samples_per_second=rate, channel_count=channels, bits_per_sample=bits)))


def audio_msg(pcm: bytes, emotions=()) -> wire.AudioStream:
    return wire.AudioStream(audio_with_emotion=wire.AudioWithEmotion(audio_buffer=pcm, emotions=list(emotions)))


EOA = ser(wire.AudioStream(end_of_audio=wire.AudioStream.EndOfAudio()))




class Speech:
    """samples/hello.wav as 16-bit PCM at any rate (cached)."""

    def __init__(self):
        self.a = audio_mod.load(ROOT / "samples" / "hello.wav", rate=16000)
        self._cache: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def pcm(self, rate: int) -> bytes:
        with self._lock:
            if rate not in self._cache:
                self._cache[rate] = self.a.resampled(rate).pcm16()
            return self._cache[rate]


RATES = [16000, 22050, 44100, 48000, 144000]
EMOTION_NAMES = ["amazement", "anger", "cheekiness", "disgust", "fear", "grief", "joy", "outofbreath", "pain", "sadness"]
BAD_FLOATS = [NAN, INF, -INF, 3e38, -3e38, 1e6]


def valid_stream(rng: random.Random, speech: Speech) -> tuple[list[bytes], int, bytes]:
    rate = rng.choice(RATES)
    pcm = speech.pcm(rate)
    step = rate * 2  # 1 s messages
    msgs = [ser(header(rate))]
    for i in range(0, len(pcm), step):
        emo = [wire.emotions_msg(i / step, {rng.choice(EMOTION_NAMES): rng.random()})] if rng.random() < 0.5 else []
        msgs.append(ser(audio_msg(pcm[i:i + step], emo)))
    return msgs + [EOA], rate, pcm


def malformed(kind: str, rng: random.Random, speech: Speech) -> dict:
    """One malformed stream: {'msgs': [bytes], plus 'mode': normal | vanish | stall | trickle}."""
    good, rate, pcm = valid_stream(rng, speech)
    case: dict = {"mode": "normal"}
    if kind == "garbage":
        msgs = list(good)
        msgs.insert(rng.randrange(len(msgs)), bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300))))
    elif kind == "bitflip-header":
        h = bytearray(ser(header(rate)) + ser(_bad_header_values(rng, valid=True)))
        for _ in range(rng.randint(1, 8)):
            h[rng.randrange(len(h))] ^= 1 << rng.randrange(8)
        msgs = [bytes(h)] + good[1:]
    elif kind == "truncated":
        k = rng.randrange(len(good) - 1)
        m = good[k]
        msgs = good[:k] + [m[: rng.randrange(1, max(2, len(m)))]] + good[k + 1:]
    elif kind == "bad-header-value":
        h = header(rate)
        h.audio_stream_header.MergeFrom(_bad_header_values(rng, valid=False).audio_stream_header)
        msgs = [ser(h)] + good[1:]
    elif kind == "bad-audio-format":
        field = rng.choice(["rate", "bits", "channels", "fmt"])
        kw = {"rate": rate}
        kw[field] = rng.choice({"rate": [0, 8000, 15999, 144001, 2**32 - 1], "bits": [0, 8, 24, 32],
                                "channels": [0, 2, 8], "fmt": [1, 2, 7]}[field])
        msgs = [ser(header(**kw))] + good[1:]
    elif kind == "bad-emotion":
        bad = rng.choice([
            (0.0, {"joy": rng.choice(BAD_FLOATS + [1.5, -0.5])}),
            (0.0, {rng.choice(["happy", "out_of_breath", "Joy", "", "x" * 500, "joy\n"]): 0.5}),
            (rng.choice([NAN, INF, -1.0, 1e9]), {"joy": 0.5}),
        ])
        m = audio_msg(pcm[: rate * 2], [wire.emotions_msg(*bad)])
        msgs = good[:1] + [ser(m)] + good[1:]
    elif kind == "protocol":
        msgs = rng.choice([
            good[1:],                                  # no header
            good[:1] + good[:1] + good[1:],            # two headers
            good[:1] + [b""] + good[1:],               # an empty message
            [EOA], [], good[:1] + [EOA],               # no header / nothing / no audio
            good[:1] + [ser(audio_msg(b"\0" * 3))] + good[1:],  # odd byte count
            good[:1] + [ser(audio_msg(bytes(11 * rate * 2)))] + good[1:],  # 11 s in one message
            good[:-1],                                 # no end_of_audio (client closes)
        ])
    elif kind == "too-long":
        sec = bytes(16000 * 2 * 10)
        msgs = [ser(header(16000))] + [ser(audio_msg(sec))] * 31 + [EOA]  # 310 s
    elif kind == "memory-bomb":
        msgs = good[:1] + [rng.choice([
            ld(2, b"\x12\x00" * 2_000_000),  # 4 MB of empty emotion entries
            ld(2, ld(1, bytes(rate * 2)) + ld(2, b"".join(ld(2, ld(1, b"e%06d" % i)) for i in range(60_000)))),
            ser(audio_msg(bytes(rate * 2), [wire.emotions_msg(i / 100, {"joy": 0.5}) for i in range(10_001)])),
        ])] + good[1:]
    elif kind == "vanish":
        msgs, case["mode"] = good, "vanish"
    elif kind == "stall":
        ten = (speech.pcm(144000) * 3)[: 144000 * 2 * 10]  # 10 s of speech: ~17 MB of answers for 60 s
        msgs, case["mode"] = [ser(header(144000))] + [ser(audio_msg(ten))] * 6 + [EOA], "stall"
    elif kind == "trickle":
        msgs, case["mode"] = good[:1], "trickle"
    else:
        raise ValueError(kind)
    case["msgs"] = msgs
    return case


def _bad_header_values(rng: random.Random, valid: bool) -> wire.AudioStream:
    h = wire.AudioStreamHeader()
    v = (lambda: rng.uniform(0.1, 1.0)) if valid else (lambda: rng.choice(BAD_FLOATS))
    what = rng.choice(["face", "face-name", "mult", "offset", "bs-name", "pp", "ltt", "begin", "begin-name"])
    if valid or what == "face":
        h.face_params.float_params["lowerFaceStrength"] = v() if valid else rng.choice(BAD_FLOATS + [2.5, -1.0])
    if valid or what == "mult":
        h.blendshape_params.bs_weight_multipliers["JawOpen"] = v()
    if valid or what == "offset":
        h.blendshape_params.bs_weight_offsets["MouthClose"] = v()
        h.blendshape_params.enable_clamping_bs_weight = rng.random() < 0.5
    if valid or what == "pp":
        h.emotion_post_processing_params.emotion_strength = v() if valid else rng.choice(BAD_FLOATS + [1.5])
    if valid or what == "ltt":
        h.emotion_params.live_transition_time = v() if valid else rng.choice([NAN, INF, 0.0, -1.0])
    if valid or what == "begin":
        h.emotion_params.beginning_emotion["joy"] = v() if valid else rng.choice(BAD_FLOATS + [2.0])
    if not valid and what == "face-name":
        h.face_params.float_params["lowerFaceStrenght"] = 1.0
    if not valid and what == "bs-name":
        h.blendshape_params.bs_weight_multipliers["JawOpn"] = 1.0
    if not valid and what == "begin-name":
        h.emotion_params.beginning_emotion["happiness"] = 0.5
    return wire.AudioStream(audio_stream_header=h)


KINDS = {  # kind -> weight
    "garbage": 12, "bitflip-header": 12, "truncated": 10, "bad-header-value": 16, "bad-audio-format": 8,
    "bad-emotion": 12, "protocol": 12, "too-long": 1, "memory-bomb": 2, "vanish": 4, "stall": 0.4,
    "trickle": 0.6,
}  # fmt: skip


# --- the client ---------------------------------------------------------------------------------------
class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.non_finite = 0
        self.frames = 0
        self.valid_ok = self.valid_bad = self.valid_retries = 0
        self.valid_wait_max = 0.0
        self.valid_problems: list[str] = []

    def add(self, kind: str, outcome: str) -> None:
        with self.lock:
            self.outcomes[kind][outcome] += 1


def finite_answer(r: wire.AnimationDataStream) -> bool:
    ad = r.animation_data
    if not all(math.isfinite(v) for bw in ad.skel_animation.blend_shape_weights for v in bw.values):
        return False
    if wire.EMOTION_AGGREGATE_KEY in ad.metadata:
        agg = wire.unpack_emotion_aggregate(ad.metadata[wire.EMOTION_AGGREGATE_KEY])
        if agg is not None:
            for e in list(agg.input_emotions) + list(agg.a2f_smoothed_output):
                if not (math.isfinite(e.time_code) and all(math.isfinite(v) for v in e.emotion.values())):
                    return False
    return True


def run_stream(ch: grpc.Channel, case: dict, tally: Tally, timeout: float = 60.0):
    """Send one stream; return (outcome, responses)."""
    rpc = ch.stream_stream(RAW, request_serializer=lambda b: b, response_deserializer=wire.AnimationDataStream.FromString)
    mode = case["mode"]
    stop = threading.Event()

    def gen():
        yield from case["msgs"]
        if mode == "trickle":
            for _ in range(40):  # 2 bytes per 0.5 s: never idle, far below any audio rate
                if stop.wait(0.5):
                    return
                yield ser(audio_msg(b"\0\0"))
        if mode in ("vanish", "stall"):
            stop.wait(timeout)

    out = []
    call = rpc(gen(), timeout=timeout)
    try:
        if mode == "stall":
            # never read: once its sends block, the server must cut the stream after its idle timeout (3 s);
            # that shows in its log ("cut: the client took no answer"), not here (gRPC reports the end of a
            # call only after its messages are read)
            time.sleep(25.0)
            call.cancel()
            return "stalled 25 s, then cancelled", out
        for r in call:
            out.append(r)
            if r.WhichOneof("stream_part") == "animation_data":
                with tally.lock:
                    tally.frames += 1
                    if not finite_answer(r):
                        tally.non_finite += 1
            if mode == "vanish" and r.WhichOneof("stream_part") == "animation_data_stream_header":
                call.cancel()
                return "vanished", out
    except grpc.RpcError as e:
        code = e.code()
        if mode == "vanish" and code == grpc.StatusCode.CANCELLED:
            return "vanished", out
        return f"rpc {code.name}", out
    finally:
        stop.set()
    st = [r.status for r in out if r.WhichOneof("stream_part") == "status"]
    if not st:
        return "no status", out
    return ("ERROR" if st[-1].code == wire.Status.ERROR else wire.STATUS_NAMES.get(st[-1].code, "?")), out


def run_valid(ch: grpc.Channel, rng: random.Random, speech: Speech, tally: Tally) -> None:
    msgs, rate, pcm = valid_stream(rng, speech)
    t0 = time.monotonic()
    while True:
        outcome, out = run_stream(ch, {"msgs": msgs, "mode": "normal"}, tally)
        if outcome == "rpc RESOURCE_EXHAUSTED" and time.monotonic() - t0 < 60:
            with tally.lock:
                tally.valid_retries += 1
            time.sleep(0.5)
            continue
        break
    frames = [r.animation_data for r in out if r.WhichOneof("stream_part") == "animation_data"]
    want = frame_count(len(pcm) / 2 / rate, 30.0)
    echo = b"".join(f.audio.audio_buffer for f in frames)
    ok = outcome == "SUCCESS" and len(frames) == want and echo == pcm
    with tally.lock:
        tally.valid_wait_max = max(tally.valid_wait_max, time.monotonic() - t0)
        if ok:
            tally.valid_ok += 1
        else:
            tally.valid_bad += 1
            tally.valid_problems.append(f"{outcome}, {len(frames)}/{want} frames at {rate} Hz, echo {echo == pcm}")


def fuzz(args, out_dir: Path) -> dict:
    speech = Speech()
    rng = random.Random(args.seed)
    names, weights = list(KINDS), list(KINDS.values())
    plan: list[tuple[str, int]] = []
    for i in range(args.malformed):
        plan.append((rng.choices(names, weights)[0], rng.getrandbits(32)))
        if (i + 1) % args.valid_every == 0:
            plan.append(("valid", rng.getrandbits(32)))
    srv = Server(Path(args.code), out_dir / "fuzz_server.log", "--idle-timeout", "3", "--max-streams", "10")
    tally = Tally()
    it = iter(plan)
    it_lock = threading.Lock()
    t0 = time.monotonic()

    def worker():
        with grpc.insecure_channel(srv.address, options=[("grpc.max_receive_message_length", 64 << 20)]) as ch:
            while True:
                with it_lock:
                    item = next(it, None)
                if item is None or time.monotonic() - t0 > args.max_seconds:
                    return
                kind, seed = item
                r = random.Random(seed)
                if kind == "valid":
                    run_valid(ch, r, speech, tally)
                else:
                    outcome, _ = run_stream(ch, malformed(kind, r, speech), tally)
                    tally.add(kind, outcome)

    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    alive = srv.alive()
    rss = srv.rss()
    rc = srv.stop()
    log = srv.log.read_text(errors="replace")
    return {
        "wall": wall, "alive": alive, "rc": rc, "rss": rss, "tally": tally,
        "sent": sum(sum(c.values()) for c in tally.outcomes.values()),
        "tracebacks": log.count("Traceback"),
        "log_stream_lines": len(re.findall(r"^\S+ \S+ stream \d+ ", log, re.M)),
        "log_lines": len(log.splitlines()),
        "server_outcomes": collections.Counter(
            "rejected (all busy)" if m.group(2).startswith("rejected") else re.split(r"[ ,;:]", m.group(2))[0]
            for m in re.finditer(r"^\S+ \S+ stream (\d+) [^ ]*:? ?(.*)$", log, re.M)
        ),
        "planned_valid": sum(1 for k, _ in plan if k == "valid"),
    }


# --- RSS at N maximum-size streams ----------------------------------------------------------------------
def rss_run(args, out_dir: Path, n: int) -> dict:
    speech = Speech()
    rate, seconds = 144000, 299.0
    one = speech.pcm(rate)
    reps = int(np.ceil(seconds * rate * 2 / len(one)))
    pcm = (one * reps)[: int(seconds * rate) * 2]
    chunk = rate * 2 * 10
    msgs = [ser(header(rate))] + [ser(audio_msg(pcm[i:i + chunk])) for i in range(0, len(pcm), chunk)] + [EOA]
    env_extra = dict(kv.split("=", 1) for kv in args.server_env)
    srv = Server(Path(args.code), out_dir / f"rss_server_{n}.log", "--max-streams", str(max(10, n)), env_extra=env_extra)
    base = srv.rss()
    peak = [0.0, 0.0, 0.0]  # server RSS, workers RSS, time of the server's peak
    done = threading.Event()
    t_start = time.monotonic()
    received: list[float] = []  # when each client had sent everything

    def sample():
        while not done.wait(0.1):
            r, _, k = srv.rss()
            if r > peak[0]:
                peak[0], peak[2] = r, time.monotonic() - t_start
            peak[1] = max(peak[1], k)

    threading.Thread(target=sample, daemon=True).start()
    tally = Tally()
    results: list[tuple[str, int]] = []
    t0 = time.monotonic()

    def sent_all():
        yield from msgs
        received.append(time.monotonic() - t_start)

    def client():
        with grpc.insecure_channel(srv.address) as ch:
            outcome, out = run_stream(ch, {"msgs": sent_all(), "mode": "normal"}, tally, timeout=args.rss_timeout)
            results.append((outcome, sum(1 for r in out if r.WhichOneof("stream_part") == "animation_data")))

    threads = [threading.Thread(target=client) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    done.set()
    _, hwm, _ = srv.rss()
    alive = srv.alive()
    srv.stop()
    return {"n": n, "base": base[0], "peak": peak[0], "hwm": hwm, "workers_peak": peak[1], "wall": wall,
            "results": results, "want_frames": frame_count(seconds, 30.0), "alive": alive,
            "non_finite": tally.non_finite, "peak_at": peak[2], "all_sent_at": max(received, default=0.0),
            "env": env_extra}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--malformed", type=int, default=2100)
    ap.add_argument("--valid-every", type=int, default=20)
    ap.add_argument("--clients", type=int, default=6)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--max-seconds", type=float, default=600.0, help="stop sending new streams after this")
    ap.add_argument("--rss-streams", type=int, nargs="+", default=[10])
    ap.add_argument("--rss-timeout", type=float, default=900.0)
    ap.add_argument("--server-env", nargs="*", default=[], help="KEY=VALUE for the RSS server's environment")
    ap.add_argument("--skip-fuzz", action="store_true")
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--code", default=str(ROOT), help="the source tree whose a2f serve runs (for before/after)")
    add_results_args(ap)
    args = ap.parse_args(argv)
    out_dir = ROOT / "out" / "bench_serve_fuzz"
    out_dir.mkdir(parents=True, exist_ok=True)
    with Report(__file__, "`a2f serve` under hostile input: malformed streams, memory at maximum-size streams",
                args) as rep:
        print(f"server code: {args.code}; server logs in out/bench_serve_fuzz/\n", flush=True)
        if not args.skip_fuzz:
            r = fuzz(args, out_dir)
            t: Tally = r["tally"]
            crashes = int(not r["alive"] or r["rc"] not in (0, -15))
            print(f"fuzz: {r['sent']} malformed streams + {t.valid_ok + t.valid_bad} valid in {r['wall']:.0f} s "
                  f"({args.clients} client threads, seed {args.seed}); load after: {os.getloadavg()[0]:.2f}\n")
            print("| what | count |")
            print("|---|---|")
            print(f"| server crashed (not alive at the end, or a bad exit code after SIGTERM) | {crashes} "
                  f"(exit code {r['rc']}) |")
            print(f"| tracebacks in the server log | {r['tracebacks']} |")
            print(f"| server log lines / of them per-stream lines | {r['log_lines']} / {r['log_stream_lines']} |")
            print(f"| frames received / with a non-finite weight or emotion value | {t.frames} / {t.non_finite} |")
            print(f"| valid streams served correctly / not (of {r['planned_valid']}) | {t.valid_ok} / {t.valid_bad} |")
            print(f"| valid streams' retries after RESOURCE_EXHAUSTED; longest wait | {t.valid_retries}; "
                  f"{t.valid_wait_max:.1f} s |")
            print(f"| server RSS at the end / its peak; worker processes | {r['rss'][0]:.0f} / {r['rss'][1]:.0f} MB; "
                  f"{r['rss'][2]:.0f} MB |")
            for p in t.valid_problems[:10]:
                print(f"\nvalid stream not ok: {p}")
            print("\nserver log, outcome of each stream: "
                  + ", ".join(f"{k} {v}" for k, v in r["server_outcomes"].most_common()))
            print("\n| kind | streams | client saw |")
            print("|---|---|---|")
            for kind in KINDS:
                c = t.outcomes.get(kind, {})
                print(f"| {kind} | {sum(c.values())} | " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) + " |")
            problems = crashes + r["tracebacks"] + t.non_finite + t.valid_bad
            rep.metric("fuzz_problems", problems, "",
                       "crashes + tracebacks + non-finite values sent + valid streams not served")
            rep.metric("fuzz_malformed", r["sent"], "streams", "malformed streams sent")
            rep.metric("fuzz_valid_ok", t.valid_ok, "streams", "valid streams interleaved, served correctly")
            rep.metric("fuzz_non_finite", t.non_finite, "frames", "frames with a non-finite value")
            rep.metric("fuzz_wall_s", round(r["wall"], 1), "s", "fuzz wall time")
        if not args.skip_rss:
            for n in args.rss_streams:
                r = rss_run(args, out_dir, n)
                ok = sum(1 for o, f in r["results"] if o == "SUCCESS" and f == r["want_frames"])
                per = (r["hwm"] - r["base"]) / n
                print(f"\nRSS, {n} stream(s) of 299 s at 144 kHz (86 MB of PCM each) in 10 s messages, sent as fast "
                      f"as loopback takes them: {ok}/{n} SUCCESS with all {r['want_frames']} frames in "
                      f"{r['wall']:.0f} s; load after {os.getloadavg()[0]:.2f}\n")
                print("| server process idle | peak (sampled every 0.1 s) | VmHWM | per stream | worker processes' "
                      "peak (summed) | non-finite values |")
                print("|---|---|---|---|---|---|")
                print(f"| {r['base']:.0f} MB | {r['peak']:.0f} MB at {r['peak_at']:.0f} s | {r['hwm']:.0f} MB | "
                      f"{per:.0f} MB | {r['workers_peak']:.0f} MB | {r['non_finite']} |")
                if r["env"]:
                    print(f"\nserver environment extra: {r['env']}")
                if ok != n:
                    print(f"\noutcomes: {collections.Counter(o for o, _ in r['results'])}")
                rep.metric(f"rss{n}_server_mb", round(r["hwm"]), "MB", f"server VmHWM at {n} streams of 299 s at 144 kHz")
                rep.metric(f"rss{n}_per_stream_mb", round(per), "MB", f"(VmHWM - idle) / {n}")
                rep.metric(f"rss{n}_workers_mb", round(r["workers_peak"]), "MB", "worker processes' peak RSS, summed")
                rep.metric(f"rss{n}_ok", ok, "streams", "streams served with every frame")
    return 0


if __name__ == "__main__":
    sys.exit(main())
