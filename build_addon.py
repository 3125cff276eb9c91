#!/usr/bin/env python3
"""Build the Blender extension: one zip per platform, with the wheels that platform needs.

    python build_addon.py                      # all platforms into dist/
    python build_addon.py --platform linux-x64 --out dist --offline
    python build_addon.py --words | --words-base    # the optional Whisper packs (build_words_pack.py)

Each zip holds the add-on package (addon/ at the zip root), a2f_core/ and presets/ in its vendor/ folder,
wheels/ and a blender_manifest.toml listing exactly that platform's wheels. Wheels come from PyPI
(``pip download --only-binary=:all: --no-deps``) for Python 3.11 (Blender 4.2-5.0) and 3.13
(Blender 5.1+) and are cached in .cache/wheels/ so rebuilds work offline. Zips are reproducible:
sorted entries, fixed timestamps and permissions. No bpy is needed to build; if the bpy module is
installed, each zip is also checked with Blender's own validator (blender_ext.py; or set
$A2F_BLENDER_EXT to the path of a blender_ext.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from a2f_core.errors import A2FError  # noqa: E402

try:  # pip vendors packaging; a standalone install is used when present
    from packaging import tags as _tags
    from packaging.utils import parse_wheel_filename
except ImportError:  # pragma: no cover
    from pip._vendor.packaging import tags as _tags  # type: ignore
    from pip._vendor.packaging.utils import parse_wheel_filename  # type: ignore

MANIFEST = ROOT / "blender_manifest.toml"
CACHE = ROOT / ".cache" / "wheels"
ADDON_DIR = ROOT / "addon"
# Copied inside the add-on package, next to its __init__.py.
PAYLOAD_DIRS = ("a2f_core", "presets")
# Inside the add-on folder; only this folder goes on sys.path, so the add-on's own subpackages
# (bake, export, ui, ...) never shadow another add-on's modules.
VENDOR = "vendor"
MAX_ZIP_BYTES = 100_000_000  # 100 MB

# Blender 4.2-5.0 run Python 3.11, Blender 5.1+ Python 3.13.
PYTHONS = ((3, 11), (3, 13))

# What a2f_core imports at run time inside Blender (Blender ships numpy). Versions match
# requirements.txt; cffi, pycparser and typing-extensions are soundfile's dependencies
# (pinned to what the project venv resolves). pocketsphinx needs sounddevice only for live
# microphone input, which a2f_core does not use, so it is not bundled.
WHEELS: dict[str, str] = {
    "cffi": "2.1.1",
    "grpcio": "1.67.1",
    "grpcio-health-checking": "1.67.1",
    "nvidia-ace": "1.0.0",
    "nvidia-audio2face-3d": "1.3.0",
    "pocketsphinx": "5.1.1",
    "protobuf": "5.29.6",
    "pycparser": "3.12",
    "pyyaml": "6.0.3",
    "soundfile": "0.14.0",
    "soxr": "1.1.0",
    "typing-extensions": "4.16.0",
}

# Blender platform -> wheel platform tags it accepts, best first. Linux: Blender needs glibc
# 2.28; macOS: Blender 4.2+ needs macOS 11.
_LINUX = [f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
]
PLATFORMS: dict[str, list[str]] = {
    "linux-x64": _LINUX,
    "macos-arm64": list(_tags.mac_platforms((11, 0), "arm64")),
    "macos-x64": list(_tags.mac_platforms((11, 0), "x86_64")),
    "windows-x64": ["win_amd64"],
}

_SKIP_DIRS = {"__pycache__", "tests", "test"}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".blend1", ".orig", ".rej", "~")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BuildError(A2FError):
    """A build that cannot complete (missing wheel, bad manifest, zip too large ...)."""


@dataclass
class Built:
    platform: str
    path: Path
    size: int
    wheels: list[str]
    validated: bool | None  # None: Blender's validator was not available


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_pins(requirements: Path = ROOT / "requirements.txt") -> None:
    """Fail if a bundled wheel's version differs from its pin in requirements.txt."""
    pins: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if m:
            pins[_canon(m.group(1))] = m.group(2)
    for name, version in WHEELS.items():
        if _canon(name) in pins and pins[_canon(name)] != version:
            raise BuildError(
                f"build_addon.py bundles {name}=={version} but {requirements.name} pins "
                f"{name}=={pins[_canon(name)]}; make the two pins equal"
            )


def _wanted_tags(python: tuple[int, int], platform: str) -> list[_tags.Tag]:
    plats = PLATFORMS[platform]
    abi = f"cp{python[0]}{python[1]}"
    return [
        *_tags.cpython_tags(python, [abi], plats),
        *_tags.compatible_tags(python, f"cp{python[0]}{python[1]}", plats),
    ]


def _pick(cache: Path, name: str, version: str, python: tuple[int, int], platform: str) -> Path | None:
    """The best cached wheel of name==version for this Python and platform, or None."""
    rank = {t: i for i, t in enumerate(_wanted_tags(python, platform))}
    best: tuple[int, str, Path] | None = None
    for f in cache.glob("*.whl"):
        try:
            wname, wver, _build, wtags = parse_wheel_filename(f.name)
        except Exception:
            continue
        if _canon(wname) != _canon(name) or str(wver) != version:
            continue
        score = min((rank[t] for t in wtags if t in rank), default=None)
        if score is not None and (best is None or (score, f.name) < best[:2]):
            best = (score, f.name, f)
    return best[2] if best else None


