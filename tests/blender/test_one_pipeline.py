"""One pipeline: the same audio and options give the same animation_frames.csv from `a2f infer`, from bake.py
(its keys read back) and from the panel's Bake operator (its keys read back), all with the real bundled backend."""

from __future__ import annotations

import shutil

import bpy
import numpy as np
import pytest
from blender_helpers import HELLO, read_keys
from test_bake_script import run_bake

from a2f_core.cli.main import main
from a2f_core.clip import Clip
from a2f_core.formats import write_animation_csv
from a2f_core.names import ARKIT_52
from addon import demo_rig


def keys_as_csv(ob, n: int, path) -> str:
    """The mesh's keys at frames 0..n-1 (60 fps scene, audio at frame 0) written as animation_frames.csv."""
    weights = read_keys(ob, ARKIT_52, np.arange(n))
    write_animation_csv(path, Clip(list(ARKIT_52), np.arange(n) / 60.0, weights, 60.0))
    return path.read_text()


@pytest.fixture
def take(tmp_path):
    """hello.wav with its transcript twin, in a folder of its own."""
    d = tmp_path / "voice"
    d.mkdir()
    shutil.copy(HELLO, d / "hello.wav")
    shutil.copy(HELLO.with_suffix(".txt"), d / "hello.txt")
    return d / "hello.wav"


def test_cli_bake_script_and_panel_give_identical_csv(addon, take, tmp_path, capsys):
    assert main(["infer", str(take), "--emotion", "joy", "-o", str(tmp_path / "cli")]) == 0
    capsys.readouterr()
    cli = (tmp_path / "cli" / "animation_frames.csv").read_text()
    n = len(cli.splitlines()) - 1
    assert n > 100

    bpy.context.scene.render.fps = 60
    demo_rig.build("Face", segments=32, rings=24)
    scene = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(scene))

    r = run_bake(scene, "--audio", take, "--object", "Face", "--emotion", "joy", "--start-frame", 0, "--no-sound",
                 "--save", tmp_path / "baked.blend")
    assert r.returncode == 0, r.stdout + r.stderr
    bpy.ops.wm.open_mainfile(filepath=str(tmp_path / "baked.blend"))
    from_bake = keys_as_csv(bpy.data.objects["Face"], n, tmp_path / "bake.csv")

    bpy.ops.wm.open_mainfile(filepath=str(scene))
    s = bpy.context.scene.a2f
    s.audio_source, s.audio_path = "FILE", str(take)
    s.target = bpy.data.objects["Face"]
    s.use_selected, s.emotion, s.start_frame, s.add_sound_strip = False, "joy", 0, False
    assert bpy.ops.a2f.bake() == {"FINISHED"}
    from_panel = keys_as_csv(bpy.data.objects["Face"], n, tmp_path / "panel.csv")

    assert from_bake == cli
    assert from_panel == cli
