import numpy as np
import pytest

from a2f_core.clip import Clip, frame_count
from a2f_core.errors import FormatError
from a2f_core.names import ARKIT_52, NVIDIA_52, to_arkit, to_nvidia


def test_names_round_trip_and_order():
    assert len(ARKIT_52) == 52 and ARKIT_52[0] == "eyeBlinkLeft" and ARKIT_52[17] == "jawOpen"
    assert ARKIT_52[38] == "mouthLowerDownRight" and ARKIT_52[51] == "tongueOut"
    assert [to_nvidia(n) for n in ARKIT_52] == list(NVIDIA_52)
    assert to_arkit("JawOpen") == "jawOpen" and to_arkit("jawOpen") == "jawOpen"


def test_frame_count_covers_duration():
    assert frame_count(1.0, 60) == 61
    assert frame_count(2.5, 30) == 76


def test_resample_30_to_60_is_linear_in_time():
    t = np.arange(31) / 30.0
    w = np.stack([t, 1 - t], axis=1)
    clip = Clip(["JawOpen", "MouthClose"], t, w, 30)
    assert clip.names == ["jawOpen", "mouthClose"]
    r = clip.resample(60)
    assert r.n_frames == 61 and r.fps == 60
    np.testing.assert_allclose(r.channel("jawOpen"), np.arange(61) / 60.0, atol=1e-6)


def test_postprocess_multiplier_offset_clamp():
    clip = Clip(["jawOpen", "mouthClose"], [0.0, 0.1], [[0.5, 0.5], [0.9, 0.1]], 10)
    out = clip.postprocess({"JawOpen": 2.0}, {"mouthClose": -0.2}, clamp=True)
    np.testing.assert_allclose(out.weights, [[1.0, 0.3], [1.0, 0.0]], atol=1e-6)
    raw = clip.postprocess({"JawOpen": 2.0}, clamp=False)
    assert raw.weights[1, 0] == pytest.approx(1.8)


def test_bad_shapes_are_clear_errors():
    with pytest.raises(FormatError, match="expected"):
        Clip(["jawOpen"], [0.0, 1.0], np.zeros((2, 2)), 60)
    with pytest.raises(FormatError, match="duplicate"):
        Clip(["jawOpen", "JawOpen"], [0.0], np.zeros((1, 2)), 60)


def test_pcm16_round_trip_is_exact():
    from a2f_core.audio import from_pcm16, to_pcm16

    pcm = np.array([-32768, -1, 0, 1, 12345, 32767], dtype="<i2").tobytes()
    assert to_pcm16(from_pcm16(pcm, 16000).samples) == pcm
    assert np.frombuffer(to_pcm16(np.array([2.0, -2.0], np.float32)), "<i2").tolist() == [32767, -32768]


def test_backend_options_are_split_by_constructor_signature():
    from a2f_core import backends

    took, unused = backends.split_options("local", {"quality": "fast", "url": "h:1", "model_path": None})
    assert took == {"quality": "fast"} and unused == ["url"]
    took, unused = backends.split_options("nim", {"url": "h:1", "quality": "fast"})
    assert took == {"url": "h:1"} and unused == ["quality"]  # nim's **kwargs catch-all does not count
