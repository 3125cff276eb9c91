"""Golden encodings (proto/golden, from the wire notes section 2.4) are byte-equal with NVIDIA's PyPI classes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import json_format

from a2f_core.config import RunConfig
from a2f_core.nim import wire

GOLDEN = Path(__file__).resolve().parents[2] / "proto" / "golden"
VECTORS = json.loads((GOLDEN / "vectors.json").read_text())["vectors"]
CLASSES = {
    "AudioStream": wire.AudioStream,
    "AnimationDataStream": wire.AnimationDataStream,
    "EmotionWithTimeCode": wire.EmotionWithTimeCode,
    "EmotionPostProcessingParameters": wire.EmotionPostProcessingParameters,
}


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_vector(vec):
    want = bytes.fromhex(vec["hex"].replace(" ", ""))
    assert (GOLDEN / f"{vec['name']}.bin").read_bytes() == want
    cls = CLASSES[vec["message"]]
    msg = json_format.ParseDict(vec["fields"], cls())
    assert msg.SerializeToString(deterministic=True) == want
    back = cls.FromString(want)
    assert back == msg


def test_our_builders_match_the_golden_bytes():
    g = {v["name"]: bytes.fromhex(v["hex"].replace(" ", "")) for v in VECTORS}
    hdr = wire.AudioStream(audio_stream_header=wire.AudioStreamHeader(audio_header=wire.audio_header(16000)))
    assert hdr.SerializeToString() == g["audio_stream_header"]
    assert wire.AudioStream(end_of_audio=wire.AudioStream.EndOfAudio()).SerializeToString() == g["end_of_audio"]
    assert wire.emotions_msg(0.0, {"joy": 1.0}).SerializeToString() == g["emotion_with_timecode"]
    ev = wire.AnimationDataStream(event=wire.Event(event_type=wire.END_OF_A2F_AUDIO_PROCESSING))
    assert ev.SerializeToString() == g["event_end_of_processing"]
    st = wire.AnimationDataStream(status=wire.Status(code=wire.Status.SUCCESS, message="ok"))
    assert st.SerializeToString() == g["status_success"]
    # a config that sets only max_emotions / enable_preferred_emotion sends only that field
    h = wire.header_from_config(RunConfig(post_processing={"max_emotions": 3}), 16000)
    assert h.audio_stream_header.emotion_post_processing_params.SerializeToString() == g["post_processing_max_emotions"]
    h = wire.header_from_config(RunConfig(post_processing={"enable_preferred_emotion": False}), 16000)
    pp = h.audio_stream_header.emotion_post_processing_params
    assert pp.SerializeToString() == g["post_processing_preferred_false"]


def test_emotion_aggregate_decodes_whatever_the_type_url():
    agg = wire.pack_emotion_aggregate([wire.emotions_msg(0.5, {"joy": 0.25})], [wire.emotions_msg(0.5, {"joy": 0.2})])
    assert agg.type_url == "type.googleapis.com/nvidia_ace.emotion_aggregate.v1.EmotionAggregate"
    assert not agg.Unpack(wire.EmotionAggregate())  # why we decode the bytes ourselves (PyPI renamed the type)
    got = wire.unpack_emotion_aggregate(agg)
    assert got is not None and got.input_emotions[0].emotion["joy"] == 0.25 and len(got.a2e_output) == 0
    agg.type_url = "type.googleapis.com/com.nvidia.ace.services.audio2face_3d.v1.EmotionAggregate"
    assert wire.unpack_emotion_aggregate(agg).a2f_smoothed_output[0].time_code == 0.5
    agg.type_url = "type.googleapis.com/something.Else"
    assert wire.unpack_emotion_aggregate(agg) is None


def test_header_round_trips_the_run_config():
    cfg = RunConfig(
        face_params={"lowerFaceStrength": 1.4, "skinStrength": 0.9},
        bs_multipliers={"JawOpen": 0.8, "mouthClose": 0.2},
        bs_offsets={"BrowInnerUp": 0.1},
        enable_clamping_bs_weight=True,
        live_transition_time=0.5,
        beginning_emotion={"joy": 0.5},
        post_processing={"emotion_strength": 0.7, "max_emotions": 2, "enable_preferred_emotion": True},
    )
    h = wire.AudioStream.FromString(wire.header_from_config(cfg, 44100).SerializeToString()).audio_stream_header
    assert h.audio_header.samples_per_second == 44100 and h.audio_header.bits_per_sample == 16
    assert dict(h.blendshape_params.bs_weight_multipliers) == pytest.approx({"JawOpen": 0.8, "MouthClose": 0.2})
    back = wire.config_from_header(h)
    assert back.face_params == pytest.approx(cfg.face_params)
    assert back.bs_multipliers == pytest.approx({"JawOpen": 0.8, "MouthClose": 0.2})
    assert back.bs_offsets == pytest.approx({"BrowInnerUp": 0.1})
    assert back.enable_clamping_bs_weight is True
    assert back.live_transition_time == pytest.approx(0.5) and back.beginning_emotion == {"joy": 0.5}
    assert back.post_processing["max_emotions"] == 2 and back.post_processing["enable_preferred_emotion"] is True
    assert back.post_processing["emotion_strength"] == pytest.approx(0.7)
    assert "emotion_contrast" not in back.post_processing  # unset fields keep the server default
