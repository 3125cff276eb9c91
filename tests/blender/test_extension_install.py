"""The built linux-x64 extension zip installs into headless Blender and bakes with its own wheels.

The install runs in a child Python that sees only bpy and the packages its wheel declares (what
Blender itself ships: numpy, requests ...): no project venv site-packages, so grpc, pocketsphinx,
soundfile, soxr, yaml and a2f_core can only come from the zip. BLENDER_USER_RESOURCES points at a temporary folder, never the real
user config. The first run downloads the wheels from PyPI into .cache/wheels/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.blender, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # build_addon.py sits at the repo root
EXT_ID = "a2f_lipsync"
AUDIO = ROOT / "tests" / "fixtures" / "bob_movie.wav"  # "Bob made a movie ..."
# What the zip must provide (import name -> where it must come from inside the user folder).
BUNDLED = {
    "a2f_core": "extensions/user_default/" + EXT_ID + "/vendor",
    "grpc": "extensions/.local",
    "grpc_health": "extensions/.local",
    "google.protobuf": "extensions/.local",
    "nvidia_ace": "extensions/.local",
    "nvidia_audio2face_3d": "extensions/.local",
    "pocketsphinx": "extensions/.local",
    "soundfile": "extensions/.local",
    "_cffi_backend": "extensions/.local",
    "typing_extensions": "extensions/.local",
    "soxr": "extensions/.local",
    "yaml": "extensions/.local",
}

if importlib.util.find_spec("bpy") is None:  # pragma: no cover
    pytest.skip("needs the bpy module", allow_module_level=True)


def _build(out: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(ROOT / "build_addon.py"), "--platform", "linux-x64", "--out", str(out), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("dist")
    r = _build(out)
    assert r.returncode == 0, r.stderr
    zips = sorted(out.glob("*.zip"))
    assert [z.name for z in zips] == [f"{EXT_ID}-0.1.0-linux_x64.zip"]
    return zips[0], r.stdout


def test_zip_layout_size_and_manifest(built):
    zpath, stdout = built
    assert zpath.stat().st_size < 100_000_000
    assert "validated by Blender" in stdout and f"{zpath.stat().st_size / 1e6:.1f} MB" in stdout
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
        infos = zf.infolist()
    assert names == sorted(names)
    assert {"__init__.py", "vendor/a2f_core/__init__.py", "blender_manifest.toml"} <= set(names)
    assert any(n.startswith("vendor/presets/") for n in names)
    assert not any(n.startswith(("a2f_core/", "presets/")) for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("tests/", "."))]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}

    assert manifest["id"] == EXT_ID and manifest["platforms"] == ["linux-x64"]
    assert manifest["blender_version_min"] == "4.2.0"
    assert set(manifest["permissions"]) == {"network", "files"}
    wheels = [w.removeprefix("./wheels/") for w in manifest["wheels"]]
    assert sorted(n for n in names if n.startswith("wheels/")) == sorted("wheels/" + w for w in wheels)
    for w in wheels:  # only this platform's wheels (or pure Python ones)
        plat = w[:-4].split("-")[-1]
        assert plat == "any" or ("linux" in plat and plat.endswith("x86_64")), w
    # compiled packages ship one wheel per Blender Python (3.11 for 4.2-5.0, 3.13 for 5.1+)
    for pkg in ("grpcio", "pocketsphinx", "pyyaml", "cffi", "soxr"):
        mine = [w for w in wheels if w.split("-")[0].lower() == pkg]
        assert any("-cp311-" in w for w in mine), (pkg, mine)
        assert any("-cp313-" in w or "abi3" in w for w in mine), (pkg, mine)
    assert not [w for w in wheels if w.startswith(("numpy-", "bpy-"))]  # Blender ships numpy


def test_rebuild_is_byte_identical_and_works_offline(built, tmp_path):
    zpath, _ = built
    r = _build(tmp_path, "--offline")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / zpath.name).read_bytes() == zpath.read_bytes()


def test_offline_without_cached_wheels_names_package_and_platform(tmp_path):
    r = _build(tmp_path / "dist", "--offline", "--cache", str(tmp_path / "empty-cache"))
    assert r.returncode == 2
    err = r.stderr.strip()
    assert err.startswith("build_addon: error: no cached wheel of ") and "linux-x64" in err
    assert "without --offline" in err and "Traceback" not in err
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").glob("*.zip"))


def test_blender_validator_rejects_a_bad_manifest(built, tmp_path):
    import build_addon

    zpath, _ = built
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(zpath) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "blender_manifest.toml":
                data = data.decode().replace('tagline = "', 'tagline = "' + "x" * 70, 1).encode()
            dst.writestr(info, data)
    with pytest.raises(build_addon.BuildError, match="tagline"):
        build_addon.validate_with_blender(bad)


def test_bundled_pins_match_requirements(tmp_path):
    import build_addon

    build_addon.check_pins()  # the real requirements.txt
    req = tmp_path / "requirements.txt"
    req.write_text("numpy==1.26.4\ngrpcio==1.66.0\n")
    with pytest.raises(build_addon.BuildError, match=r"grpcio==1\.67\.1.*grpcio==1\.66\.0"):
        build_addon.check_pins(req)


# Runs in the child: bpy and Blender's own packages only on sys.path, Blender user folder in a temp dir.
_CHILD = r"""
import importlib, importlib.util, json, os, sys
zip_path, audio, out_json, ext_id = sys.argv[1:5]
bundled = json.loads(sys.argv[5])
res = {"before": {m: importlib.util.find_spec(m.split(".")[0]) is not None for m in bundled}}