def _download(cache: Path, name: str, version: str, python: tuple[int, int], platform: str) -> None:
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--quiet",
        "--only-binary=:all:",
        "--no-deps",
        "--implementation",
        "cp",
        "--python-version",
        f"{python[0]}.{python[1]}",
        "--dest",
        str(cache),
    ]
    for p in PLATFORMS[platform]:
        cmd += ["--platform", p]
    cmd.append(f"{name}=={version}")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        tail = " ".join((r.stderr or r.stdout).strip().splitlines()[-2:])
        raise BuildError(
            f"no wheel of {name}=={version} for Python {python[0]}.{python[1]} on {platform} "
            f"could be downloaded from PyPI ({tail or 'pip failed'})"
        )


def collect_wheels(platform: str, *, cache: Path = CACHE, offline: bool = False) -> list[Path]:
    """Every bundled wheel this platform needs, for both Pythons (downloads what the cache lacks)."""
    cache.mkdir(parents=True, exist_ok=True)
    found: set[Path] = set()
    for name, version in WHEELS.items():
        for py in PYTHONS:
            w = _pick(cache, name, version, py, platform)
            if w is None and not offline:
                _download(cache, name, version, py, platform)
                w = _pick(cache, name, version, py, platform)
            if w is None:
                where = f"Python {py[0]}.{py[1]} on {platform}"
                if offline:
                    raise BuildError(
                        f"no cached wheel of {name}=={version} for {where} in {_rel(cache)}; "
                        "run once without --offline to download it"
                    )
                raise BuildError(f"PyPI has no wheel of {name}=={version} for {where}")
            found.add(w)
    return sorted(found, key=lambda p: p.name)


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def _tree(src: Path, prefix: str) -> dict[str, Path]:
    """Files under src as zip names (prefix + relative path), minus caches, tests and dotfiles."""
    out: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS and not d.startswith(".")]
        for fn in filenames:
            if fn.startswith(".") or fn.endswith(_SKIP_SUFFIXES):
                continue
            path = Path(dirpath, fn)
            out[prefix + path.relative_to(src).as_posix()] = path
    return out


def manifest_text(platform: str | None, wheel_names: list[str], source: Path = MANIFEST) -> str:
    """The source manifest plus this platform's `platforms` and `wheels` keys (platform None: no `platforms`
    key, for a zip of pure-Python wheels that serves every platform)."""
    if not source.is_file():
        raise BuildError(f"{_rel(source)} not found: the extension manifest is missing")
    text = source.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise BuildError(f"{_rel(source)} is not valid TOML: {e}") from None
    for key in ("platforms", "wheels"):
        if key in data:
            raise BuildError(f"{_rel(source)} must not set '{key}': build_addon.py adds it when it builds the zip")
    lines = text.splitlines(keepends=True)
    # Top-level keys must come before the first [table].
    at = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("[")), len(lines))
    block = [f'platforms = ["{platform}"]\n'] if platform is not None else []
    block += ["wheels = [\n"]
    block += [f'  "./wheels/{w}",\n' for w in wheel_names]
    block += ["]\n", "\n"]
    out = "".join(lines[:at] + block + lines[at:])
    parsed = tomllib.loads(out)
    assert parsed["wheels"] == [f"./wheels/{w}" for w in wheel_names]
    return out


def _write_zip(path: Path, entries: dict[str, bytes]) -> None:
    tmp = path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.create_system = 3  # unix, so the mode below is honoured
            info.external_attr = 0o100644 << 16
            # Wheels are zips already: store them; deflate the rest.
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".whl") else zipfile.ZIP_DEFLATED
            zf.writestr(info, entries[name], compresslevel=9)
    os.replace(tmp, path)


