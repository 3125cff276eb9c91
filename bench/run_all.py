"""Run every benchmark, one after another (they share the cores, so never in parallel), then rewrite the
at-a-glance index in bench/RESULTS.md from the results files the scripts wrote.

    .venv/bin/python bench/run_all.py              # everything (not timed as a whole yet; an estimated 30-60 min on 2 cores)
    .venv/bin/python bench/run_all.py --quick      # only the cheap ones (about 1.5 min at load 6)
    .venv/bin/python bench/run_all.py --only bench_formats bench_cli
    .venv/bin/python bench/run_all.py --list       # what would run
    .venv/bin/python bench/run_all.py --index-only # just rewrite RESULTS.md's index from bench/results/

Every script writes its own bench/results/<name>.md and .json (bench/benchlib.py); nothing is copied by hand.

Adding a benchmark: put it in bench/ as bench_<what>.py and have it write its results with benchlib.Report
(see bench_presets.py for a short example). It is then picked up by the glob below and run with no arguments.
To give it arguments, run it twice, or mark it quick, add a Run(...) line to RUNS. To show one of its numbers in
RESULTS.md's at-a-glance table, add a Row(...) to INDEX naming its results file and metric key.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import benchlib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS_MD = HERE / "RESULTS.md"
BEGIN, END = "<!-- index: begin (written by bench/run_all.py) -->", "<!-- index: end -->"


@dataclass
class Run:
    name: str  # results file stem under bench/results/ (the script's stem unless it runs more than once)
    script: str
    args: list[str] = field(default_factory=list)
    quick: bool = False  # cheap enough for --quick (seconds to a minute on 2 cores)
    env: dict[str, str] = field(default_factory=dict)
    python: str = ""  # another interpreter (relative to the checkout), e.g. another Blender version's venv


# In this order. Scripts matching bench/bench_*.py that are not listed run after these with no arguments.
RUNS = [
    Run("bench_formats", "bench_formats.py", quick=True),
    Run("bench_presets", "bench_presets.py", quick=True),
    Run("bench_sdk_overhead", "bench_sdk_overhead.py", quick=True),
    Run("bench_cli", "bench_cli.py", ["--demo"], quick=True),
    Run("bench_keys", "bench_keys.py", quick=True),
    Run("bench_nim_perf-tiny", "bench_nim_perf.py", ["--backend", "tiny_backend:TinyBackend", "--workers", "0"],
        quick=True, env={"PYTHONPATH": str(ROOT / "tests" / "nim")}),
    Run("bench_extension", "bench_extension.py", ["--all-platforms"]),
    Run("bench_extension-b42", "bench_extension.py", ["--no-cold"], python=".venv-b42/bin/python"),
    Run("bench_extension-b313", "bench_extension.py", ["--no-cold"], python=".venv-b313/bin/python"),
    Run("bench_responsiveness", "bench_responsiveness.py"),
    Run("bench_responsiveness-before", "bench_responsiveness.py", ["--in-process"]),
    Run("bench_local_rtf", "bench_local_rtf.py", ["--repeat", "3"]),
    Run("bench_local_quality", "bench_local_quality.py"),
    Run("bench_words", "bench_words.py", ["--model", "tiny.en", "--workers", "2", "--repeat", "3"]),
    Run("bench_words-base", "bench_words.py", ["--model", "base", "--workers", "2", "--repeat", "3"]),  # make words-base
    Run("bench_noise", "bench_noise.py"),
    Run("bench_batch", "bench_batch.py"),
    Run("bench_nim_perf", "bench_nim_perf.py"),
    Run("bench_nim_perf-fast", "bench_nim_perf.py", ["--quality", "fast"]),
    Run("bench_nim_perf-busy1", "bench_nim_perf.py", ["--busy", "1"]),
    Run("bench_serve_fuzz", "bench_serve_fuzz.py"),
    Run("sweep_asr", "sweep_asr.py"),
]


def plan() -> list[Run]:
    listed = {r.script for r in RUNS}
    extra = [Run(p.stem, p.name) for p in sorted(HERE.glob("bench_*.py")) if p.name not in listed]
    return RUNS + extra


# --- the at-a-glance index ---------------------------------------------------------------------------------
@dataclass
class Row:
    what: str
    target: str  # shown as is; "" for numbers without a target
    values: list[tuple[str, str, str]]  # (label, results stem, metric key)
    check: tuple[str, float] | None = None  # ("<=", 0.05): met if every value found passes
    before: str = ""  # the last hand-copied number (session, date), shown beside the script's for comparison
    checked: int = 0  # how many of the first values the target applies to (0: all)


def _sets(metric: str, text: bool) -> list[tuple[str, str, str]]:
    tag = "text" if text else "notext"
    return [(s, "bench_local_quality", f"{s}_{tag}_{metric}") for s in ("espeak", "natural", "more")]


def _whisper(metric: str, sets: tuple[tuple[str, str], ...]) -> list[tuple[str, str, str]]:
    """bench_words' ``metric`` for Whisper words, base then tiny.en, on each (set key, label)."""
    return [(f"{model}: {label}" if i == 0 else label, stem, f"{key}_whisper_{metric}")
            for model, stem in (("base", "bench_words-base"), ("tiny.en", "bench_words"))
            for i, (key, label) in enumerate(sets)]


