"""Shared by the bench scripts: every script writes its own results, with the machine they were measured on.

    from benchlib import Report, add_results_args

    ap = argparse.ArgumentParser(); add_results_args(ap); args = ap.parse_args()
    with Report(__file__, "CSV and JSON read/write speed", args) as rep:
        print("| a | b |")           # printed lines go to the terminal and into the results file
        rep.metric("csv_write_600s_s", 4.3, "s", "animation_frames.csv, 10 min x 52 channels, write")

On success this writes ``bench/results/<script>.md`` (a header with the command, machine and load average, then
everything the script printed: its human-readable tables) and ``bench/results/<script>.json`` (the same header
data, the metrics and the printed text), replacing that script's previous results. A run that fails writes
nothing, so the last good results stay. ``--results STEM`` writes ``STEM.md`` / ``STEM.json`` instead (run_all.py
uses it when one script runs with two settings); ``--no-results`` only prints.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import io
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"


def add_results_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--results", metavar="STEM", default=None,
                    help="write STEM.md and STEM.json (default: bench/results/<script name>)")
    ap.add_argument("--no-results", action="store_true", help="print only; leave the results files alone")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _git(*args: str) -> str:
    try:
        r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return r.stdout.strip() if r.returncode == 0 else ""


def _versions() -> dict[str, str]:
    """Versions of the libraries the numbers depend on, where installed (bpy only if the script imported it)."""
    from importlib import metadata

    out = {}
    for dist in ("numpy", "pocketsphinx", "grpcio", "pyyaml", "soxr", "soundfile"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    bpy = sys.modules.get("bpy")
    if bpy is not None:
        out["bpy"] = getattr(getattr(bpy, "app", None), "version_string", "?")
    return out


def _relative(path: str) -> str:
    """A path inside the checkout as a relative one (results files name no machine-local folders)."""
    try:
        return str(Path(path).relative_to(ROOT))
    except ValueError:
        return Path(path).name


def machine() -> dict[str, Any]:
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem = 0.0
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "os": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "python_executable": _relative(sys.executable),
    }


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class _Tee(io.TextIOBase):
    def __init__(self, stream):
        self.stream, self.parts = stream, []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return self.stream.write(s)

    def flush(self) -> None:
        self.stream.flush()


class Report:
    """Context manager: captures what the script prints and writes its results file on a clean exit."""

    def __init__(self, script: str, title: str, args: argparse.Namespace | None = None, notes: str = ""):
        self.script = Path(script).resolve()
        self.title, self.notes = title, notes
        stem = getattr(args, "results", None)
        self.stem = Path(stem) if stem else RESULTS / self.script.stem
        self.enabled = not getattr(args, "no_results", False)
        self.metrics: dict[str, dict[str, Any]] = {}
        self.data: dict[str, Any] = {}

    def metric(self, key: str, value: Any, unit: str = "", what: str = "") -> None:
        """A headline number (RESULTS.md's index reads these by key)."""
        self.metrics[key] = {"value": value, "unit": unit, "what": what}

    def __enter__(self) -> Report:
        self.started, self.load_start = _now(), load_average()
        self._t0 = _dt.datetime.now(_dt.UTC)
        self._tee = _Tee(sys.stdout)
        self._stdout, sys.stdout = sys.stdout, self._tee  # type: ignore[assignment]
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        sys.stdout = self._stdout
        if exc_type is not None and not (exc_type is SystemExit and exc.code in (0, None)):
            print(f"(results not written: {exc_type.__name__})", file=sys.stderr)
            return
        if self.enabled:
            self.write("".join(self._tee.parts))

    def write(self, printed: str) -> None:
        seconds = (_dt.datetime.now(_dt.UTC) - self._t0).total_seconds()
        rel = self.script.relative_to(ROOT) if self.script.is_relative_to(ROOT) else self.script
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
        record = {
            "script": str(rel),
            "command": " ".join([f"python {rel}", *sys.argv[1:]]),
            "title": self.title,
            "started": self.started,
            "finished": _now(),
            "seconds": round(seconds, 1),
            "load_average_start": self.load_start,
            "load_average_end": load_average(),
            "commit": _git("rev-parse", "--short", "HEAD") + (" (uncommitted changes)" if dirty else ""),
            "machine": machine(),
            "versions": _versions(),
            "metrics": self.metrics,
            "data": self.data,
            "notes": self.notes,
            "printed": printed,
        }
        self.stem.parent.mkdir(parents=True, exist_ok=True)
        self.stem.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        self.stem.with_suffix(".md").write_text(markdown(record), encoding="utf-8")
        print(f"results: {self.stem.with_suffix('.md')} (+ .json)", file=sys.stderr)


def describe_machine(record: dict[str, Any]) -> str:
    m = record["machine"]
    vers = ", ".join(f"{k} {v}" for k, v in record.get("versions", {}).items())
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, Python {m['python']}"
            + (f", {vers}" if vers else ""))


def fmt_load(load: list[float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load) if load else "unknown"


def markdown(record: dict[str, Any]) -> str:
    lines = [
        f"# {record['title']} (`{record['script']}`)",
        "",
        "Written by the script; do not edit by hand (rerun it instead).",
        "",
        f"- Command: `{record['command']}`",
        f"- When: {record['started']} to {record['finished']} ({record['seconds']:.0f} s), commit {record['commit']}",
        f"- Machine: {describe_machine(record)}",
        f"- Load average (1 / 5 / 15 min) at the start: {fmt_load(record['load_average_start'])}; "
        f"at the end: {fmt_load(record['load_average_end'])} (a shared box: higher load, slower numbers)",
    ]
    if record.get("notes"):
        lines += ["", record["notes"]]
    if record["metrics"]:
        lines += ["", "| headline | value |", "|---|---|"]
        for key, m in record["metrics"].items():
            lines.append(f"| {m['what'] or key} (`{key}`) | {fmt_value(m)} |")
    lines += ["", "## Output", "", record["printed"].rstrip(), ""]
    return "\n".join(lines)


def fmt_value(m: dict[str, Any]) -> str:
    v = m["value"]
    if isinstance(v, bool):
        v = "yes" if v else "no"
    elif isinstance(v, (int, float)):
        v = f"{v:.3g}" if abs(v) < 100 and isinstance(v, float) else f"{v:,.0f}"
    return f"{v} {m['unit']}".strip()


def load(stem: str | Path) -> dict[str, Any] | None:
    """A results record by script stem (``bench_formats``) or path stem, or None if the script never wrote one."""
    p = Path(stem)
    p = p if p.parent != Path(".") else RESULTS / p
    try:
        return json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