def _find_validator() -> tuple[Path, Path | None] | None:
    """Blender's standalone blender_ext.py (and its tags list) from the installed bpy module."""
    env = os.environ.get("A2F_BLENDER_EXT")
    if env:
        return Path(env), None
    try:
        spec = importlib.util.find_spec("bpy")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return None
    base = Path(spec.origin).parent
    hits = sorted(base.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not hits:
        return None
    scripts = hits[-1].parents[3]
    tags = scripts / "modules" / "_bpy_internal" / "extensions" / "tags.py"
    return hits[-1], (tags if tags.is_file() else None)


def validate_with_blender(zip_path: Path) -> bool | None:
    """Run Blender's `extension validate` on the zip; None if no validator is installed."""
    found = _find_validator()
    if found is None:
        return None
    script, tags = found
    cmd = [sys.executable, str(script), "validate", "--valid-tags", str(tags) if tags else "", str(zip_path)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        msg = " ".join((r.stdout + r.stderr).split())
        raise BuildError(f"Blender's validator rejected {_rel(zip_path)}: {msg}")
    return True


def check_zip(zip_path: Path, max_bytes: int | None = None) -> dict:
    """Own checks of a built zip: manifest, add-on entry point, wheels listed == wheels shipped, size (under
    max_bytes; default MAX_ZIP_BYTES)."""
    limit = MAX_ZIP_BYTES if max_bytes is None else max_bytes
    size = zip_path.stat().st_size
    if size >= limit:
        raise BuildError(f"{_rel(zip_path)} is {size / 1e6:.1f} MB; extension zips must stay under {limit / 1e6:g} MB")
    with zipfile.ZipFile(zip_path) as zf:
        names = set(zf.namelist())
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode("utf-8"))
    if "__init__.py" not in names:
        raise BuildError(f"{_rel(zip_path)} has no __init__.py at its root")
    listed = {w.removeprefix("./") for w in manifest.get("wheels", [])}
    shipped = {n for n in names if n.startswith("wheels/")}
    if listed != shipped:
        raise BuildError(
            f"{_rel(zip_path)}: manifest wheels and wheels/ differ "
            f"(missing: {sorted(listed - shipped)}, unlisted: {sorted(shipped - listed)})"
        )
    return manifest


def build_platform(
    platform: str, out: Path, *, cache: Path = CACHE, offline: bool = False, validate: bool = True
) -> Built:
    if platform not in PLATFORMS:
        raise BuildError(f"unknown platform '{platform}'; choose from: {', '.join(PLATFORMS)}")
    if not (ADDON_DIR / "__init__.py").is_file():
        raise BuildError(f"{_rel(ADDON_DIR / '__init__.py')} not found: the add-on package is missing")
    wheels = collect_wheels(platform, cache=cache, offline=offline)
    files = _tree(ADDON_DIR, "")
    for d in PAYLOAD_DIRS:
        files.update(_tree(ROOT / d, f"{VENDOR}/{d}/"))
    if (ROOT / "LICENSE").is_file():
        files["LICENSE"] = ROOT / "LICENSE"
    entries = {name: p.read_bytes() for name, p in files.items()}
    for w in wheels:
        entries[f"wheels/{w.name}"] = w.read_bytes()
    entries["blender_manifest.toml"] = manifest_text(platform, [w.name for w in wheels]).encode("utf-8")

    data = tomllib.loads(entries["blender_manifest.toml"].decode("utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{data['id']}-{data['version']}-{platform.replace('-', '_')}.zip"
    _write_zip(path, entries)
    try:
        check_zip(path)
        validated = validate_with_blender(path) if validate else None
    except BaseException:
        path.unlink(missing_ok=True)  # never leave a zip that failed its checks
        raise
    return Built(platform, path, path.stat().st_size, [w.name for w in wheels], validated)


def build(
    platforms: list[str] | None = None,
    out: Path = ROOT / "dist",
    *,
    cache: Path = CACHE,
    offline: bool = False,
    validate: bool = True,
) -> list[Built]:
    check_pins()
    return [
        build_platform(p, out, cache=cache, offline=offline, validate=validate) for p in (platforms or list(PLATFORMS))
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument(
        "--platform", action="append", choices=list(PLATFORMS), help="platform to build (repeatable; default: all)"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    ap.add_argument("--offline", action="store_true", help="use only wheels already in .cache/wheels/")
    ap.add_argument("--cache", type=Path, default=CACHE, help=argparse.SUPPRESS)
    ap.add_argument("--no-validate", action="store_true", help="skip Blender's extension validator")
    pack = ap.add_mutually_exclusive_group()
    pack.add_argument("--words", action="store_true",
                      help="build the 'A2F Speech Words' packs (Whisper tiny.en + ctranslate2) instead (build_words_pack.py)")
    pack.add_argument("--words-base", action="store_true",
                      help="build the 'A2F Speech Words: Whisper base' pack instead: one zip for every platform "
                           "(build_words_pack.py)")
    args = ap.parse_args(argv)
    if args.words_base and args.platform:
        ap.error("--words-base builds one zip for every platform; drop --platform")
    try:
        check_pins()
        for platform in ([None] if args.words_base else args.platform or list(PLATFORMS)):
            notes: list[str] = []
            if platform is None:
                import build_words_pack

                b, notes = build_words_pack.build_model_pack(
                    args.out, cache=args.cache, offline=args.offline, validate=not args.no_validate
                )
            elif args.words:
                import build_words_pack

                b, notes = build_words_pack.build_platform(
                    platform, args.out, cache=args.cache, offline=args.offline, validate=not args.no_validate
                )
            else:
                b = build_platform(
                    platform, args.out, cache=args.cache, offline=args.offline, validate=not args.no_validate
                )
            note = (
                "validated by Blender"
                if b.validated
                else (
                    "not validated: skipped"
                    if args.no_validate
                    else "not validated: no bpy module with Blender's blender_ext.py found"
                )
            )
            print(f"{_rel(b.path)}  {b.size / 1e6:.1f} MB  {len(b.wheels)} wheels  ({note})")
            for n in notes:
                print(f"  note: {n}")
    except A2FError as e:
        print(f"build_addon: error: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
