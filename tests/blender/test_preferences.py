"""Add-on preferences (enabled through Blender's add-on system): NIM settings stay out of the .blend, and the
NIM backend respects Blender's online-access setting for hosts other than this machine."""

from __future__ import annotations

import addon_utils
import bpy
import pytest
from blender_helpers import HELLO


@pytest.fixture
def enabled():
    addon_utils.enable("addon", default_set=True)
    yield bpy.context.preferences.addons["addon"].preferences
    addon_utils.disable("addon", default_set=True)


def test_nim_settings_not_in_blend_and_online_access_respected(enabled, head, tmp_path):
    prefs = enabled
    prefs.nim_url = "nim.example.com:443"
    prefs.nim_api_key = "nvapi-secret-key-123"
    prefs.sdk_model_path = "/models/a2f/model.json"
    s = bpy.context.scene.a2f
    s.backend = "nim"
    s.audio_path = str(HELLO)
    head.select_set(True)
    bpy.context.view_layer.objects.active = head
    if not bpy.app.online_access:
        with pytest.raises(RuntimeError) as ei:
            bpy.ops.a2f.bake()
        assert "online access is disabled" in str(ei.value) and "nvapi-secret" not in str(ei.value)
    s.transcript = "scene-setting-marker"  # control: scene settings do land in the file
    blend = tmp_path / "scene.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend), compress=False)
    data = blend.read_bytes()
    assert b"scene-setting-marker" in data
    assert b"nvapi-secret-key-123" not in data and b"nim.example.com" not in data
    assert head.data.shape_keys.animation_data is None
