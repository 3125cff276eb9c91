"""Long clips: `a2f serve` cuts them at pauses and streams each piece's frames as soon as it is done."""

from __future__ import annotations

import numpy as np
import pytest
from nim_helpers import speechlike
from rawclient import call, kinds
from tiny_backend import TinyBackend

from a2f_core.audio import from_pcm16
from a2f_core.backends import get
from a2f_core.clip import frame_count
from a2f_core.config import EmotionKey, RunConfig
from a2f_core.names import ARKIT_52
from a2f_core.nim.client import request_messages
from a2f_core.nim.server import plan_segments


def expected(audio, cfg, seconds):
    """What the pieces give: the tiny backend on each piece of the audio as the server hands it to the
    backend (resampled to 16 kHz), sampled on the global 30 fps grid."""
    wire_audio = from_pcm16(audio.pcm16(), audio.rate).resampled(16000)
    cuts = plan_segments(wire_audio, seconds)
    n = frame_count(audio.duration, 30.0)
    t = np.arange(n) / 30.0
    out = np.zeros((n, 52), np.float32)
    for k, (a, b) in enumerate(zip(cuts, cuts[1:])):
        c = TinyBackend().infer(wire_audio.slice(a, b), cfg)
        sel = (t >= a - 1e-9) & ((t < b - 1e-9) | (k == len(cuts) - 2))
        for j in range(52):
            out[sel, j] = np.interp(t[sel] - a, c.times, c.weights[:, j])
    return cuts, out


def test_plan_segments_cuts_in_pauses():
    audio = speechlike(10.0)  # bursts at 3 Hz: pauses every 1/3 s
    cuts = plan_segments(audio, 3.0)
    assert cuts[0] == 0.0 and cuts[-1] == audio.duration and len(cuts) == 4
    assert all(2.2 < b - a < 4.6 for a, b in zip(cuts, cuts[1:]))
    x = audio.samples
    for c in cuts[1:-1]:
        assert abs(round(c * 30) - c * 30) < 1e-9  # on the frame grid
        i = int(c * audio.rate)
        assert np.sqrt(np.mean(x[i - 400 : i + 400] ** 2)) < 0.05  # in a pause, not mid-syllable
    assert plan_segments(audio, 0) == [0.0, audio.duration]
    assert plan_segments(speechlike(4.0), 3.0) == [0.0, 4.0]


def test_long_clip_streams_piece_by_piece(serve):
    s = serve(segment_seconds=2.0, backend_options={"delay": 0.4})
    audio = speechlike(8.0)
    cfg = RunConfig(emotion_timeline=[EmotionKey(0.0, {"joy": 1.0}), EmotionKey(5.0, {"fear": 1.0})])
    clip = get("nim", url=s.address).infer(audio, cfg)
    cuts, want = expected(audio, cfg, 2.0)
    assert len(cuts) == 5
    assert clip.n_frames == frame_count(8.0, 30.0)
    np.testing.assert_allclose(np.diff(clip.times), 1 / 30.0, atol=1e-9)
    np.testing.assert_allclose(clip.weights, want, atol=1e-6)
    # the first frames came after one piece's work, not after the whole clip's
    assert clip.meta["time_to_first_frame"] < 0.6 * clip.meta["stream_seconds"]
    out = clip.output_emotions
    assert out is not None and out.at(1.0)["joy"] > 0.5 and out.at(7.0)["fear"] > 0.5 and out.at(7.0)["joy"] < 0.1
    assert np.all(np.diff(out.times) > 0) and out.times[-1] > 7.5


def test_pieces_in_worker_processes_and_audio_echo(serve):
    s = serve(segment_seconds=1.5, workers=2)
    audio = speechlike(5.0, rate=22050)
    cfg = RunConfig()
    responses, err = call(s.address, list(request_messages(audio, cfg)))
    assert err is None and kinds(responses)[-1] == "status" and responses[-1].status.code == 0
    frames = [r.animation_data for r in responses if r.WhichOneof("stream_part") == "animation_data"]
    assert len(frames) == frame_count(5.0, 30.0)
    assert b"".join(f.audio.audio_buffer for f in frames) == audio.pcm16()
    _, want = expected(audio, cfg, 1.5)
    got = np.array([list(f.skel_animation.blend_shape_weights[0].values) for f in frames], np.float32)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got[:, ARKIT_52.index("jawOpen")].max() > 0.5


@pytest.mark.parametrize("seconds", [0.0, 30.0])
def test_short_clip_is_one_piece(serve, seconds):
    s = serve(segment_seconds=seconds)
    audio = speechlike(3.0)
    clip = get("nim", url=s.address).infer(audio, RunConfig())
    direct = TinyBackend().infer(from_pcm16(audio.pcm16(), audio.rate), RunConfig()).resample(30.0, duration=3.0)
    np.testing.assert_allclose(clip.weights, direct.weights, atol=1e-6)
