"""`--backend nim` against `a2f serve --backend local` gives the local backend's curves and emotion tracks."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from pathlib import Path

import numpy as np
import pytest
from tiny_backend import local_in_fresh_process

from a2f_core import audio as audio_mod
from a2f_core.backends import get
from a2f_core.config import EmotionKey, RunConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _local_available() -> tuple[bool, str]:
    try:
        av = get("local").availability()
    except Exception as e:  # the bundled backend is missing from this checkout
        return False, f"bundled backend not importable: {e}"
    return av.ok, av.reason


ok, why = _local_available()
pytestmark = pytest.mark.skipif(not ok, reason=f"bundled 'local' backend unavailable: {why}")


@pytest.mark.parametrize("name", ["father_palm"])
def test_nim_gives_the_local_curves_and_emotions(serve, name):
    wav = FIXTURES / f"{name}.wav"
    audio = audio_mod.load(wav)
    cfg = RunConfig(
        bs_multipliers={"JawOpen": 0.9, "MouthClose": 0.5},
        emotion_timeline=[EmotionKey(0.0, {"joy": 1.0}), EmotionKey(1.5, {"sadness": 0.8})],
    )
    # Both sides run the backend's first inference in a fresh process: its speech decoder carries state
    # from one call to the next, so a second call in the same process may differ.
    s = serve(backend="local", workers=1, backend_options={"workers": 1})
    nim_clip = get("nim", url=s.address).infer(audio, cfg)
    # the server decodes the 16-bit PCM it was sent: run local on exactly those samples
    wire_audio = audio_mod.from_pcm16(audio.pcm16(), audio.rate)
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(1, mp_context=ctx) as pool:
        local_clip = pool.submit(local_in_fresh_process, wire_audio, cfg).result(timeout=120)
    assert nim_clip.names == local_clip.names
    assert nim_clip.fps == 30.0 and local_clip.fps == 60.0
    # both at 60 fps over the audio: equal within float tolerance once the 30 fps wire rate is accounted for
    want = local_clip.resample(30.0, duration=audio.duration).resample(60.0, duration=audio.duration)
    got = nim_clip.resample(60.0, duration=audio.duration)
    np.testing.assert_allclose(got.weights, want.weights, atol=1e-6)
    # and close to the original 60 fps curves (only the 30 fps sampling differs)
    direct = local_clip.resample(60.0, duration=audio.duration)
    jaw = direct.index("jawOpen")
    assert np.max(np.abs(got.weights[:, jaw] - direct.weights[:, jaw])) < 0.15  # 30 fps halves 2-frame peaks
    assert np.corrcoef(got.weights[:, jaw], direct.weights[:, jaw])[0, 1] > 0.98
    # emotion tracks: entry for entry
    for mine, theirs in ((nim_clip.input_emotions, local_clip.input_emotions),
                         (nim_clip.output_emotions, local_clip.output_emotions)):  # fmt: skip
        assert mine is not None and theirs is not None
        np.testing.assert_allclose(mine.times, theirs.times, atol=1e-9)
        for e in theirs.names:
            np.testing.assert_allclose(
                mine.values[:, mine.names.index(e)], theirs.values[:, theirs.names.index(e)], atol=1e-6
            )
    assert nim_clip.output_emotions.at(0.5)["joy"] > 0.1
