"""Run the benchmarks one after another (they share the 2 cores, so never in parallel).

    .venv/bin/python bench/run_all.py

Each script prints its table and writes its per-area file (bench/results_*.md); copy the headline numbers
into bench/RESULTS.md with the machine and the load they were measured under.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ["bench_local_rtf.py", "--repeat", "2"],
    ["bench_local_quality.py"],
    ["bench_words.py"],
    ["bench_keys.py"],
    ["bench_nim_perf.py"],
    ["bench_nim_perf.py", "--quality", "fast"],
]


def main() -> int:
    failed = []
    for script, *args in SCRIPTS:
        print(f"== {script} {' '.join(args)} (load {os.getloadavg()[0]:.1f})", flush=True)
        if subprocess.run([sys.executable, str(HERE / script), *args], cwd=HERE.parent).returncode:
            failed.append(script)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