import bpy
res["bpy"] = bpy.app.version_string
res["user_ext"] = bpy.utils.user_resource("EXTENSIONS")
res["install"] = sorted(bpy.ops.extensions.package_install_files(
    filepath=zip_path, repo="user_default", enable_on_install=True))
mod = "bl_ext.user_default." + ext_id
res["enabled"] = mod in bpy.context.preferences.addons
res["files"] = {m: importlib.import_module(m).__file__ for m in bundled}

from a2f_core import backends, paths
res["presets"] = str(paths.presets_dir())
av = backends.get("local").availability()
res["local"] = [av.ok, av.reason]
backends.backend_class("nim")  # grpc + NVIDIA stubs load inside Blender

demo = importlib.import_module(mod + ".demo_rig")
fcurves_of = importlib.import_module(mod + ".bake.shapekey_action").fcurves_of
scene = bpy.context.scene
ob = demo.build()
s = scene.a2f  # the panel's settings, then the panel's Bake button
s.audio_source, s.audio_path, s.backend = "FILE", audio, "local"
s.use_selected, s.target, s.add_sound_strip = False, ob, False
res["bake"] = sorted(bpy.ops.a2f.bake())
res["report"] = s.last_report
ad = ob.data.shape_keys.animation_data
res["fcurves"] = len(fcurves_of(ad.action, getattr(ad, "action_slot", None)))
fps = scene.render.fps / scene.render.fps_base
first, last = ad.action.frame_range
kb = ob.data.shape_keys.key_blocks
curves = {}
for f in range(int(first), int(last) + 1):
    scene.frame_set(f)
    for name in ("jawOpen", "mouthClose"):
        curves.setdefault(name, []).append([f / fps, kb[name].value])
res["curves"] = curves
res["last_time"] = last / fps

repos = [r.module for r in bpy.context.preferences.extensions.repos]
res["uninstall"] = sorted(bpy.ops.extensions.package_uninstall(
    repo_index=repos.index("user_default"), pkg_id=ext_id))
res["enabled_after_uninstall"] = mod in bpy.context.preferences.addons
with open(out_json, "w") as fh:
    json.dump(res, fh)
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)  # skip interpreter teardown (bpy 4.2 can crash there, blender-notes 12)
"""


def _blender_site(tmp_path: Path) -> tuple[Path, set[str]]:
    """A folder linking bpy and the packages the bpy wheel declares (what Blender itself ships, e.g.
    numpy, requests): the child's whole site-packages. Also returns their top-level module names."""
    from importlib import metadata

    from packaging.requirements import Requirement

    site = tmp_path / "blender-site"
    site.mkdir()
    todo, seen, shipped = ["bpy"], set(), set()
    while todo:
        dist = metadata.distribution(todo.pop())
        if dist.metadata["Name"].lower() in seen:
            continue
        seen.add(dist.metadata["Name"].lower())
        base = Path(str(dist.locate_file("")))
        for top in {Path(str(f)).parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
            if not (site / top).exists():
                (site / top).symlink_to(base / top)
            shipped.add(top.removesuffix(".py"))
        for r in dist.requires or []:
            req = Requirement(r)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return site, shipped


def test_zip_installs_enables_and_bakes_with_bundled_wheels(built, tmp_path):
    zpath, _ = built
    user = tmp_path / "user"
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    out = tmp_path / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "A2F_", "VIRTUAL_ENV"))}
    site, shipped = _blender_site(tmp_path)
    # Blender's own packages may serve a module the zip also carries (bpy 5.2 ships typing_extensions).
    expect = {m: w for m, w in BUNDLED.items() if m.split(".")[0] not in shipped}
    assert {"a2f_core", "grpc", "pocketsphinx", "soundfile", "soxr", "yaml", "google.protobuf"} <= set(expect)
    env.update(
        BLENDER_USER_RESOURCES=str(user),
        HOME=str(tmp_path),
        PYTHONNOUSERSITE="1",
        PYTHONPATH=str(site),
        PYTHONDONTWRITEBYTECODE="1",
    )
    # -S: no site-packages of the test venv at all; -s: no user site either
    cmd = [sys.executable, "-s", "-S", str(script), str(zpath), str(AUDIO), str(out), EXT_ID, json.dumps(list(expect))]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0 and out.is_file(), r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(out.read_text())

    assert not any(res["before"].values()), f"child sees modules outside the zip: {res['before']}"
    assert Path(res["user_ext"]).resolve() == (user / "extensions").resolve()
    assert res["install"] == ["FINISHED"] and res["enabled"]
    for mod, where in expect.items():
        assert Path(res["files"][mod]).resolve().is_relative_to((user / where).resolve()), (mod, res["files"][mod])
    assert Path(res["presets"]).resolve() == (user / "extensions/user_default" / EXT_ID / "vendor" / "presets").resolve()
    assert res["local"][0], res["local"][1]

    # the demo head is animated for the whole clip, and the mouth moves
    assert res["bake"] == ["FINISHED"], res["report"]
    assert res["fcurves"] == 52, res["report"]
    assert res["last_time"] == pytest.approx(4.19, abs=0.1)
    jaw = res["curves"]["jawOpen"]
    phones = json.loads(AUDIO.with_suffix(".json").read_text())["phones"]
    first = phones[0]["start"]
    vowel = next(p for p in phones if p["phone"] == "AA")  # the "o" of "Bob"
    assert max(v for t, v in jaw if t < first - 0.15) < 0.05, jaw  # closed before speech
    assert max(v for t, v in jaw if vowel["start"] <= t <= vowel["end"] + 0.05) > 0.25, jaw  # open on the vowel

    assert res["uninstall"] == ["FINISHED"] and not res["enabled_after_uninstall"]
    assert not (user / "extensions/user_default" / EXT_ID).exists()