NATURAL_SETS = (("natural", "natural"), ("more", "more"))
S1, S2, S3 = "session 1, 2026-11-22", "session 2, 2026-11-22", "session 3, 2026-11-22"
S23 = "sessions 2–3, 2026-11-22"
W11 = "2026-12-03 04:25–04:37 UTC, load 2.5–8 on 2 cores"
INDEX: list[tuple[str, list[Row]]] = [
    ("Targets", [
        Row("bundled backend warm RTF with a transcript, ~10 s and ~60 s, worst clip (#2)", "≤ 0.05",
            [("warm", "bench_local_rtf", "warm_rtf_text_max"), ("cold", "bench_local_rtf", "cold_rtf_text_max")],
            ("<=", 0.05), checked=1, before=f"0.030–0.035 warm, 0.038–0.042 cold ({S2}); 0.033–0.038 warm ({S3})"),
        Row("bundled backend warm RTF without a transcript, worst clip (#2)", "≤ 0.08",
            [("warm", "bench_local_rtf", "warm_rtf_notext_max"), ("cold", "bench_local_rtf", "cold_rtf_notext_max")],
            ("<=", 0.08), checked=1, before=f"0.061–0.070 warm ({S2}); 0.068–0.077 ({S3}); cold 0.102–0.131 on a 10 s clip"),
        Row("p/b/m lips closed, with a transcript (#2)", "≥ 0.95", _sets("closure", True), (">=", 0.95),
            f"1.00 on every set ({S23})"),
        Row("p/b/m lips closed, without a transcript (#2)", "≥ 0.95", _sets("closure", False), (">=", 0.95),
            f"espeak 0.50, natural 0.90, more 0.81 ({S23}): missed"),
        Row("open vowels wrongly closed, without a transcript (#2)", "≤ 0.05", _sets("open_shut", False), ("<=", 0.05),
            f"0.00, 0.00, 0.01 ({S23}); 0.00 everywhere with a transcript"),
        Row("oo/oh/w rounded, without a transcript (#2)", "≥ 0.90", _sets("rounding", False), (">=", 0.90),
            f"espeak 0.92, natural 1.00, more 0.88 ({S23}); with a transcript 0.98–1.00"),
        Row("jaw timing vs known phones, mean abs lag, without a transcript (#2)", "≤ 20 ms",
            _sets("jaw_lag_ms", False), ("<=", 20), f"18, 1, 2 ms ({S23}); with a transcript 11, 1, 1 ms"),
        Row("key write, 10 min × 52 channels (#3)", "≤ 0.4 s", [("", "bench_keys", "bulk_full_s")], ("<=", 0.4),
            f"0.350 s at load 1.1; 0.554–0.864 s under load ({S1})"),
        Row("bulk vs per-key `keyframe_insert` (#3)", "≥ 500×",
            [("extrapolated", "bench_keys", "speedup_extrapolated"), ("side by side", "bench_keys", "speedup_measured")],
            (">=", 500), checked=1, before=f"1,671–8,180× extrapolated; 234–669× side by side ({S1})"),
        Row("`a2f serve`, 10 streams: FPS p1 per stream (#4)", "≥ 60",
            [("auto", "bench_nim_perf", "s10_fps_p1"), ("fast", "bench_nim_perf-fast", "s10_fps_p1"),
             ("auto, 1 core busy", "bench_nim_perf-busy1", "s10_fps_p1")], (">=", 60),
            f"auto 98.6, fast 99.7, auto with one core busy 74.1 ({S2})"),
        Row("`a2f serve`, 10 streams: throughput (#4)", "≥ 20 audio s/s",
            [("auto", "bench_nim_perf", "s10_throughput"), ("fast", "bench_nim_perf-fast", "s10_throughput"),
             ("auto, 1 core busy", "bench_nim_perf-busy1", "s10_throughput")], (">=", 20),
            f"auto 32.1, fast 32.5, auto with one core busy 24.2 ({S2})"),
        Row("panel bake of a 180 s line: longest main-thread stall (#12)", "≤ 100 ms",
            [("", "bench_responsiveness", "worst_stall_ms")], ("<=", 100),
            before="every decode in Blender's own process, as before (results/bench_responsiveness-before.md, load 5): "
                   "10.8 s"),
        Row("panel bake of a 180 s line: Esc to done (#12)", "≤ 500 ms",
            [("", "bench_responsiveness", "cancel_ms")], ("<=", 500),
            before="as before (results/bench_responsiveness-before.md, load 5): 10.9 s"),
        Row("bad and edge-case input to `a2f infer`, bake.py, operators: tracebacks / unclear / silent wrong / "
            "partial files (#13)", "0 each",
            [("tracebacks", "bench_bad_input", "tracebacks"), ("unclear", "bench_bad_input", "unclear"),
             ("silent wrong", "bench_bad_input", "silent_wrong"), ("partial files", "bench_bad_input", "partial_files"),
             ("cases", "bench_bad_input", "cases")], ("<=", 0), checked=4,
            before="issue #13's audit of 192 inputs: 14 tracebacks, 19 unclear, 5 silent wrong, partial CSVs; "
                   "these 252 cases on main at 6e5f6c1: 21 / 46 / 19 / 2 (results/bench_bad_input-before.md)"),
        Row("`a2f serve`, ≥ 2,000 malformed streams with valid ones interleaved: crashes + tracebacks + non-finite "
            "values sent + valid streams not served (#13)", "0",
            [("problems", "bench_serve_fuzz", "fuzz_problems"), ("malformed streams", "bench_serve_fuzz", "fuzz_malformed"),
             ("valid served", "bench_serve_fuzz", "fuzz_valid_ok"),
             ("before the change (--code at main 6e5f6c1): problems", "bench_serve_fuzz-before", "fuzz_problems"),
             ("non-finite frames", "bench_serve_fuzz-before", "fuzz_non_finite")], ("<=", 0), checked=1,
            before="issue #13: no crash in 2,100 streams, but NaN/inf weights sent with SUCCESS and a 5-line traceback "
            "per undecodable message"),
        Row("`a2f serve`, 10 streams of 299 s at 144 kHz: server process peak memory (#13)", "≤ 2 GB",
            [("server", "bench_serve_fuzz", "rss10_server_mb"), ("per stream", "bench_serve_fuzz", "rss10_per_stream_mb"),
             ("worker processes", "bench_serve_fuzz", "rss10_workers_mb"),
             ("before the change, 1 stream", "bench_serve_fuzz-before", "rss1_per_stream_mb")], ("<=", 2048), checked=1,
            before="issue #13: about 1 GB per stream (3.4 GB for four)"),
        Row("extension zip size (#5)", "< 100 MB",
            [("largest", "bench_extension", "zip_max_mb"), ("smallest", "bench_extension", "zip_min_mb")], ("<", 100),
            f"69.6 (windows-x64) – 83.9 MB (macos-x64) ({S1})"),
        Row("no transcript, Whisper words: p/b/m closed, natural speech (#11)", "≥ 0.95",
            _whisper("closure", NATURAL_SETS),
            (">=", 0.95), before=f"tiny.en: natural 1.00, more 0.95 ({W11})"),
        Row("no transcript, Whisper words: oo/oh/w rounded, natural speech (#11)", "≥ 0.90",
            _whisper("rounding", NATURAL_SETS),
            (">=", 0.90), before=f"tiny.en: natural 1.00, more 0.98 ({W11})"),
        Row("no transcript, Whisper words: open vowels wrongly closed, natural speech (#11)", "≤ 0.05",
            _whisper("open_shut", NATURAL_SETS),
            ("<=", 0.05), before=f"tiny.en: 0.00, 0.00 ({W11})"),
        Row("no transcript, Whisper words: p/b/m closed, espeak voices: the 7 fixtures and the 30 held-out sentences "
            "(#11; the target is checked on Whisper base)", "≥ 0.90",
            _whisper("closure", (("espeak", "fixtures"), ("heldout", "held-out"))), (">=", 0.90), checked=2,
            before=f"tiny.en 0.886 on the fixtures, 30 s windows ({W11}): missed"),
        Row("no transcript, Whisper words: warm RTF on 2 cores, worst row (#11)", "≤ 0.12",
            [("base", "bench_words-base", "rtf_notext_whisper_max"), ("tiny.en", "bench_words", "rtf_notext_whisper_max"),
             ("pocketsphinx words, same run", "bench_words", "rtf_notext_pocketsphinx_max")], ("<=", 0.12), checked=2,
            before="tiny.en 0.075 (05:04 UTC); base 0.133–0.141 on one 11 s clip with 30 s windows (05:45 UTC): missed"),
        Row("with a transcript, Whisper installed: warm RTF on 2 cores, the inputs of #2 and #11 (the held-out espeak "
            "set joined, added later, beside: its word pass needs a second beam)", "≤ 0.05",
            [(f"{k}", "bench_words", f"rtf_{k}_text") for k in ("espeak", "natural", "more", "one")]
            + [("held-out", "bench_words", "rtf_heldout_text")], ("<=", 0.05), checked=4,
            before=f"0.035–0.089 at load 4–6 ({W11})"),
    ]),
    ("Other measured numbers", [
        Row("word error rate without a transcript, Whisper base / tiny.en / pocketsphinx: espeak, held-out espeak, "
            "natural, more (#11)", "",
            [(f"{s} {who}", stem, f"{s}_{rec}_wer") for s in ("espeak", "heldout", "natural", "more")
             for who, stem, rec in (("base", "bench_words-base", "whisper"), ("tiny.en", "bench_words", "whisper"),
                                    ("pocketsphinx", "bench_words", "pocketsphinx"))],
            before=f"tiny.en / pocketsphinx: 0.32 / 0.85, 0.03 / 0.24, 0.08 / 0.44 ({W11})"),
        Row("held-out espeak set (30 sentences, 10 voices, never tuned on), with a transcript: p/b/m closed, open "
            "shut, rounded", "",
            [("closed", "bench_local_quality", "heldout_text_closure"),
             ("open shut", "bench_local_quality", "heldout_text_open_shut"),
             ("rounded", "bench_local_quality", "heldout_text_rounding")]),
        Row("p/b/m closed with a transcript over white noise, 20 / 10 dB SNR", "",
            [("20 dB", "bench_noise", "20_text_closure"), ("10 dB", "bench_noise", "10_text_closure")],
            before=f"1.00 / 0.95 ({S3})"),
        Row("p/b/m closed without a transcript over white noise, 20 / 10 dB SNR", "",
            [("20 dB", "bench_noise", "20_notext_closure"), ("10 dB", "bench_noise", "10_notext_closure")],
            before=f"0.52 / 0.17 ({S3})"),
        Row("another line's transcript accepted, clean / 20 dB / 10 dB", "",
            [("clean", "bench_noise", "none_other_accepted"), ("20 dB", "bench_noise", "20_other_accepted"),
             ("10 dB", "bench_noise", "10_other_accepted")], before=f"0 / 2 / 5 of 25 ({S3})"),
        Row("p/b/m closed with / without a transcript: reverb 0.4 s, reverb 0.8 s, telephone band", "",
            [(f"{c} {t}", "bench_noise", f"{c}_{t}_closure") for c in ("reverb0.4", "reverb0.8", "band8000")
             for t in ("text", "notext")], before=f"1.00 / 0.62, 0.99 / 0.53, 1.00 / 0.63 ({S3})"),
        Row("the wider natural set joined (119 s) with its transcript, all cores, cold", "",
            [("", "bench_local_quality", "more_joined_text_s")], before=f"5.9 s ({S3})"),
        Row("`a2f infer samples/hello.wav` (4.19 s), whole command", "",
            [("transcript", "bench_cli", "with_text_wall_s"), ("no transcript", "bench_cli", "no_text_wall_s"),
             ("--plot", "bench_cli", "plot_wall_s"), ("--help", "bench_cli", "help_wall_s")],
            before=f"0.62–0.64 s, 1.22 s without a transcript ({S3}); `--plot` adds ~2.8 s"),
        Row("`make demo` after setup (CLI + plot, bake, glTF, Cycles contact sheet)", "",
            [("", "bench_cli", "demo_total_s")], before=f"9 s ({S1})"),
        Row("`animation_frames.csv`, 10 min × 52 channels, write / read", "",
            [("write", "bench_formats", "csv_600s_write_s"), ("read", "bench_formats", "csv_600s_read_s"),
             ("bit-exact", "bench_formats", "csv_600s_exact")], before=f"4.3 s / 3.3 s, bit-exact ({S1}, load 2.9–5.7)"),
        Row("Omniverse JSON, 10 min × 52 channels, write / read", "",
            [("write", "bench_formats", "json_600s_write_s"), ("read", "bench_formats", "json_600s_read_s")],
            before=f"3.5 s / 3.5 s ({S1}, load 2.9–5.7)"),
        Row("preset load, `presets.load_character(\"mark\")`", "",
            [("warm", "bench_presets", "character_mark_ms"), ("fresh process", "bench_presets", "character_mark_cold_ms")],
            before=f"5 ms ({S1})"),
        Row("extension build, linux-x64, cold / warm cache; all four platforms warm", "",
            [("cold", "bench_extension", "build_cold_s"), ("warm", "bench_extension", "build_warm_s"),
             ("all four warm", "bench_extension", "build_all_warm_s"),
             ("byte-identical", "bench_extension", "build_reproducible")],
            before=f"29.6 s / 0.8 s; all four 6.3 s; byte-identical ({S1})"),
        Row("extension install + enable, headless", "",
            [("bpy 5.0", "bench_extension", "install_enable_s"), ("bpy 4.2", "bench_extension-b42", "install_enable_s"),
             ("bpy 5.2", "bench_extension-b313", "install_enable_s")], before=f"1.30 s (5.0.1), 1.75 s (4.2.23), 0.85 s (5.2.3) ({S1})"),
        Row("sdk adapter overhead, 10 min of frames (stand-in binding, no SDK inference)", "",
            [("convert + postprocess", "bench_sdk_overhead", "adapter_600s_ms"),
             ("infer minus binding", "bench_sdk_overhead", "infer_overhead_600s_ms")], before=f"32–37 ms ({S1})"),
        Row("24 lines (97.5 s) without transcripts, `--jobs 2`: `a2f infer DIR` / bake.py", "",
            [("a2f infer", "bench_batch", "a2f_notext_jobs2_s"), ("bake.py", "bench_batch", "bake_notext_jobs2_s")],
            before=f"8.4–10.3 s / 9.1–9.8 s ({S2})"),
        Row("the same with `.txt` twins", "",
            [("a2f infer", "bench_batch", "a2f_text_jobs2_s"), ("bake.py", "bench_batch", "bake_text_jobs2_s")],
            before=f"2.5–2.8 s / 3.3–4.1 s ({S2})"),
        Row("`a2f serve` protocol only (cost-free backend), 10 streams: FPS p1 / throughput", "",
            [("FPS p1", "bench_nim_perf-tiny", "s10_fps_p1"), ("audio s/s", "bench_nim_perf-tiny", "s10_throughput")],
            before=f"412 FPS / 123 audio s/s ({S1})"),
    ]),
]

_OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b}


def _cell(row: Row, records: dict[str, dict | None]) -> tuple[str, str, str]:
    parts, verdicts, sources = [], [], []
    for i, (label, stem, key) in enumerate(row.values):
        rec = records.setdefault(stem, benchlib.load(stem))
        m = rec and rec["metrics"].get(key)
        if not m:
            continue
        value = m["value"]
        parts.append(f"{label} {benchlib.fmt_value(m)}".strip())
        applies = not row.checked or i < row.checked
        if row.check and applies and isinstance(value, (int, float)) and not isinstance(value, bool):
            verdicts.append(_OPS[row.check[0]](value, row.check[1]))
        if stem not in sources:
            sources.append(stem)
    if not parts:
        todo = []
        for stem in dict.fromkeys(stem for _, stem, _ in row.values):
            run = next((r for r in RUNS if r.name == stem), None)
            cmd = f"{run.script} {' '.join(run.args)}".strip() if run else stem.split("-")[0] + ".py"
            todo.append(f"`{cmd}` → results/{stem}.md (not run yet)")
        measured = f"no results file yet; hand-copied before: {row.before}" if row.before else "not run yet"
        return measured, "", "<br>".join(todo)
    missing = len(parts) < len(row.values)
    verdict = "" if not verdicts else ("met" if all(verdicts) else "**missed**" if not any(verdicts) else "partly met")
    links = []
    for stem in sources:
        rec = records[stem]
        load = rec["load_average_start"][:1] + rec["load_average_end"][:1]
        links.append(f"[{stem}](results/{stem}.md) {rec['started'][:16]} UTC, load "
                     f"{'→'.join(f'{x:.1f}' for x in load)}")
    measured = "; ".join(parts) + (" (other values: not run yet)" if missing else "")
    if row.before:
        measured += f"<br>earlier, copied by hand: {row.before}"
    return measured, verdict, "<br>".join(links)


