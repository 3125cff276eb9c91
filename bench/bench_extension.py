"""Blender extension: build time and size (build_addon.py) and install time into headless Blender.

Build: ``python build_addon.py --platform P --out TMP --cache CACHE`` as a user runs it (a fresh process,
Blender's validator included when bpy is installed). Cold = empty wheel cache and pip's cache off, so every
wheel is downloaded; warm = the same cache again (``--offline``); then a second warm build, compared byte for
byte with the first. With ``--all-platforms`` the four platforms are built too (their wheels downloaded first).

Install: the linux-x64 zip goes into the running interpreter's bpy the way tests/blender/test_extension_install.py
does it: a child Python that sees only bpy and the packages bpy declares (``_blender_site`` from that test), a
temporary Blender user folder, ``bpy.ops.extensions.package_install_files(enable_on_install=True)`` (wheels
extracted, add-on enabled), then ``package_uninstall``. To time another Blender version, run this script with that
venv's Python (e.g. ``.venv-b42/bin/python bench/bench_extension.py --results bench/results/bench_extension-b42``).

    .venv/bin/python bench/bench_extension.py [--all-platforms] [--installs 3] [--no-cold]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "tests" / "blender"))

from benchlib import Report, add_results_args  # noqa: E402

import build_addon  # noqa: E402

EXT_ID = "a2f_lipsync"
PLATFORM = "linux-x64"

# Runs in the child: only bpy and what bpy declares on sys.path, Blender's user folder in a temp dir.
_CHILD = r"""
import json, os, sys, time
zip_path, out_json, ext_id = sys.argv[1:4]
res = {}
t0 = time.perf_counter()
import bpy
res["import_bpy_s"] = time.perf_counter() - t0
res["bpy"] = bpy.app.version_string
t0 = time.perf_counter()
res["install"] = sorted(bpy.ops.extensions.package_install_files(
    filepath=zip_path, repo="user_default", enable_on_install=True))
