"""Preset load time (a2f_core.presets, a2f_core.retarget): every shipped character (multipliers + offsets,
validated), emotion and rig preset, through the same functions `a2f infer`, bake.py and the add-on call. There
is no cache, so every call reads and validates the YAML file; the time is the best of ``--repeat`` calls, after
one untimed call (imports done, file in the OS cache); also the first call in a fresh process, import included.

    .venv/bin/python bench/bench_presets.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Report, add_results_args  # noqa: E402

from a2f_core import presets, retarget  # noqa: E402


def best_ms(repeat: int, fn, *args) -> float:
    fn(*args)  # warm: imports and the file in the OS cache
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20, help="timed calls per preset (best is reported)")
    add_results_args(ap)
    args = ap.parse_args(argv)
    with Report(__file__, "Preset load time", args) as rep:
        print(f"best of {args.repeat} calls, after one untimed call; YAML loader: {presets._Loader.__name__}\n")
        print("| kind | preset | call | ms |")
        print("|---|---|---|---|")
        kinds = [
            ("character", presets.list_characters(), presets.load_character, "presets.load_character"),
            ("emotion", presets.list_emotions(), presets.load_emotion, "presets.load_emotion"),
            ("rig", retarget.list_rig_presets(), retarget.load_rig_preset, "retarget.load_rig_preset"),
        ]
        for kind, names, fn, call in kinds:
            worst = 0.0
            for name in names:
                ms = best_ms(args.repeat, fn, name)
                worst = max(worst, ms)
                print(f"| {kind} | {name} | `{call}({name!r})` | {ms:.2f} |", flush=True)
                if (kind, name) == ("character", "mark"):
                    rep.metric("character_mark_ms", round(ms, 2), "ms", 'presets.load_character("mark")')
            rep.metric(f"{kind}_max_ms", round(worst, 2), "ms", f"slowest {kind} preset ({len(names)} shipped)")
        code = ("import time; t0 = time.perf_counter(); from a2f_core import presets; "
                "presets.load_character('mark'); print((time.perf_counter() - t0) * 1000)")
        cold = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                     cwd=ROOT).stdout) for _ in range(3)]
        print(f"| character, cold | mark | fresh process: `import a2f_core.presets` + first `load_character('mark')` "
              f"(best of 3 processes) | {min(cold):.1f} |")
        rep.metric("character_mark_cold_ms", round(min(cold), 1), "ms", "import a2f_core.presets + first load_character('mark'), fresh process")
        ms = best_ms(args.repeat, lambda: presets.apply_emotion(presets.load_character("claire"), "joy", 0.6))
        print(f"| character + emotion | claire + joy | `apply_emotion(load_character('claire'), 'joy', 0.6)` | {ms:.2f} |")
        rep.metric("claire_joy_ms", round(ms, 2), "ms", "claire + joy at 0.6 (load_character + apply_emotion)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