def index_markdown() -> str:
    records: dict[str, dict | None] = {}
    out = [BEGIN, "", "Every number below is read from a results file a script wrote (`bench/results/<name>.md`, "
           "with the command, machine, commit and load average); `python bench/run_all.py --index-only` rewrites "
           "this table. A row whose script has not written results yet shows the last hand-copied number with its "
           "session.", ""]
    for title, rows in INDEX:
        out += [f"### {title}", "", "| what | target | measured | verdict | results file, run at (load 1 min start→end) |",
                "|---|---|---|---|---|"]
        for row in rows:
            measured, verdict, src = _cell(row, records)
            out.append(f"| {row.what} | {row.target or '-'} | {measured} | {verdict or '-'} | {src or '-'} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


def write_index() -> None:
    text = RESULTS_MD.read_text(encoding="utf-8")
    block = index_markdown()
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS_MD.write_text(text, encoding="utf-8")
    print(f"index written: {RESULTS_MD.relative_to(ROOT)}")


# --- running -----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="only the cheap benchmarks")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only these runs (results names, e.g. bench_formats)")
    ap.add_argument("--skip", nargs="+", metavar="NAME", default=[], help="leave these runs out")
    ap.add_argument("--list", action="store_true", help="print the runs and exit")
    ap.add_argument("--index-only", action="store_true", help="only rewrite RESULTS.md's index from bench/results/")
    args = ap.parse_args(argv)
    if args.index_only:
        write_index()
        return 0
    runs = [r for r in plan() if (not args.quick or r.quick) and (not args.only or r.name in args.only)
            and r.name not in args.skip]
    if args.only and (unknown := set(args.only) - {r.name for r in plan()}):
        print(f"unknown run(s): {', '.join(sorted(unknown))}; see --list", file=sys.stderr)
        return 2
    if args.list:
        for r in runs:
            print(f"{r.name:24s} {'quick' if r.quick else 'slow '}  {r.python or 'python'} bench/{r.script} {' '.join(r.args)}")
        return 0
    failed = []
    for r in runs:
        stem = benchlib.RESULTS / r.name
        python = str(ROOT / r.python) if r.python else sys.executable
        if not Path(python).is_file():
            print(f"== {r.name}: skipped, {r.python} not found (`make venvs` makes it)", flush=True)
            continue
        cmd = [python, str(HERE / r.script), *r.args]
        if r.name != Path(r.script).stem:  # a second run of a script keeps its own results file
            cmd += ["--results", str(stem.relative_to(ROOT))]  # relative: results name no machine-local folders
        env = dict(os.environ)
        paths = [str(ROOT)] + [p for p in (r.env.get("PYTHONPATH", ""), os.environ.get("PYTHONPATH", "")) if p]
        env.update(r.env, PYTHONPATH=os.pathsep.join(paths))  # this checkout's code, not an installed copy
        before = stem.with_suffix(".json").stat().st_mtime if stem.with_suffix(".json").exists() else None
        print(f"== {r.name}: {' '.join(cmd[1:])} (load average {benchlib.fmt_load(benchlib.load_average())})", flush=True)
        t0 = time.monotonic()
        rc = subprocess.run(cmd, cwd=ROOT, env=env).returncode
        after = stem.with_suffix(".json").stat().st_mtime if stem.with_suffix(".json").exists() else None
        note = "" if after and after != before else " (wrote no results file: does it use benchlib.Report?)"
        print(f"== {r.name}: exit {rc} in {time.monotonic() - t0:.0f} s{note}", flush=True)
        if rc:
            failed.append(r.name)
    write_index()
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
