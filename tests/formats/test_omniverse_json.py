"""Omniverse Audio2Face blendshape JSON: the documented keys, exact round trips, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from a2f_core.clip import Clip
from a2f_core.errors import FormatError
from a2f_core.formats import read_animation_csv, read_omniverse_json, write_omniverse_json
from a2f_core.names import ARKIT_52, NVIDIA_52

DATA = Path(__file__).resolve().parents[1] / "data"
JSON = DATA / "omniverse_export.json"


def test_export_loads_by_name_at_its_export_fps():
    raw = json.loads(JSON.read_text())
    clip = read_omniverse_json(JSON)
    assert clip.names == list(ARKIT_52)
    assert clip.fps == 60.0 and clip.n_frames == raw["numFrames"] == 90
    np.testing.assert_array_equal(clip.times, np.arange(90) / 60.0)
    np.testing.assert_array_equal(clip.weights, np.array(raw["weightMat"], np.float32))
    assert clip.meta["track_path"] == "audio/hello.wav"
    assert clip.meta["omniverse_extra"]["joints"] == ["eye_L", "eye_R", "jaw"]


def test_round_trip_is_exact_and_keeps_joint_tracks(tmp_path):
    clip = read_omniverse_json(JSON)
    p = write_omniverse_json(tmp_path / "out.json", clip)
    doc = json.loads(p.read_text())
    assert list(doc)[:6] == ["exportFps", "trackPath", "numPoses", "numFrames", "facsNames", "weightMat"]
    assert doc["exportFps"] == 60 and isinstance(doc["exportFps"], int)
    assert doc["numPoses"] == 52 and doc["numFrames"] == 90
    assert doc["facsNames"] == list(ARKIT_52)  # Omniverse writes camelCase
    assert doc["rotations"] == json.loads(JSON.read_text())["rotations"]
    back = read_omniverse_json(p)
    assert back.names == clip.names
    assert np.array_equal(back.weights.view(np.uint32), clip.weights.view(np.uint32))


def test_csv_clip_to_json_keeps_30_fps_and_pascal_case_on_request(tmp_path):
    clip = read_animation_csv(DATA / "animation_frames_30fps_55.csv")
    p = write_omniverse_json(tmp_path / "o.json", clip, pascal_case=True, track_path="take1.wav")
    doc = json.loads(p.read_text())
    assert doc["exportFps"] == 30
    assert doc["facsNames"][:52] == list(NVIDIA_52) and doc["facsNames"][52] == "HeadRoll"
    assert doc["trackPath"] == "take1.wav"
    back = read_omniverse_json(p)
    assert np.array_equal(back.weights, clip.weights)
    np.testing.assert_allclose(back.times, clip.times, atol=1e-12)


def test_frames_off_the_grid_are_resampled_onto_it(tmp_path):
    clip = Clip(["jawOpen"], [0.0, 0.5, 1.0], [[0.0], [1.0], [0.0]], fps=10.0)
    doc = json.loads(write_omniverse_json(tmp_path / "o.json", clip).read_text())
    assert doc["numFrames"] == 11
    assert doc["weightMat"][5] == [1.0] and doc["weightMat"][2] == [pytest.approx(0.4)]


def test_missing_export_fps_falls_back_to_the_default(tmp_path):
    p = tmp_path / "o.json"
    p.write_text(json.dumps({"facsNames": ["JawOpen", "l_rx"], "weightMat": [[0, 1], [0.5, 0.25]]}))
    clip = read_omniverse_json(p, default_fps=24.0)
    assert clip.fps == 24.0 and clip.meta["assumed_fps"] == 24.0
    assert clip.names == ["jawOpen", "l_rx"]
    np.testing.assert_array_equal(clip.times, [0.0, 1 / 24])


def _doc(**kw):
    d = {"exportFps": 60, "trackPath": "", "numPoses": 2, "numFrames": 2, "facsNames": ["jawOpen", "mouthClose"],
         "weightMat": [[0.0, 1.0], [0.5, 0.5]]}
    d.update(kw)
    return json.dumps(d)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ('{"exportFps": 60,\n "facsNames": [1,,]}', r"line 2, column \d+: broken JSON"),
        ("[1, 2]", r"expected a JSON object"),
        (json.dumps({"weightMat": [[0.0]]}), r"no 'facsNames' key"),
        (_doc(numFrames=3), r"numFrames is 3 but weightMat has 2 rows"),
        (_doc(numPoses=52), r"numPoses is 52 but facsNames has 2 names"),
        (_doc(weightMat=[[0.0, 1.0], [0.5]]), r"weightMat row 1 has 1 values; numPoses/facsNames say 2"),
        (_doc(weightMat=[[0.0, 1.0], [0.5, "x"]]), r"weightMat row 1, pose 'mouthClose': 'x' is not a number"),
        (_doc(exportFps=0), r"'exportFps' = 0 must be greater than 0"),
        (_doc(facsNames=["jawOpen", "JawOpen"]), r"facsNames lists 'JawOpen' twice"),
        (_doc(weightMat=[], numFrames=0), r"weightMat has no frames"),
    ],
)
def test_bad_json_gives_clear_error(tmp_path, text, pattern):
    p = tmp_path / "export.json"
    p.write_text(text)
    with pytest.raises(FormatError, match=pattern) as e:
        read_omniverse_json(p)
    assert str(p) in str(e.value)