res["install_enable_s"] = time.perf_counter() - t0
res["enabled"] = "bl_ext.user_default." + ext_id in bpy.context.preferences.addons
repos = [r.module for r in bpy.context.preferences.extensions.repos]
t0 = time.perf_counter()
res["uninstall"] = sorted(bpy.ops.extensions.package_uninstall(repo_index=repos.index("user_default"), pkg_id=ext_id))
res["uninstall_s"] = time.perf_counter() - t0
with open(out_json, "w") as fh:
    json.dump(res, fh)
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown (bpy 4.2 can crash there)
"""


def build(out: Path, cache: Path, platforms: list[str], *extra: str) -> float:
    cmd = [sys.executable, str(ROOT / "build_addon.py"), "--out", str(out), "--cache", str(cache), *extra]
    for p in platforms:
        cmd += ["--platform", p]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=1800)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"build failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    print("    " + r.stdout.strip().replace("\n", "\n    "), file=sys.stderr)
    return dt


def digest(folder: Path) -> dict[str, str]:
    return {z.name: hashlib.sha256(z.read_bytes()).hexdigest() for z in sorted(folder.glob("*.zip"))}


def install_once(zip_path: Path, tmp: Path) -> dict:
    from test_extension_install import _blender_site  # the test's isolated site: bpy + what bpy declares

    work = Path(tempfile.mkdtemp(dir=tmp))
    script, out = work / "child.py", work / "result.json"
    script.write_text(_CHILD)
    site, _ = _blender_site(work)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "A2F_", "VIRTUAL_ENV"))}
    env.update(BLENDER_USER_RESOURCES=str(work / "user"), HOME=str(work), PYTHONNOUSERSITE="1",
               PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-s", "-S", str(script), str(zip_path), str(out), EXT_ID]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=work, env=env, timeout=600)
    wall = time.perf_counter() - t0
    if r.returncode != 0 or not out.is_file():
        raise SystemExit(f"install child failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    res = json.loads(out.read_text())
    if res["install"] != ["FINISHED"] or not res["enabled"] or res["uninstall"] != ["FINISHED"]:
        raise SystemExit(f"install child did not install, enable and uninstall: {res}")
    res["process_s"] = wall
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--all-platforms", action="store_true", help="also build all four platforms (warm, after download)")
    ap.add_argument("--no-cold", action="store_true",
                    help=f"skip the cold build: use the project's wheel cache ({build_addon.CACHE.relative_to(ROOT)})")
    ap.add_argument("--installs", type=int, default=3, help="install runs (best is reported)")
    add_results_args(ap)
    args = ap.parse_args(argv)
    with Report(__file__, "Blender extension: build and install", args) as rep, tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        cache = build_addon.CACHE if args.no_cold else tmp / "wheels"
        print("| build | platforms | wall s |")
        print("|---|---|---|")
        if not args.no_cold:
            os.environ["PIP_NO_CACHE_DIR"] = "1"  # cold: nothing from pip's own cache either
            dt = build(tmp / "cold", cache, [PLATFORM])
            del os.environ["PIP_NO_CACHE_DIR"]
            print(f"| cold: empty wheel cache, pip cache off (downloads every wheel) | {PLATFORM} | {dt:.1f} |", flush=True)
            rep.metric("build_cold_s", round(dt, 1), "s", f"build, {PLATFORM}, cold (all wheels downloaded)")
        else:
            dt = build(tmp / "first", cache, [PLATFORM])
            print(f"| first: the project's wheel cache (downloads only what it lacks) | {PLATFORM} | {dt:.1f} |", flush=True)
        warm = []
        for i in (1, 2):
            warm.append(build(tmp / f"warm{i}", cache, [PLATFORM], "--offline"))
            print(f"| warm {i}: cached wheels, `--offline` | {PLATFORM} | {warm[-1]:.1f} |", flush=True)
        rep.metric("build_warm_s", round(min(warm), 2), "s", f"build, {PLATFORM}, warm cache, with validation")
        same = digest(tmp / "warm1") == digest(tmp / "warm2")
        rep.metric("build_reproducible", same, "", "two warm builds byte-identical (sha256)")
        sizes = {z.name: z.stat().st_size / 1e6 for z in sorted((tmp / "warm1").glob("*.zip"))}
        if args.all_platforms:
            dt = build(tmp / "download", cache, list(build_addon.PLATFORMS))
            print(f"| first build of all four (downloads the other platforms' wheels) | all | {dt:.1f} |")
            rep.metric("build_all_first_s", round(dt, 1), "s", "first build of all four platforms (downloads their wheels)")
            dt = build(tmp / "all", cache, list(build_addon.PLATFORMS), "--offline")
            print(f"| warm, all four platforms | all | {dt:.1f} |", flush=True)
            rep.metric("build_all_warm_s", round(dt, 1), "s", "build, all four platforms, warm cache, with validation")
            sizes = {z.name: z.stat().st_size / 1e6 for z in sorted((tmp / "all").glob("*.zip"))}
        print(f"\nTwo warm builds byte-identical: {'yes' if same else 'NO'}")
        print(f"Wheel cache after the builds: {sum(f.stat().st_size for f in cache.glob('*.whl')) / 1e6:.0f} MB")
        print("\n| zip | size MB (limit 100) |")
        print("|---|---|")
        for name, mb in sizes.items():
            print(f"| `{name}` | {mb:.1f} |")
        rep.metric("zip_max_mb", round(max(sizes.values()), 1), "MB", f"largest zip of {len(sizes)} built")
        rep.metric("zip_min_mb", round(min(sizes.values()), 1), "MB", f"smallest zip of {len(sizes)} built")

        zip_path = next((tmp / "warm1").glob("*.zip"))
        runs = [install_once(zip_path, tmp) for _ in range(args.installs)]
        best = min(runs, key=lambda r: r["install_enable_s"])
        print(f"\nInstall into headless Blender (bpy {best['bpy']}, Python {sys.version.split()[0]}), best of {len(runs)}:\n")
        print("| `import bpy` s | install + wheel extraction + enable s | uninstall s | child process wall s |")
        print("|---|---|---|---|")
        print(f"| {best['import_bpy_s']:.2f} | {best['install_enable_s']:.2f} | {best['uninstall_s']:.2f} | "
              f"{best['process_s']:.2f} |")
        print("(all runs, install + enable s: " + ", ".join(f"{r['install_enable_s']:.2f}" for r in runs) + ")")
        rep.metric("install_enable_s", round(best["install_enable_s"], 2), "s",
                   f"install + enable into headless Blender, bpy {best['bpy']}")
        rep.metric("import_bpy_s", round(best["import_bpy_s"], 2), "s", f"import bpy {best['bpy']} in the child")
    return 0


if __name__ == "__main__":
    sys.exit(main())
