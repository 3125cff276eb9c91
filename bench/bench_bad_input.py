"""Bad and edge-case input, tried as a new user would (issue #13): `a2f infer`, bake.py and the add-on operators.

Every case is run for real: `a2f infer` and bake.py in fresh processes (the bpy module stands in for
`blender -b scene.blend -P bake.py`), the operators through bpy in one child process, NIM cases against a real
`a2f serve` on loopback. A full disk is a real kernel write failure: the process runs under a file-size limit
(RLIMIT_FSIZE with SIGXFSZ ignored), so writes past it fail half way with EFBIG exactly where ENOSPC would.

Each case expects either an error (exit code, one error line that contains the named words: the file, option or
value, and what to do) or an accept (exit 0 and a check of the result). It is counted as

  clear error | correct accept | traceback | unclear (wrong exit code, several or vague lines) |
  silent wrong (accepted where it should fail, a wrong result, or a failed operator that changed the scene)

and, separately, as a partial file when it left a temporary file or a truncated output behind.

    .venv/bin/python bench/bench_bad_input.py      # writes bench/results/bench_bad_input.md/.json (benchlib)
    .venv/bin/python bench/bench_bad_input.py --only "bake.py: --save"           # some cases, printed only
    A2F_SWEEP_CODE=/path/to/older/checkout .venv/bin/python bench/bench_bad_input.py --results /tmp/before
                                                   # the same cases against other code (e.g. `git archive` of main)
    A2F_SWEEP_BEFORE=/tmp/before.json .venv/bin/python bench/bench_bad_input.py   # and say how it compares
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(os.environ.get("A2F_SWEEP_CODE") or Path(__file__).resolve().parents[1]).resolve()  # the code tried
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
HELLO = ROOT / "samples" / "hello.wav"
TMP_PREFIX = ".a2f-tmp-"
ERROR_PREFIXES = ("a2f infer: error:", "a2f: error:", "bake.py:", "[FAILED]", "bake.py: error:")


@dataclass
class Case:
    group: str
    name: str
    args: list[str] = field(default_factory=list)
    expect: str = "error"  # error | accept
    code: int = 2
    words: tuple[str, ...] = ()
    check: Callable[[Path], str | None] | None = None  # accept: None if right, else what is wrong
    limit: int = 0  # RLIMIT_FSIZE bytes (a disk that fills up)
    failed_lines: int = 1  # error lines expected (a folder run names each failed file)
    make_dirs: tuple[str, ...] = ()  # folders created in the output folder first


@dataclass
class Outcome:
    group: str
    name: str
    verdict: str
    partial: bool
    detail: str = ""


# --- fixtures -------------------------------------------------------------------------------------------------
def make_fixtures(d: Path) -> None:
    import numpy as np
    import soundfile as sf

    x, sr = sf.read(HELLO, dtype="float32")
    d.mkdir(parents=True, exist_ok=True)
    shutil.copy(HELLO, d / "hello.wav")
    shutil.copy(HELLO.with_suffix(".txt"), d / "hello.txt")
    w = lambda name, data, rate=sr, subtype="PCM_16": sf.write(d / name, data, rate, subtype=subtype)  # noqa: E731
    w("silent.wav", np.zeros(sr, np.float32))
    w("short.wav", x[: int(0.04 * sr)])
    w("inverted.wav", np.stack([x, -x], axis=1))
    w("loud10.wav", 10 * x / np.abs(x).max(), subtype="FLOAT")
    w("loud1000.wav", 1000 * x / np.abs(x).max(), subtype="FLOAT")
    w("hot15.wav", 1.5 * x / np.abs(x).max(), subtype="FLOAT")
    nan = x.copy()
    nan[100] = np.nan
    w("nan.wav", nan, subtype="FLOAT")
    inf = x.copy()
    inf[100] = np.inf
    w("inf.wav", inf, subtype="FLOAT")
    w("stereo.wav", np.stack([x, 0.5 * x], axis=1))
    w("six.wav", np.stack([x] * 6, axis=1))
    w("pcm8.wav", x, subtype="PCM_U8")
    w("pcm24.wav", x, subtype="PCM_24")
    w("pcm32.wav", x, subtype="PCM_32")
    w("float.wav", x, subtype="FLOAT")
    sf.write(d / "flac.flac", x, sr, subtype="PCM_16")
    sf.write(d / "ogg.ogg", x, sr, subtype="VORBIS")
    import soxr

    sf.write(d / "r8k.wav", soxr.resample(x, sr, 8000), 8000)
    sf.write(d / "r96k.wav", soxr.resample(x, sr, 96000), 96000)
    (d / "empty.wav").write_bytes(b"")
    (d / "text.wav").write_text("this is not audio\n")
    data = (d / "hello.wav").read_bytes()
    (d / "truncated.wav").write_bytes(data[:30])
    (d / "image.wav").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 200)
    (d / "song.m4a").write_bytes(b"\0\0\0\x18ftypM4A " + b"\0" * 100)
    (d / "noext").write_bytes(data)
    for sub in ("emptydir", "folder"):
        (d / sub).mkdir(exist_ok=True)
    batch = d / "batch"
    batch.mkdir(exist_ok=True)
    shutil.copy(HELLO, batch / "a.wav")
    shutil.copy(HELLO.with_suffix(".txt"), batch / "a.txt")
    shutil.copy(HELLO, batch / "c.wav")
    shutil.copy(HELLO.with_suffix(".txt"), batch / "c.txt")
    (batch / "b.wav").write_text("broken")
    good = d / "good"
    good.mkdir(exist_ok=True)
    for n in ("a", "b"):
        shutil.copy(HELLO, good / f"{n}.wav")
        shutil.copy(HELLO.with_suffix(".txt"), good / f"{n}.txt")
    (d / "latin1.txt").write_bytes("Bob made a movie \xe0 Rome".encode("latin-1"))
    (d / "blank.txt").write_text("   \n")
    (d / "afile").write_text("a file where a folder belongs")
    # scripts
    (d / "script_ok.csv").write_text("file,text\nhello.wav,hello\n")
    (d / "script_nohdr.csv").write_text("a,b,c\n1,2,3\n")
    (d / "script_dup.csv").write_text("file,text\nhello,one\nhello,two\n")
    (d / "script_empty.csv").write_text("")
    (d / "script_latin1.csv").write_bytes("file,text\nhello,\xe0 Rome\n".encode("latin-1"))
    # presets
    claire = (ROOT / "presets" / "characters" / "claire.yaml").read_text()
    (d / "mine.yaml").write_text(claire)
    (d / "range.yaml").write_text(claire.replace("lowerFaceStrength: 1.0", "lowerFaceStrength: 3.5")
                                  if "lowerFaceStrength: 1.0" in claire else "face_parameters:\n  lowerFaceStrength: 3.5\n")
    (d / "unknown_key.yaml").write_text("face_parameters:\n  lowerFaceStrenght: 1.0\n")
    (d / "syntax.yaml").write_text("face_parameters:\n  lowerFaceStrength: [1.0\n")
    (d / "emptyy.yaml").write_text("")
    (d / "dupkey.yaml").write_text("face_parameters:\n  skinStrength: 1.0\n  skinStrength: 0.5\n")
    (d / "latin1.yaml").write_bytes("face_parameters: {}\n# \xe0\n".encode("latin-1"))
    (d / "list.yaml").write_text("- a\n- b\n")
    # rig mappings
    (d / "rig_ok.yaml").write_text("map:\n  jawOpen: jawOpen\n")
    (d / "rig_syntax.yaml").write_text("map:\n  jawOpen: [a, b\n")
    (d / "rig_list.yaml").write_text("map: [jawOpen, mouthClose]\n")
    (d / "rig_unknown.yaml").write_text("mapp: {}\n")
    (d / "rig_dup.yaml").write_text("map:\n  a: jawOpen\n  a: mouthClose\n")
    (d / "rig_tab.yaml").write_text("map:\n\tjawOpen: jaw\n")
    (d / "rig_weight.yaml").write_text("map:\n  jawOpen: {jawOpen: heavy}\n")
    # clips
    from a2f_core.clip import Clip
    from a2f_core.formats import write_animation_csv, write_omniverse_json
    from a2f_core.names import ARKIT_52

    n = 90
    t = np.arange(n) / 60.0
    wts = (0.5 + 0.5 * np.sin(t[:, None] * np.arange(1, 53)[None, :])).astype(np.float32)
    clip = Clip(list(ARKIT_52), t, wts, 60.0)
    write_animation_csv(d / "animation_frames.csv", clip)
    write_omniverse_json(d / "omni.json", clip)
    (d / "clip_text.csv").write_text("hello, world\n")
    (d / "clip_headeronly.csv").write_text(",timeCode,blendShapes.JawOpen\n")
    (d / "clip_nan.csv").write_text(",timeCode,blendShapes.JawOpen\n0,0.0,nan\n1,0.1,0.2\n")
    (d / "clip_backwards.csv").write_text(",timeCode,blendShapes.JawOpen\n0,0.1,0.1\n1,0.0,0.2\n")
    (d / "emotions.csv").write_text(",time_code,emotion_values.joy\n0,0.0,1.0\n")
    (d / "clip_bad.json").write_text("{not json")
    (d / "clip_wrong.json").write_text('{"exportFps": 60, "facsNames": ["jawOpen"], "weightMat": [[0.1, 0.2]]}')
    (d / "clip.txt").write_text("no")
    # certificates
    sys.path.insert(0, str(ROOT / "tests" / "nim"))
    from certs import make_pki

    pki = make_pki(d / "pki")
    (d / "garbage.crt").write_text("garbage\n")
    (d / "empty.crt").write_bytes(b"")
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(Path(pki["ca"]).read_bytes())
    (d / "ca.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (d / "pki.json").write_text(json.dumps(pki))


# --- checks of written files: complete, or a partial file ----------------------------------------------------
def complete(p: Path) -> str | None:
    """None when ``p`` is a complete file of its type, else why not."""
    ext = p.suffix.lower()
    try:
        if p.name.startswith(TMP_PREFIX):
            return "temporary file left behind"
        if ext == ".csv" and p.name.startswith("animation_frames"):
            from a2f_core.formats import read_animation_csv

            read_animation_csv(p)
        elif ext == ".csv" and "emotion" in p.name:
            text = p.read_text()
            if not text.endswith("\n"):
                return "CSV does not end with a line end"
        elif ext == ".wav":
            import soundfile as sf

            info = sf.info(str(p))
            if p.stat().st_size < 44 + info.frames * 2:
                return "WAV shorter than its header says"
        elif ext == ".png":
            if not p.read_bytes().endswith(b"IEND\xaeB`\x82"):
                return "PNG without its end chunk"
        elif ext == ".glb":
            data = p.read_bytes()
            if data[:4] != b"glTF" or int.from_bytes(data[8:12], "little") != len(data):
                return "GLB length does not match"
        elif ext == ".json" or ext == ".gltf":
            json.loads(p.read_text())
        elif ext == ".blend":
            data = p.read_bytes()
            if data[:7] == b"BLENDER" and b"ENDB" not in data[-64:]:
                return "blend file without its end block"
        elif ext == ".fbx":
            if not p.read_bytes().startswith(b"Kaydara FBX Binary"):
                return "not an FBX file"
    except Exception as e:  # noqa: BLE001 - any failure to read it back means the file is broken
        return f"cannot be read back ({type(e).__name__}: {str(e)[:80]})"
    return None


def scan_partial(folder: Path, temporaries_only: bool = False) -> str | None:
    for p in sorted(folder.rglob("*")):
        if temporaries_only and not p.name.startswith(TMP_PREFIX):
            continue
        if p.is_file() and (p.name.startswith(TMP_PREFIX) or any(q.name.startswith(TMP_PREFIX) for q in p.parents)):
            return f"{p.relative_to(folder)}: temporary file left behind"
        if p.is_file() and p.suffix.lower() in (".csv", ".wav", ".png", ".glb", ".gltf", ".json", ".blend", ".fbx"):
            why = complete(p)
            if why:
                return f"{p.relative_to(folder)}: {why}"
    return None


# --- running a case ---------------------------------------------------------------------------------------------
def _limit(nbytes: int):
    def pre() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return pre


def judge(c: Case, rc: int, out: str, err: str) -> tuple[str, str]:
    text = out + err
    if "Traceback (most recent call last)" in text:
        return "traceback", err.strip().splitlines()[-1][:160] if err.strip() else ""
    lines = [ln.strip() for ln in err.splitlines() if ln.strip().startswith(ERROR_PREFIXES)]
    if c.expect == "accept":
        if rc != 0:
            return "unclear", f"exit {rc} where it should bake: {(lines or [err.strip()[-160:]])[-1]}"
        return "accept", ""
    if rc == 0:
        return "silent wrong", "exit 0 where an error was expected"
    detail = (lines or [err.strip()[-160:]])[-1][:200]
    if rc != c.code:
        return "unclear", f"exit {rc}, expected {c.code}: {detail}"
    if len(lines) != c.failed_lines:
        return "unclear", f"{len(lines)} error lines, expected {c.failed_lines}: {detail}"
    missing = [w for w in c.words if not any(w.lower() in ln.lower() for ln in lines)]
    if missing:
        return "unclear", f"does not say {missing}: {detail}"
    return "error", detail


def run_cli(c: Case, cmd: list[str], work: Path) -> Outcome:
    out_dir = work / "out"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir()
    for sub in c.make_dirs:
        (out_dir / sub).mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRPC_VERBOSITY="NONE")
    args = [a.replace("{d}", str(work / "fx")).replace("{out}", str(out_dir)) for a in cmd]
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=out_dir, env=env,
                           preexec_fn=_limit(c.limit) if c.limit else None)
        rc, so, se = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired:
        return Outcome(c.group, c.name, "unclear", False, "timed out after 300 s")
    verdict, detail = judge(c, rc, so, se)
    if verdict == "accept" and c.check is not None:
        problem = c.check(out_dir)
        if problem:
            verdict, detail = "silent wrong", problem
    partial = scan_partial(out_dir) or scan_partial(work / "fx", temporaries_only=True)  # fixtures are broken on purpose
    return Outcome(c.group, c.name, verdict, partial is not None, partial or detail)


# --- a2f infer cases --------------------------------------------------------------------------------------------
def has(*names: str) -> Callable[[Path], str | None]:
    def check(out: Path) -> str | None:
        for n in names:
            hits = list(out.rglob(n))
            if not hits:
                return f"{n} was not written"
        return None
    return check


def infer_cases(port: int) -> list[Case]:
    d = "{d}"
    C = lambda name, args, **k: Case("a2f infer", name, ["infer", *args], **k)  # noqa: E731
    H = f"{d}/hello.wav"
    cases = [
        # audio
        C("missing audio file", [f"{d}/nope.wav"], words=("nope.wav", "no such audio file")),
        C("empty file", [f"{d}/empty.wav"], words=("empty.wav", "cannot read")),
        C("text as .wav", [f"{d}/text.wav"], words=("text.wav", "cannot read", "WAV")),
        C("truncated header", [f"{d}/truncated.wav"], words=("truncated.wav",)),
        C("PNG as .wav", [f"{d}/image.wav"], words=("image.wav", "cannot read")),
        C("m4a", [f"{d}/song.m4a"], words=("song.m4a", "ffmpeg")),
        C("no extension, real WAV", [f"{d}/noext", "-o", "{out}/o"], expect="accept", check=has("animation_frames.csv")),
        C("digital silence", [f"{d}/silent.wav"], words=("silent.wav", "digital silence")),
        C("40 ms of audio", [f"{d}/short.wav"], words=("short.wav", "ms of audio")),
        C("stereo channels cancel", [f"{d}/inverted.wav"], words=("inverted.wav", "cancel", "polarity")),
        C("float 10x full scale", [f"{d}/loud10.wav"], words=("loud10.wav", "above full scale", "normalise")),
        C("float 1000x full scale", [f"{d}/loud1000.wav"], words=("loud1000.wav", "above full scale")),
        C("float 1.5x full scale", [f"{d}/hot15.wav", "-o", "{out}/o"], expect="accept", check=has("out.wav")),
        C("NaN sample", [f"{d}/nan.wav"], words=("nan.wav", "NaN")),
        C("infinite sample", [f"{d}/inf.wav"], words=("inf.wav", "infinite")),
        C("a folder with no audio", [f"{d}/emptydir"], words=("emptydir", "no audio files")),
        C("longer than --max-seconds", [H, "--max-seconds", "1"], words=("hello.wav", "--max-seconds")),
        C("--max-seconds 0", [H, "--max-seconds", "0"], words=("--max-seconds",)),
        C("--max-seconds -5", [H, "--max-seconds", "-5"], words=("--max-seconds",)),
        C("--max-seconds abc", [H, "--max-seconds", "abc"], words=("--max-seconds", "abc")),
    ]
    for f in ("stereo.wav", "six.wav", "pcm8.wav", "pcm24.wav", "pcm32.wav", "float.wav", "flac.flac", "ogg.ogg",
              "r8k.wav", "r96k.wav"):
        cases.append(C(f"accepts {f}", [f"{d}/{f}", "-o", "{out}/o"], expect="accept",
                       check=has("animation_frames.csv", "out.wav")))
    cases += [
        # output folder
        C("-o is a file", [H, "-o", f"{d}/afile"], words=("afile", "is a file, not a folder", "-o")),
        C("-o inside a file", [H, "-o", f"{d}/afile/sub"], words=("afile", "is a file")),
        C("-o unwritable (/sys)", [H, "-o", "/sys"], words=("/sys", "cannot write here")),
        C("-o under /proc", [H, "-o", "/proc/a2f-out"], words=("/proc/a2f-out", "-o")),
        C("-o /dev/full", [H, "-o", "/dev/full"], words=("/dev/full", "not a folder")),
        C("-o new nested folder", [H, "-o", "{out}/a/b/c"], expect="accept", check=has("animation_frames.csv")),
        C("default output_NNNNNN", [H], expect="accept", check=has("output_000001")),
        C("full disk at the CSV", [H, "-o", "{out}/o"], words=("animation_frames.csv", "File too large"), limit=30_000),
        C("full disk at out.wav", [H, "-o", "{out}/o", "--fps", "1"], words=("out.wav", "File too large"), limit=60_000),
        C("full disk at curves.png", [H, "-o", "{out}/o", "--plot", "--skip-print-to-files"],
          words=("curves.png", "File too large"), limit=20_000),
        C("--plot", [H, "-o", "{out}/o", "--plot"], expect="accept", check=has("curves.png")),
        C("--skip-print-to-files", [H, "--skip-print-to-files"], expect="accept"),
        # transcript, script
        C("--transcript missing .txt", [H, "--transcript", f"{d}/nope.txt"], words=("nope.txt", "no such transcript")),
        C("--transcript a folder", [H, "--transcript", f"{d}/folder"], words=("folder", "is a folder")),
        C("--transcript a folder/", [H, "--transcript", f"{d}/folder/"], words=("folder", "is a folder")),
        C("--transcript not UTF-8", [H, "--transcript", f"{d}/latin1.txt"], words=("latin1.txt", "UTF-8")),
        C("--transcript blank file", [H, "--transcript", f"{d}/blank.txt", "-o", "{out}/o"], expect="accept"),
        C("--transcript words", [H, "--transcript", "hello there", "-o", "{out}/o"], expect="accept"),
        C("--transcript for a folder", [f"{d}/good", "--transcript", "x"], words=("--transcript", "--script")),
        C("--script and --transcript", [H, "--script", f"{d}/script_ok.csv", "--transcript", "x"],
          words=("--script",)),
        C("--script missing", [H, "--script", f"{d}/nope.csv"], words=("nope.csv", "no such script")),
        C("--script a folder", [H, "--script", f"{d}/folder"], words=("folder", "is a folder")),
        C("--script no usable header", [H, "--script", f"{d}/script_nohdr.csv"], words=("script_nohdr.csv", "column")),
        C("--script duplicate rows", [H, "--script", f"{d}/script_dup.csv"], words=("script_dup.csv", "twice")),
        C("--script empty", [H, "--script", f"{d}/script_empty.csv"], words=("script_empty.csv", "no lines")),
        C("--script not UTF-8", [H, "--script", f"{d}/script_latin1.csv"], words=("script_latin1.csv", "UTF-8")),
        C("--script ok", [H, "--script", f"{d}/script_ok.csv", "-o", "{out}/o"], expect="accept"),
        # presets, emotions, numbers
        C("--preset unknown", [H, "--preset", "bob"], words=("bob", "claire")),
        C("--preset missing file", [H, "--preset", f"{d}/nope.yaml"], words=("nope.yaml", "no such preset")),
        C("--preset a folder", [H, "--preset", f"{d}/folder"], words=("folder", "is a folder")),
        C("--preset out of range", [H, "--preset", f"{d}/range.yaml"], words=("range.yaml", "lowerFaceStrength")),
        C("--preset unknown key", [H, "--preset", f"{d}/unknown_key.yaml"], words=("unknown_key.yaml", "did you mean")),
        C("--preset YAML syntax", [H, "--preset", f"{d}/syntax.yaml"], words=("syntax.yaml", "line")),
        C("--preset empty", [H, "--preset", f"{d}/emptyy.yaml"], words=("emptyy.yaml", "empty")),
        C("--preset duplicate key", [H, "--preset", f"{d}/dupkey.yaml"], words=("dupkey.yaml", "twice")),
        C("--preset not UTF-8", [H, "--preset", f"{d}/latin1.yaml"], words=("latin1.yaml",)),
        C("--preset a list", [H, "--preset", f"{d}/list.yaml"], words=("list.yaml",)),
        C("--preset own copy", [H, "--preset", f"{d}/mine.yaml", "-o", "{out}/o"], expect="accept"),
        C("--emotion unknown", [H, "--emotion", "happy"], words=("happy", "joy")),
        C("--emotion-strength alone", [H, "--emotion-strength", "0.5"], words=("--emotion",)),
        C("--emotion-strength 2", [H, "--emotion", "joy", "--emotion-strength", "2"], words=("strength",)),
        C("--emotion-strength -1", [H, "--emotion", "joy", "--emotion-strength", "-1"], words=("strength",)),
        C("--emotion joy 0.5", [H, "--emotion", "joy", "--emotion-strength", "0.5", "-o", "{out}/o"], expect="accept"),
        C("--fps 0", [H, "--fps", "0"], words=("--fps",)),
        C("--fps -30", [H, "--fps", "-30"], words=("--fps",)),
        C("--fps 5000", [H, "--fps", "5000"], words=("--fps",)),
        C("--fps nan", [H, "--fps", "nan"], words=("--fps",)),
        C("--fps abc", [H, "--fps", "abc"], words=("--fps",)),
        C("--fps 24", [H, "--fps", "24", "-o", "{out}/o"], expect="accept", check=has("animation_frames.csv")),
        C("--jobs 0", [f"{d}/good", "--jobs", "0"], words=("--jobs",)),
        C("--jobs -1", [f"{d}/good", "--jobs", "-1"], words=("--jobs",)),
        C("--jobs x", [f"{d}/good", "--jobs", "x"], words=("--jobs",)),
        C("folder, --jobs 2", [f"{d}/good", "--jobs", "2", "-o", "{out}/o"], expect="accept",
          check=has("a/animation_frames.csv", "b/animation_frames.csv")),
        C("folder with one broken file", [f"{d}/batch", "-o", "{out}/o"], words=("b.wav",), failed_lines=1),
        C("--backend bogus", [H, "--backend", "bogus"], words=("--backend", "bogus")),
        C("--quality bogus", [H, "--quality", "great"], words=("--quality",)),
        C("sdk without a binding", [H, "--backend", "sdk", "--binding-path", f"{d}/folder"], words=("sdk",)),
        # NIM addresses and certificates
    ]
    N = lambda name, args, **k: C(name, [H, "--backend", "nim", "--skip-print-to-files", *args], **k)  # noqa: E731
    for url, words in (("127.0.0.1:99999", "port 99999 is out of range"), ("127.0.0.1:0", "port 0"),
                       ("127.0.0.1:notaport", "'notaport' is not a port"), ("127.0.0.1:", "is not a port"),
                       ("127.0.0.1:-5", "is not a port"), (":52000", "names no host"),
                       ("[::1]:70000", "port 70000"), ("[::1", "[IPv6]:PORT"), ("h1:1,h2:x", "'x' is not a port"),
                       ("ipv4:127.0.0.1:65536", "port 65536"), ("grpc://127.0.0.1:52000", "unknown scheme"),
                       ("127.0.0.1 52000", "not a server address"), ("dns:///localhost:999999", "port 999999")):
        cases.append(N(f"--url {url}", ["--url", url], words=(words,)))
    pki = "{d}/pki"
    cases += [
        N("nothing listening", ["--url", f"127.0.0.1:{free_port()}"], code=3, words=("connection refused",)),
        N("unknown host", ["--url", "no-such-host.invalid:52000"], code=3, words=("no-such-host.invalid",)),
        N("TLS CA garbage", ["--url", f"127.0.0.1:{port}", "--secure-mode", "tls", "--root-cert-path",
                             f"{d}/garbage.crt"], words=("garbage.crt", "not a PEM certificate")),
        N("TLS CA empty", ["--url", f"127.0.0.1:{port}", "--secure-mode", "tls", "--root-cert-path",
                           f"{d}/empty.crt"], words=("empty.crt", "not a PEM")),
        N("TLS CA in DER", ["--url", f"127.0.0.1:{port}", "--secure-mode", "tls", "--root-cert-path",
                            f"{d}/ca.der"], words=("ca.der", "openssl x509 -inform der")),
        N("TLS CA missing", ["--url", f"127.0.0.1:{port}", "--secure-mode", "tls", "--root-cert-path",
                             f"{d}/nope.crt"], words=("nope.crt", "cannot be read")),
        N("TLS CA is a folder", ["--url", f"127.0.0.1:{port}", "--secure-mode", "tls", "--root-cert-path",
                                 f"{d}/folder"], words=("folder", "root certificate")),
        N("TLS CA is a key", ["--url", f"127.0.0.1:{port}", "--secure-mode", "tls", "--root-cert-path",
                              f"{pki}/client.key"], words=("client.key", "not a PEM certificate")),
        N("mTLS without client cert", ["--url", f"127.0.0.1:{port}", "--secure-mode", "mtls"],
          words=("--client-cert-path",)),
        N("mTLS cert and key mismatch", ["--url", f"127.0.0.1:{port}", "--secure-mode", "mtls", "--root-cert-path",
                                         f"{pki}/ca.crt", "--client-cert-path", f"{pki}/client.crt",
                                         "--client-key-path", f"{pki}/other_client.key"], words=("key values mismatch",)),
        N("mTLS key is garbage", ["--url", f"127.0.0.1:{port}", "--secure-mode", "mtls", "--root-cert-path",
                                  f"{pki}/ca.crt", "--client-cert-path", f"{pki}/client.crt",
                                  "--client-key-path", f"{d}/garbage.crt"], words=("garbage.crt", "client")),
        N("--secure-mode bogus", ["--url", f"127.0.0.1:{port}", "--secure-mode", "ssl"], words=("--secure-mode",)),
        N("TLS to a plaintext server", ["--url", f"127.0.0.1:{port}", "--secure-mode", "tls", "--root-cert-path",
                                        f"{pki}/ca.crt"], code=3, words=(f"127.0.0.1:{port}",)),
        N("real server, plain", ["--url", f"127.0.0.1:{port}"], expect="accept"),
        N("real server, http:// prefix", ["--url", f"http://127.0.0.1:{port}"], expect="accept"),
    ]
    return [Case(c.group, c.name, [sys.executable, "-m", "a2f_core.cli.main", *c.args], c.expect, c.code, c.words,
                 c.check, c.limit, c.failed_lines, c.make_dirs) for c in cases]


# --- bake.py cases ----------------------------------------------------------------------------------------------
def bake_cases(port: int) -> list[Case]:
    d = "{d}"
    H = f"{d}/hello.wav"
    S = f"{d}/scene.blend"

    def B(name, args, scene=S, **k):
        return Case("bake.py", name, [sys.executable, str(ROOT / "bake.py"), scene, "--", *args], **k)

    def F(name, args, **k):  # a bake of hello.wav onto Face
        return B(name, ["--audio", H, "--object", "Face", "--no-sound", *args], **k)

    def saved(*names):
        def check(out: Path) -> str | None:
            for n in names:
                if not (out / n).is_file():
                    return f"{n} was not written"
                why = complete(out / n)
                if why:
                    return f"{n}: {why}"
            return None
        return check

    cases = [
        B("scene missing", ["--audio", H, "--object", "Face"], scene=f"{d}/nope.blend", words=("nope.blend", "no such scene")),
        B("scene is a text file", ["--audio", H, "--object", "Face"], scene=f"{d}/hello.txt", words=("hello.txt", ".blend")),
        B("scene is not a blend", ["--audio", H, "--object", "Face"], scene=f"{d}/fake.blend", words=("fake.blend", "cannot open")),
        B("scene is a folder", ["--audio", H, "--object", "Face"], scene=f"{d}/folder.blend", words=("folder.blend", "folder")),
        B("no --object", ["--audio", H], words=("--object",)),
        B("no --audio or --clip", ["--object", "Face"], words=("--audio", "--clip")),
        F("object missing", ["--object", "Nope"], words=("Nope", "no object named")),
        B("object is a camera", ["--audio", H, "--object", "Cam", "--no-sound"], words=("Cam", "not a mesh")),
        B("mesh without shape keys", ["--audio", H, "--object", "Plain", "--no-sound"], words=("Plain", "no shape keys")),
        B("audio missing", ["--audio", f"{d}/nope.wav", "--object", "Face"], words=("nope.wav", "no such audio")),
        B("audio folder without audio", ["--audio", f"{d}/emptydir", "--object", "Face"], words=("emptydir", "no audio")),
        B("audio is text", ["--audio", f"{d}/text.wav", "--object", "Face"], words=("text.wav", "cannot read")),
        B("audio silent", ["--audio", f"{d}/silent.wav", "--object", "Face"], words=("silent.wav", "silence")),
        B("audio 40 ms", ["--audio", f"{d}/short.wav", "--object", "Face"], words=("short.wav", "ms of audio")),
        B("audio channels cancel", ["--audio", f"{d}/inverted.wav", "--object", "Face"], words=("inverted.wav", "cancel")),
        B("audio far above full scale", ["--audio", f"{d}/loud10.wav", "--object", "Face"], words=("loud10.wav", "full scale")),
        F("over --max-seconds", ["--max-seconds", "1"], words=("hello.wav", "--max-seconds")),
        F("--max-seconds 0", ["--max-seconds", "0"], words=("--max-seconds",)),
        F("--max-seconds raised", ["--max-seconds", "5", "--save", "{out}/x.blend"], expect="accept", check=saved("x.blend")),
        B("clip missing", ["--clip", f"{d}/nope.csv", "--object", "Face"], words=("nope.csv", "no such animation")),
        B("clip is text", ["--clip", f"{d}/clip_text.csv", "--object", "Face"], words=("clip_text.csv", "timeCode")),
        B("clip header only", ["--clip", f"{d}/clip_headeronly.csv", "--object", "Face"], words=("clip_headeronly.csv", "no animation frames")),
        B("clip with NaN", ["--clip", f"{d}/clip_nan.csv", "--object", "Face"], words=("clip_nan.csv", "line 2")),
        B("clip times backwards", ["--clip", f"{d}/clip_backwards.csv", "--object", "Face"], words=("clip_backwards.csv", "time order")),
        B("clip is an emotion CSV", ["--clip", f"{d}/emotions.csv", "--object", "Face"], words=("emotions.csv", "emotion CSV")),
        B("clip JSON broken", ["--clip", f"{d}/clip_bad.json", "--object", "Face"], words=("clip_bad.json",)),
        B("clip JSON wrong shape", ["--clip", f"{d}/clip_wrong.json", "--object", "Face"], words=("clip_wrong.json", "weightMat")),
        B("clip .txt", ["--clip", f"{d}/clip.txt", "--object", "Face"], words=("clip.txt", ".csv")),
        B("clip ok, export and save", ["--clip", f"{d}/animation_frames.csv", "--object", "Face", "--export",
                                       "{out}/f.glb", "--save", "{out}/s.blend"], expect="accept", check=saved("f.glb", "s.blend")),
        B("clip ok, FBX and glTF", ["--clip", f"{d}/omni.json", "--object", "Face", "--export", "{out}/f.gltf"],
          expect="accept", check=saved("f.gltf", "f.bin")),
        F("--transcript missing .txt", ["--transcript", f"{d}/nope.txt"], words=("nope.txt", "no such transcript")),
        F("--transcript a folder", ["--transcript", f"{d}/folder/"], words=("folder", "is a folder")),
        F("--transcript not UTF-8", ["--transcript", f"{d}/latin1.txt"], words=("latin1.txt", "UTF-8")),
        F("--script missing", ["--script", f"{d}/nope.csv"], words=("nope.csv", "no such script")),
        F("--script a folder", ["--script", f"{d}/folder"], words=("folder", "is a folder")),
        F("--script duplicate rows", ["--script", f"{d}/script_dup.csv"], words=("script_dup.csv", "twice")),
        F("--script and --transcript", ["--script", f"{d}/script_ok.csv", "--transcript", "x"], words=("--script",)),
        F("--preset unknown", ["--preset", "bob"], words=("bob", "claire")),
        F("--preset a folder", ["--preset", f"{d}/folder"], words=("folder", "is a folder")),
        F("--preset out of range", ["--preset", f"{d}/range.yaml"], words=("range.yaml", "lowerFaceStrength")),
        F("--emotion unknown", ["--emotion", "happy"], words=("happy",)),
        F("--mapping unknown", ["--mapping", "bob"], words=("bob", "arkit")),
        F("--mapping a folder", ["--mapping", f"{d}/folder"], words=("folder", "is a folder")),
        F("--mapping missing file", ["--mapping", f"{d}/nope.yaml"], words=("nope.yaml", "no such")),
        F("--mapping YAML syntax", ["--mapping", f"{d}/rig_syntax.yaml"], words=("rig_syntax.yaml", "line 3")),
        F("--mapping map is a list", ["--mapping", f"{d}/rig_list.yaml"], words=("rig_list.yaml", "'map' must be")),
        F("--mapping unknown key", ["--mapping", f"{d}/rig_unknown.yaml"], words=("rig_unknown.yaml", "mapp")),
        F("--mapping duplicate key", ["--mapping", f"{d}/rig_dup.yaml"], words=("rig_dup.yaml", "twice")),
        F("--mapping tab indent", ["--mapping", f"{d}/rig_tab.yaml"], words=("rig_tab.yaml", "line")),
        F("--mapping weight not a number", ["--mapping", f"{d}/rig_weight.yaml"], words=("rig_weight.yaml", "number")),
        F("--mapping own YAML", ["--mapping", f"{d}/rig_ok.yaml"], expect="accept"),
        F("--backend bogus", ["--backend", "bogus"], words=("bogus", "local")),
        F("--jobs 0", ["--jobs", "0"], words=("--jobs 0",)),
        F("--jobs -1", ["--jobs", "-1"], words=("--jobs -1",)),
        F("--start-frame 2000000000", ["--start-frame", "2000000000"], words=("2000000000", "1048574")),
        F("--start-frame -2000000000", ["--start-frame", "-2000000000"], words=("-2000000000", "1048574")),
        F("--start-frame 1048500", ["--start-frame", "1048500"], words=("last frame", "start it at frame")),
        F("--start-frame -1048574", ["--start-frame", "-1048574", "--save", "{out}/x.blend"], expect="accept",
          check=saved("x.blend")),
        F("--fps-mode bogus", ["--fps-mode", "FAST"], words=("--fps-mode",)),
        F("--export unwritable", ["--export", "/sys/x.glb"], words=("/sys", "cannot write here")),
        F("--export inside a file", ["--export", f"{d}/afile/x.glb"], words=("afile", "is a file")),
        F("--export .obj", ["--export", "{out}/x.obj"], words=("x.obj", ".glb")),
        F("--export a folder", ["--export", f"{d}/folder"], words=("folder", "is a folder")),
        F("--export disk full", ["--export", "{out}/x.glb"], words=("x.glb", "File too large"), limit=60_000),
        F("--export .fbx disk full", ["--export", "{out}/x.fbx"], words=("x.fbx", "File too large"), limit=60_000),
        F("--export .fbx", ["--export", "{out}/x.fbx"], expect="accept", check=saved("x.fbx")),
        F("--save unwritable", ["--save", "/sys/x.blend"], words=("/sys", "cannot write here")),
        F("--save .txt", ["--save", "{out}/x.txt"], words=("x.txt", ".blend")),
        F("--save a folder", ["--save", f"{d}/folder"], words=("folder", "is a folder")),
        F("--save disk full", ["--save", "{out}/x.blend"], words=("x.blend", "space"), limit=20_000),
        F("--heard-dir is a file", ["--heard-dir", f"{d}/afile"], words=("--heard-dir", "afile")),
        B("folder with one broken file", ["--audio", f"{d}/batch", "--object", "Face", "--no-sound", "--save",
                                          "{out}/b.blend"], words=("b.wav",)),
        B("folder export name taken", ["--audio", f"{d}/good", "--object", "Face", "--no-sound", "--export",
                                       "{out}/taken/f.glb"], words=("f_b.glb", "is a folder"),
          make_dirs=("taken/f_b.glb",)),
        B("folder, --jobs 2, export", ["--audio", f"{d}/good", "--object", "Face", "--no-sound", "--jobs", "2",
                                       "--export", "{out}/f.glb"], expect="accept", check=saved("f_a.glb", "f_b.glb")),
        F("nim --url port 99999", ["--backend", "nim", "--url", "127.0.0.1:99999"], words=("99999", "1-65535")),
        F("nim --url notaport", ["--backend", "nim", "--url", "127.0.0.1:notaport"], words=("notaport",)),
        F("nim CA garbage", ["--backend", "nim", "--url", f"127.0.0.1:{port}", "--secure-mode", "tls",
                             "--root-cert-path", f"{d}/garbage.crt"], words=("garbage.crt", "PEM")),
        F("nim nothing listening", ["--backend", "nim", "--url", f"127.0.0.1:{free_port()}"], code=3,
          words=("connection refused",)),
        F("nim real server", ["--backend", "nim", "--url", f"127.0.0.1:{port}"], expect="accept"),
    ]
    return cases


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- add-on operators, in one bpy process -----------------------------------------------------------------------
def addon_child(fx: Path, out_json: Path) -> None:
    """Runs inside a child process with bpy: every operator case, judged here, results as JSON."""
    import bpy

    sys.path.insert(0, str(ROOT / "tests" / "blender"))
    from blender_helpers import snapshot

    import addon as pkg
    from addon import demo_rig

    pkg.register()
    results = []

    def fresh():
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.context.scene.render.fps = 60
        head = demo_rig.build("Face", segments=16, rings=12)
        for o in bpy.context.view_layer.objects:
            o.select_set(o == head)
        bpy.context.view_layer.objects.active = head
        s = bpy.context.scene.a2f
        s.use_selected = True
        s.add_sound_strip = False
        return head, s

    def case(name, setup, op, expect="error", words=(), check=None):
        head, s = fresh()
        outdir = fx.parent / "addon_out"
        shutil.rmtree(outdir, ignore_errors=True)
        outdir.mkdir()
        try:
            setup(s, head, outdir)
        except Exception as e:  # noqa: BLE001
            results.append(dict(name=name, verdict="traceback", partial=False, detail=f"setup: {e!r}"))
            return
        before = snapshot()
        import io
        from contextlib import redirect_stderr

        buf = io.StringIO()
        verdict, detail = "", ""
        try:
            with redirect_stderr(buf):
                res = op(s, head, outdir)
            if expect == "error":
                verdict, detail = "silent wrong", f"operator returned {res}"
            else:
                problem = check(s, head, outdir) if check else None
                verdict, detail = ("silent wrong", problem) if problem else ("accept", "")
        except RuntimeError as e:  # how an operator's ERROR report reaches a script
            msg = str(e).strip()
            lines = [ln for ln in msg.splitlines() if ln.strip()]
            if "Traceback" in msg or "Traceback" in buf.getvalue():
                verdict, detail = "traceback", lines[-1] if lines else ""
            elif expect == "accept":
                verdict, detail = "unclear", f"failed where it should work: {lines[-1] if lines else ''}"
            elif len(lines) != 1 or not all(w.lower() in msg.lower() for w in words):
                verdict, detail = "unclear", msg[:200]
            elif snapshot() != before:
                verdict, detail = "silent wrong", f"the scene changed on a failure: {msg[:120]}"
            else:
                verdict, detail = "error", msg[:200]
        except Exception as e:  # noqa: BLE001
            verdict, detail = "traceback", repr(e)[:200]
        partial = scan_partial(outdir)
        results.append(dict(name=name, verdict=verdict, partial=partial is not None, detail=partial or detail))

    H = str(fx / "hello.wav")
    ops = bpy.ops.a2f

    def bake_with(**props):
        def setup(s, head, out):
            s.audio_source = "FILE"
            s.audio_path = H
            s.backend = "local"
            for k, v in props.items():
                setattr(s, k, v.replace("{out}", str(out)).replace("{d}", str(fx)) if isinstance(v, str) else v)
        return setup

    bake = lambda s, h, o: ops.bake()  # noqa: E731
    imp = lambda f, audio="": (lambda s, h, o: ops.import_clip(filepath=str(fx / f), audio=audio.replace("{d}", str(fx))))  # noqa: E731
    keyed = lambda s, head, o: None if head.data.shape_keys.animation_data and head.data.shape_keys.animation_data.action else "no action"  # noqa: E731,E501

    # bake operator
    case("bake: no target mesh", lambda s, h, o: (setattr(s, "audio_path", H), h.select_set(False),
                                                   setattr(bpy.context.view_layer.objects, "active", None)),
         bake, words=("no target mesh",))
    for f, words in (("nope.wav", ("nope.wav", "no such audio")), ("text.wav", ("text.wav", "cannot read")),
                     ("silent.wav", ("silent.wav", "silence")), ("short.wav", ("short.wav",)),
                     ("inverted.wav", ("inverted.wav", "cancel")), ("loud1000.wav", ("loud1000.wav", "full scale")),
                     ("empty.wav", ("empty.wav",)), ("folder", ("folder", "folder")), ("nan.wav", ("nan.wav", "NaN"))):
        case(f"bake: audio {f}", bake_with(audio_path=f"{{d}}/{f}"), bake, words=words)
    case("bake: no audio", bake_with(audio_path=""), bake, words=("no audio",))
    case("bake: start frame clamped to 1048574, take too long", bake_with(start_frame=2_000_000_000), bake,
         words=("last frame", "start it at frame"))
    case("bake: start frame -2000000000 clamped, bakes at -1048574", bake_with(start_frame=-2_000_000_000), bake,
         expect="accept", check=keyed)
    case("bake: start frame 1048500", bake_with(start_frame=1_048_500), bake, words=("last frame",))
    case("bake: ok", bake_with(), bake, expect="accept", check=keyed)
    case("bake: transcript missing .txt", bake_with(transcript="{d}/nope.txt"), bake, words=("nope.txt", "no such"))
    case("bake: transcript not UTF-8", bake_with(transcript="{d}/latin1.txt"), bake, words=("latin1.txt", "UTF-8"))
    case("bake: transcript script duplicate", bake_with(transcript="{d}/script_dup.csv"), bake,
         words=("script_dup.csv", "twice"))
    case("bake: transcript script missing", bake_with(transcript="{d}/nope.csv"), bake, words=("nope.csv",))
    case("bake: transcript words", bake_with(transcript="hello there"), bake, expect="accept", check=keyed)
    for f, words in (("rig_syntax.yaml", ("rig_syntax.yaml", "line 3")), ("rig_list.yaml", ("'map' must be",)),
                     ("rig_dup.yaml", ("twice",)), ("nope.yaml", ("nope.yaml",)),
                     ("rig_weight.yaml", ("number",))):
        case(f"bake: mapping {f}", bake_with(mapping="CUSTOM", mapping_yaml=f"{{d}}/{f}"), bake, words=words)
    case("bake: character out of range", bake_with(character="CUSTOM", character_yaml="{d}/range.yaml"), bake,
         words=("range.yaml", "lowerFaceStrength"))
    case("bake: character a folder", bake_with(character="CUSTOM", character_yaml="{d}/folder"), bake,
         words=("folder", "is a folder"))

    def no_keys(s, head, o):
        bake_with()(s, head, o)
        head.shape_key_clear()
    case("bake: mesh without shape keys", no_keys, bake, words=("no shape keys",))

    def renamed(s, head, o):
        bake_with()(s, head, o)
        for i, kb in enumerate(head.data.shape_keys.key_blocks[1:]):
            kb.name = f"Shape.{i:03d}"
    case("bake: no channel maps", renamed, bake, words=("no clip channel maps",))
    # import operator
    for f, words in (("nope.csv", ("nope.csv", "no such")), ("clip_text.csv", ("clip_text.csv", "timeCode")),
                     ("clip_headeronly.csv", ("no animation frames",)), ("clip_nan.csv", ("clip_nan.csv", "line 2")),
                     ("clip_backwards.csv", ("time order",)), ("emotions.csv", ("emotion CSV",)),
                     ("clip_bad.json", ("clip_bad.json",)), ("clip_wrong.json", ("weightMat",)),
                     ("clip.txt", ("clip.txt",)), ("folder", ("folder",))):
        case(f"import: {f}", lambda s, h, o: None, imp(f), words=words)
    for a, words in (("{d}/nope.wav", ("nope.wav", "no such audio")), ("{d}/text.wav", ("text.wav", "cannot read")),
                     ("{d}/folder", ("folder", "is a folder")), ("{d}/empty.wav", ("empty.wav",))):
        case(f"import: optional audio {Path(a).name}", lambda s, h, o: None, imp("animation_frames.csv", a), words=words)
    case("import: CSV ok", lambda s, h, o: None, imp("animation_frames.csv"), expect="accept", check=keyed)
    case("import: JSON ok with audio", lambda s, h, o: None, imp("omni.json", "{d}/hello.wav"), expect="accept",
         check=keyed)
    case("import: start frame out of range", lambda s, h, o: setattr(s, "start_frame", 1_048_574),
         imp("animation_frames.csv"), words=("last frame",))
    # auto-map and connection
    case("auto-map: YAML syntax", bake_with(mapping="CUSTOM", mapping_yaml="{d}/rig_syntax.yaml"),
         lambda s, h, o: ops.auto_map(), words=("rig_syntax.yaml", "line 3"))
    case("auto-map: folder", bake_with(mapping="CUSTOM", mapping_yaml="{d}/folder"),
         lambda s, h, o: ops.auto_map(), words=("folder", "is a folder"))
    case("auto-map: ok", bake_with(), lambda s, h, o: ops.auto_map(), expect="accept")
    for url, words in (("127.0.0.1:99999", ("99999", "1-65535")), ("127.0.0.1:notaport", ("notaport",)),
                       ("grpc://x:1", ("unknown scheme",))):
        case(f"check connection: {url}", lambda s, h, o: None, lambda s, h, o, u=url: ops.check_connection(url=u),
             words=words)
    # export through the core (the panel's bake with an export path)
    from a2f_core.errors import A2FError
    from addon.bake import steps

    def core_export(target):
        def op(s, head, out):
            try:
                steps.bake(steps.BakeSpec(objects=[head.name], clip=str(fx / "animation_frames.csv"),
                                        export=target.replace("{out}", str(out)).replace("{d}", str(fx))))
            except A2FError as e:
                raise RuntimeError(str(e)) from None
            return {"FINISHED"}
        return op
    case("export: unwritable", lambda s, h, o: None, core_export("/sys/x.glb"), words=("/sys", "cannot write"))
    case("export: inside a file", lambda s, h, o: None, core_export("{d}/afile/x.fbx"), words=("afile", "is a file"))
    case("export: .obj", lambda s, h, o: None, core_export("{out}/x.obj"), words=("x.obj", ".glb"))
    case("export: a folder", lambda s, h, o: None, core_export("{d}/folder"), words=("folder",))
    case("export: glb ok", lambda s, h, o: None, core_export("{out}/x.glb"), expect="accept",
         check=lambda s, h, o: None if (o / "x.glb").is_file() else "no file")
    case("export: gltf ok", lambda s, h, o: None, core_export("{out}/x.gltf"), expect="accept",
         check=lambda s, h, o: None if (o / "x.bin").is_file() else "no .bin")
    pkg.unregister()
    out_json.write_text(json.dumps(results))


def make_scenes(fx: Path) -> None:
    """Child process with bpy: the scenes bake.py cases open."""
    import bpy

    from addon import demo_rig

    bpy.context.scene.render.fps = 60
    demo_rig.build("Face", segments=16, rings=12)
    cam = bpy.data.objects.new("Cam", bpy.data.cameras.new("Cam"))
    bpy.context.scene.collection.objects.link(cam)
    plain = bpy.data.objects.new("Plain", bpy.data.meshes.new("Plain"))
    bpy.context.scene.collection.objects.link(plain)
    bpy.ops.wm.save_as_mainfile(filepath=str(fx / "scene.blend"))
    (fx / "fake.blend").write_bytes(b"not a blend file at all")
    (fx / "folder.blend").mkdir(exist_ok=True)


# --- main -------------------------------------------------------------------------------------------------------
def start_server() -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), GRPC_VERBOSITY="NONE")
    proc = subprocess.Popen([sys.executable, "-m", "a2f_core.cli.main", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from a2f_core.nim import health

    for _ in range(120):
        if health(f"127.0.0.1:{port}", timeout=1.0)[0]:
            return proc, port
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("a2f serve did not come up")


VERDICTS = ("error", "accept", "traceback", "unclear", "silent wrong")
LABEL = {"error": "clear error", "accept": "correct accept", "traceback": "traceback", "unclear": "unclear",
         "silent wrong": "silent wrong"}


METHOD = (
    "Every case runs for real: fresh `a2f infer` / bake.py processes, the operators in one bpy process, NIM cases "
    "against a real `a2f serve` on loopback. A full disk is a real kernel write failure: the process runs under a "
    "file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so the write fails half way with EFBIG where a full disk gives "
    "ENOSPC. A case is a *clear error* when it exits with the documented code and prints one error line with the "
    "file/option/value and what to do; *unclear* otherwise; *silent wrong* when it succeeds where it should fail, "
    "gives a wrong result, or a failed operator changed the scene; *partial file* when a temporary or truncated "
    "output is left behind."
)
METRIC = {"error": "clear_errors", "accept": "correct_accepts", "traceback": "tracebacks", "unclear": "unclear",
          "silent wrong": "silent_wrong"}


def run_cases(only: str) -> tuple[list[Outcome], Path]:
    work = Path(tempfile.mkdtemp(prefix="a2f-bad-input-"))
    fx = work / "fx"
    make_fixtures(fx)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, __file__, "--make-scenes", str(fx)], check=True, env=env, capture_output=True)
    server, port = start_server()
    outcomes: list[Outcome] = []
    try:
        cases = infer_cases(port) + bake_cases(port)
        for i, c in enumerate(cases, 1):
            if only and only not in c.group + ": " + c.name:
                continue
            o = run_cli(c, c.args, work)
            outcomes.append(o)
            print(f"[{i}/{len(cases)}] {c.group}: {c.name}: {o.verdict}{' + PARTIAL FILE' if o.partial else ''}"
                  f"  {o.detail[:150]}", file=sys.stderr, flush=True)
        if not only or "add-on" in only:
            res_json = work / "addon.json"
            r = subprocess.run([sys.executable, __file__, "--addon-child", str(fx), str(res_json)], env=env,
                               capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                print(r.stderr[-3000:], file=sys.stderr)
                raise SystemExit("the add-on child failed")
            for d in json.loads(res_json.read_text()):
                o = Outcome("add-on operators", d["name"], d["verdict"], d["partial"], d["detail"])
                outcomes.append(o)
                print(f"add-on: {o.name}: {o.verdict}{' + PARTIAL FILE' if o.partial else ''}  {o.detail[:150]}",
                      file=sys.stderr)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    for o in outcomes:  # no machine-local paths in the results
        o.detail = o.detail.replace(str(work), "<work>").replace(str(ROOT), "<repo>")
    return outcomes, work


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--addon-child":
        addon_child(Path(sys.argv[2]), Path(sys.argv[3]))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--make-scenes":
        make_scenes(Path(sys.argv[2]))
        return 0
    import argparse

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from benchlib import Report, add_results_args

    ap = argparse.ArgumentParser(description="Bad and edge-case input to a2f infer, bake.py and the operators.")
    ap.add_argument("--only", default="", help="run only the cases whose 'group: name' contains this (print only)")
    add_results_args(ap)
    args = ap.parse_args()
    if args.only:
        args.no_results = True
    other = ROOT != Path(__file__).resolve().parents[1]
    title = "Bad and edge-case input (issue #13)" + (f", against other code ({os.environ.get('A2F_SWEEP_LABEL', '')})"
                                                     if other else "")
    with Report(__file__, title, args, notes=METHOD) as rep:
        outcomes, _ = run_cases(args.only)
        print_report(outcomes)
        for v in VERDICTS:
            rep.metric(METRIC[v], sum(o.verdict == v for o in outcomes), "", LABEL[v])
        rep.metric("partial_files", sum(o.partial for o in outcomes), "", "partial files")
        rep.metric("cases", len(outcomes), "", "cases tried")
        before = os.environ.get("A2F_SWEEP_BEFORE")  # a results .json of the same cases against older code
        if before and Path(before).is_file():
            m = json.loads(Path(before).read_text())["metrics"]
            rep.data["before"] = {k: v["value"] for k, v in m.items()}
            print(f"\nThe same cases against {os.environ.get('A2F_SWEEP_BEFORE_LABEL', 'the code before')}: "
                  + ", ".join(f"{m[k]['value']} {m[k]['what']}" for k in (*METRIC.values(), "partial_files"))
                  + " (the expected words follow the new messages, so part of its unclear count is wording).")
    bad = sum(o.verdict in ("traceback", "unclear", "silent wrong") or o.partial for o in outcomes)
    print(f"{len(outcomes)} cases, {bad} not right", file=sys.stderr)
    return 0


def print_report(outcomes: list[Outcome]) -> None:
    groups = list(dict.fromkeys(o.group for o in outcomes))
    lines = ["| entry point | cases | " + " | ".join(LABEL[v] for v in VERDICTS) + " | partial files |",
             "|---|---|" + "---|" * (len(VERDICTS) + 1)]
    for g in groups + ["all"]:
        sel = [o for o in outcomes if g == "all" or o.group == g]
        cells = [str(sum(o.verdict == v for o in sel)) for v in VERDICTS]
        name = f"**{g}**" if g == "all" else g
        lines.append(f"| {name} | {len(sel)} | " + " | ".join(cells) + f" | {sum(o.partial for o in sel)} |")
    lines += ["", "### Every case"]
    for g in groups:
        lines += ["", f"#### {g}", "", "| case | result | message or problem |", "|---|---|---|"]
        for o in outcomes:
            if o.group == g:
                res = LABEL[o.verdict] + (" + partial file" if o.partial else "")
                detail = o.detail.replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {o.name} | {res} | {detail[:220]} |")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
