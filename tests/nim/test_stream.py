"""Client <-> `a2f serve` end to end over loopback gRPC (tiny deterministic backend)."""

from __future__ import annotations

import numpy as np
import pytest
from nim_helpers import speechlike
from rawclient import call, eoa, final_status, header, kinds
from tiny_backend import TinyBackend

from a2f_core.audio import Audio, from_pcm16
from a2f_core.backends import get
from a2f_core.backends.base import CancelToken
from a2f_core.config import EmotionKey, RunConfig
from a2f_core.errors import Cancelled
from a2f_core.names import ARKIT_52, EMOTIONS, NVIDIA_52
from a2f_core.nim import wire


def on_wire(audio: Audio) -> Audio:
    """The audio as the server sees it (16-bit PCM)."""
    return from_pcm16(audio.pcm16(), audio.rate)


def test_registry_backend_streams_whole_clip(serve):
    s = serve()
    nim = get("nim", url=s.address)
    assert nim.capabilities.needs_network and nim.capabilities.parallel
    assert nim.availability().ok
    audio = speechlike(2.5)
    clip = nim.infer(audio, RunConfig())
    assert clip.fps == 30.0
    assert clip.names == list(ARKIT_52)  # the server's NVIDIA-order header, as ARKit camelCase
    assert clip.n_frames == int(2.5 * 30) + 1
    np.testing.assert_allclose(clip.times, np.arange(clip.n_frames) / 30.0)
    # same curves as the backend run directly, sampled at the wire's 30 fps
    direct = TinyBackend().infer(on_wire(audio), RunConfig()).resample(30.0, duration=audio.duration)
    np.testing.assert_allclose(clip.weights, direct.weights, atol=1e-6)
    assert clip.meta["status"] and clip.meta["audio_rate"] == 16000
    nim.close()


def test_request_parameters_reach_the_backend(serve):
    s = serve()
    audio = speechlike(1.5)
    cfg = RunConfig(
        face_params={"lowerFaceStrength": 1.6},
        bs_multipliers={"JawOpen": 0.5},
        bs_offsets={"BrowInnerUp": 0.25},
        enable_clamping_bs_weight=True,
        emotion_timeline=[EmotionKey(0.0, {"joy": 1.0}), EmotionKey(1.0, {"fear": 1.0, "pain": 0.1})],
    )
    clip = get("nim", url=s.address).infer(audio, cfg)
    direct = TinyBackend().infer(on_wire(audio), cfg).resample(30.0, duration=audio.duration)
    np.testing.assert_allclose(clip.weights, direct.weights, atol=1e-6)
    assert clip.channel("eyeBlinkLeft")[0] == pytest.approx(0.8)  # lowerFaceStrength / 2 in the tiny backend
    assert 0.45 < clip.channel("jawOpen").max() <= 0.5 + 1e-6  # multiplier 0.5 applied once, not twice
    assert clip.channel("browInnerUp").min() >= 0.25 - 1e-6
    # emotion tracks: input = the timeline sent; output = the backend's track, entry for entry
    assert clip.input_emotions is not None and clip.output_emotions is not None
    np.testing.assert_allclose(clip.input_emotions.times, [0.0, 1.0])
    assert clip.input_emotions.at(0.0)["joy"] == 1.0 and clip.input_emotions.at(1.0)["pain"] == pytest.approx(0.1)
    direct_full = TinyBackend().infer(on_wire(audio), cfg)
    np.testing.assert_allclose(clip.output_emotions.times, direct_full.output_emotions.times)
    for e in EMOTIONS:
        np.testing.assert_allclose(
            clip.output_emotions.values[:, clip.output_emotions.names.index(e)],
            direct_full.output_emotions.values[:, list(EMOTIONS).index(e)],
            atol=1e-6,
        )


