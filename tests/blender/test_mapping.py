"""Rig mapping: name matching (ARKit, PascalCase, _L/_R, .L/.R, prefixes), presets, weighted N:M, reports."""

from __future__ import annotations

import numpy as np
import pytest
from blender_helpers import read_keys, wave_clip

from a2f_core import retarget
from a2f_core.errors import ConfigError, MappingError
from a2f_core.names import ARKIT_52, NVIDIA_52
from addon import demo_rig
from addon.bake import steps

VARIANTS = {
    "arkit": list(ARKIT_52),
    "pascal": list(NVIDIA_52),
    "suffix_LR": [n.replace("Left", "_L").replace("Right", "_R") for n in ARKIT_52],
    "dot_LR": [n.replace("Left", ".L").replace("Right", ".R") for n in ARKIT_52],
    "maya_prefix": [f"blendShape1.{n}" for n in ARKIT_52],
    "namespace_upper": [f"Head:{n.upper()}" for n in ARKIT_52],
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_names_match_one_to_one(variant):
    keys = ["Basis", *VARIANTS[variant]]
    m = retarget.build_mapping(NVIDIA_52, keys)
    assert {t.key: t.sources for t in m.targets} == {k: [(a, 1.0)] for k, a in zip(VARIANTS[variant], ARKIT_52)}
    assert m.unmatched_channels == [] and m.unused_keys == []


@pytest.mark.parametrize("variant", ["pascal", "suffix_LR", "maya_prefix"])
def test_bake_onto_renamed_keys_reads_back_per_channel(variant):
    import bpy

    bpy.context.scene.render.fps = 60
    ob = demo_rig.build(key_names=VARIANTS[variant], segments=32, rings=24)
    clip = wave_clip(40)
    job = steps.Job(spec=steps.BakeSpec(objects=[ob.name]), take="t", source="synthetic")
    job.clip = clip
    steps.write(job)
    got = read_keys(ob, VARIANTS[variant], np.arange(40))
    np.testing.assert_allclose(got, clip.weights, atol=1e-6)


def test_report_lists_unmatched_channels_and_unused_keys():
    keys = ["Basis", "jawOpen", "eyeBlink_L", "viseme_aa", "Fcl_ALL_Joy"]
    m = retarget.build_mapping(NVIDIA_52, keys)
    assert m.keys == ["eyeBlink_L", "jawOpen"]
    assert len(m.unmatched_channels) == 50 and "mouthClose" in m.unmatched_channels
    assert m.unused_keys == ["viseme_aa", "Fcl_ALL_Joy"]
    assert retarget.build_mapping(NVIDIA_52, keys, "ready_player_me").unused_keys == ["Fcl_ALL_Joy"]
    assert retarget.build_mapping(NVIDIA_52, keys, "vrm_perfect_sync").unused_keys == ["viseme_aa"]


def test_nothing_maps_is_a_clear_error():
    with pytest.raises(MappingError, match=r"no clip channel maps onto a shape key of mesh 'Face'.*Key 1"):
        retarget.build_mapping(ARKIT_52, ["Basis", "Key 1", "Key 2"], what="mesh 'Face'")


def test_weighted_n_to_m_with_multiplier_and_offset(tmp_path):
    yml = tmp_path / "rig.yaml"
    yml.write_text(
        "name: test\n"
        "map:\n"
        "  BrowInner_L: browInnerUp\n"
        "  BrowInner_R: {BrowInnerUp: 0.5}\n"
        "  Blink: {eyeBlinkLeft: 0.5, EyeBlinkRight: 0.5}\n"
        "channels:\n"
        "  jawOpen: {multiplier: 2.0, offset: -0.1}\n"
        "ignore_keys: ['Extra*']\n",
        encoding="utf-8",
    )
    clip = wave_clip(20)
    keys = ["Basis", "BrowInner_L", "BrowInner_R", "Blink", "JAW_OPEN", "Extra1"]
    m = retarget.build_mapping(clip.names, keys, str(yml))
    assert m.keys == ["BrowInner_L", "BrowInner_R", "Blink", "JAW_OPEN"]
    v = m.apply(clip)
    c = clip.channel
    np.testing.assert_allclose(v[:, 0], c("browInnerUp"), atol=1e-6)
    np.testing.assert_allclose(v[:, 1], 0.5 * c("browInnerUp"), atol=1e-6)
    np.testing.assert_allclose(v[:, 2], 0.5 * c("eyeBlinkLeft") + 0.5 * c("eyeBlinkRight"), atol=1e-6)
    np.testing.assert_allclose(v[:, 3], 2.0 * c("jawOpen") - 0.1, atol=1e-6)
    assert m.unused_keys == [] and "eyeBlinkLeft" not in m.unmatched_channels


def test_bad_mapping_files_name_the_file_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("map:\n  Blink: {eyeBlinkLeft: lots}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml: map.Blink.eyeBlinkLeft: expected a number"):
        retarget.load_rig_preset(bad)
    bad.write_text("mapp: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) mapp"):
        retarget.load_rig_preset(bad)
    with pytest.raises(ConfigError, match="no such rig mapping file"):
        retarget.load_rig_preset(tmp_path / "missing.yaml")


def test_shipped_presets_load():
    names = retarget.list_rig_presets()
    assert {"arkit", "vrm_perfect_sync", "ready_player_me", "custom_example"} <= set(names)
    for n in names:
        assert retarget.load_rig_preset(n).name
