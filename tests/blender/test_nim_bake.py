"""Baking through the NIM backend against a real `a2f serve` server on loopback (ephemeral port)."""

from __future__ import annotations

import bpy
import numpy as np
import pytest
from blender_helpers import HELLO, read_keys, snapshot

from a2f_core.errors import ConnectionFailed
from addon.bake import steps

nim_server = pytest.importorskip("a2f_core.nim.server")


def test_bake_via_nim_then_server_gone(head):
    bpy.context.scene.render.fps = 60
    server = nim_server.NimServer(nim_server.ServeOptions(port=0, backend="local")).start()
    url = server.address
    try:
        spec = steps.BakeSpec(objects=[head.name], audio=str(HELLO), backend="nim", add_sound_strip=False,
                             backend_options={"url": url, "timeout": 60.0})
        rep = steps.bake(spec)
    finally:
        server.stop(0.2)
    names = [n for n in rep.clip.names if n in head.data.shape_keys.key_blocks]
    assert len(names) == 52 and rep.samples > 200
    np.testing.assert_allclose(read_keys(head, names, rep.frames[::5]), rep.clip.select(names).weights[::5],
                               atol=1e-5)
    assert np.ptp(rep.clip.channel("jawOpen")) > 0.1
    # the server is gone now: a clear offline error (exit code 3) and nothing changes
    before = snapshot()
    with pytest.raises(ConnectionFailed) as ei:
        steps.bake(spec)
    assert url in str(ei.value) and ei.value.exit_code == 3
    assert snapshot() == before