def test_wire_sequence_and_audio_echo(serve):
    """Header first (NVIDIA order), one frame per message with its audio slice, event, SUCCESS last."""
    s = serve()
    audio = speechlike(1.0, rate=44100)
    audio.samples[::7] = 0.9  # loud samples: the echo must be the bytes sent, not a re-encoding
    msgs = list(__import__("a2f_core.nim.client", fromlist=["x"]).request_messages(audio, RunConfig()))
    assert kinds(msgs) == ["audio_stream_header", "audio_with_emotion", "end_of_audio"]
    out, err = call(s.address, msgs)
    assert err is None
    k = kinds(out)
    assert k[0] == "animation_data_stream_header"
    assert k[-2:] == ["event", "status"] and set(k[1:-2]) == {"animation_data"}
    h = out[0].animation_data_stream_header
    assert list(h.skel_animation_header.blend_shapes) == list(NVIDIA_52)
    assert h.audio_header.samples_per_second == 44100 and h.start_time_code_since_epoch > 1.7e9
    frames = [r.animation_data for r in out if r.WhichOneof("stream_part") == "animation_data"]
    assert len(frames) == 31
    assert all(len(f.skel_animation.blend_shape_weights) == 1 for f in frames)
    assert all(len(f.skel_animation.blend_shape_weights[0].values) == 52 for f in frames)
    echoed = b"".join(f.audio.audio_buffer for f in frames)
    assert echoed == audio.pcm16()  # the slices tile the input exactly
    assert frames[3].audio.time_code == pytest.approx(0.1)
    assert out[-2].event.event_type == wire.END_OF_A2F_AUDIO_PROCESSING
    assert out[-1].status.code == wire.Status.SUCCESS


def test_emotion_aggregate_uses_nvidia_type_url_and_no_a2e_output(serve):
    s = serve()
    cfg = RunConfig(emotion_timeline=[EmotionKey(0.0, {"joy": 1.0})])
    from a2f_core.nim.client import request_messages

    out, err = call(s.address, list(request_messages(speechlike(1.0), cfg)))
    assert err is None
    anys = [
        r.animation_data.metadata["emotion_aggregate"]
        for r in out
        if r.WhichOneof("stream_part") == "animation_data" and "emotion_aggregate" in r.animation_data.metadata
    ]
    assert anys and all(a.type_url == wire.EMOTION_AGGREGATE_URL for a in anys)
    aggs = [wire.unpack_emotion_aggregate(a) for a in anys]
    assert all(len(a.a2e_output) == 0 for a in aggs)  # NVIDIA's sample client crashes on a2e_output
    assert sum(len(a.input_emotions) for a in aggs) == 1
    assert sum(len(a.a2f_smoothed_output) for a in aggs) == 4  # 0, .25, .5, .75 s


def test_low_rate_audio_is_resampled_by_the_client(serve):
    s = serve()
    audio = speechlike(1.0, rate=8000)
    clip = get("nim", url=s.address).infer(audio, RunConfig())
    assert clip.meta["audio_rate"] == 16000 and clip.n_frames == 31


def test_cancel_stops_the_stream(serve):
    s = serve(backend_options={"delay": 3.0})
    token = CancelToken()
    import threading

    threading.Timer(0.3, token.cancel).start()
    with pytest.raises(Cancelled):
        get("nim", url=s.address).infer(speechlike(1.0), RunConfig(), cancel=token)


def test_status_error_is_a_clear_backend_error(serve):
    s = serve()
    out, err = call(s.address, [header(rate=8000), eoa()])
    assert err is None and final_status(out).code == wire.Status.ERROR
    from a2f_core.errors import BackendError
    from a2f_core.nim.channel import make_target, open_channel
    from a2f_core.nim.client import run_stream
    from a2f_core.nim.server import ServeOptions  # noqa: F401

    # a server that refuses the clip length: the client reports the server's message, not a traceback
    s2 = serve(max_clip_seconds=0.5)
    t = make_target(s2.address)
    with pytest.raises(BackendError, match=r"server reported an error: .*longer than 0.5 s"):
        run_stream(open_channel(t), t, speechlike(1.0), RunConfig())


def test_silent_or_tiny_audio_still_answers(serve):
    s = serve()
    a = Audio(np.zeros(1600, np.float32), 16000)
    clip = get("nim", url=s.address).infer(a, RunConfig())
    assert clip.n_frames == 4


@pytest.mark.parametrize("character", ["claire", "mark", "james"])
def test_nvidia_character_presets_pass_the_server_checks(serve, character):
    """A full NVIDIA run-time config (every face, blendshape and emotion parameter) goes through unchanged."""
    presets = pytest.importorskip("a2f_core.presets")
    cfg = presets.load_character(character)
    s = serve()
    audio = speechlike(1.0)
    clip = get("nim", url=s.address).infer(audio, cfg)
    direct = TinyBackend().infer(on_wire(audio), cfg).resample(30.0, duration=audio.duration)
    np.testing.assert_allclose(clip.weights, direct.weights, atol=1e-6)
    if cfg.emotion_timeline:
        assert clip.input_emotions is not None and len(clip.input_emotions.times) == len(cfg.emotion_timeline)
