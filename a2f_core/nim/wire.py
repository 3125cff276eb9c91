"""Wire types (NVIDIA's PyPI packages only) and conversions RunConfig <-> header, emotions <-> Any.

PyPI ``nvidia-audio2face-3d`` renames the proto packages (``com.nvidia.ace...``) but keeps the field numbers
and the RPC path, so it is wire-compatible with the NIM. One consequence: ``Any.Unpack`` of an emotion
aggregate fails (the NIM's type URL names ``nvidia_ace.emotion_aggregate.v1``), so we decode
``Any.value`` ourselves and pack with NVIDIA's URL.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from google.protobuf import any_pb2
from nvidia_ace import animation_pb2, audio_pb2, status_pb2
from nvidia_audio2face_3d import audio2face_pb2_grpc, messages_pb2

from ..config import POST_PROCESSING_RANGES, EmotionKey, RunConfig
from ..names import to_nvidia

# Client -> server
AudioStream = messages_pb2.AudioWithEmotionStream
AudioStreamHeader = messages_pb2.AudioWithEmotionStreamHeader
AudioWithEmotion = messages_pb2.AudioWithEmotion
EmotionWithTimeCode = messages_pb2.EmotionWithTimeCode
FaceParameters = messages_pb2.FaceParameters
BlendShapeParameters = messages_pb2.BlendShapeParameters
EmotionParameters = messages_pb2.EmotionParameters
EmotionPostProcessingParameters = messages_pb2.EmotionPostProcessingParameters
AudioHeader = audio_pb2.AudioHeader
# Server -> client
AnimationDataStream = messages_pb2.A2F3DAnimationDataStream
AnimationDataStreamHeader = messages_pb2.A2F3DAnimationDataStreamHeader
AnimationData = animation_pb2.AnimationData
SkelAnimationHeader = animation_pb2.SkelAnimationHeader
Event = messages_pb2.Event
EventType = messages_pb2.EventType
END_OF_A2F_AUDIO_PROCESSING = messages_pb2.END_OF_A2F_AUDIO_PROCESSING
Status = status_pb2.Status
EmotionAggregate = messages_pb2.EmotionAggregate
# Service
A2FControllerServiceStub = audio2face_pb2_grpc.A2FControllerServiceStub
A2FControllerServiceServicer = audio2face_pb2_grpc.A2FControllerServiceServicer
add_A2FControllerServiceServicer_to_server = audio2face_pb2_grpc.add_A2FControllerServiceServicer_to_server

METHOD = "/nvidia_ace.services.a2f_controller.v1.A2FControllerService/ProcessAudioStream"
EMOTION_AGGREGATE_URL = "type.googleapis.com/nvidia_ace.emotion_aggregate.v1.EmotionAggregate"
EMOTION_AGGREGATE_KEY = "emotion_aggregate"
STATUS_NAMES = {Status.SUCCESS: "SUCCESS", Status.INFO: "INFO", Status.WARNING: "WARNING", Status.ERROR: "ERROR"}


def audio_header(rate: int) -> AudioHeader:
    return AudioHeader(
        audio_format=AudioHeader.AUDIO_FORMAT_PCM, channel_count=1, samples_per_second=int(rate), bits_per_sample=16
    )


def emotions_msg(time_code: float, emotions: Mapping[str, float]) -> EmotionWithTimeCode:
    return EmotionWithTimeCode(time_code=float(time_code), emotion={k: float(v) for k, v in emotions.items()})


def header_from_config(config: RunConfig, rate: int, *, emotion_params: bool = True) -> AudioStream:
    """The first client message: audio format + every run-time parameter the config sets.

    Optional proto3 fields are set only when the config holds them, so the server's deployment
    defaults apply to the rest (as NVIDIA's sample client does).
    """
    h = AudioStreamHeader(audio_header=audio_header(rate))
    h.face_params.float_params.update({k: float(v) for k, v in config.face_params.items()})
    pp = h.emotion_post_processing_params
    for key, value in config.post_processing.items():
        if key not in POST_PROCESSING_RANGES:
            continue
        kind = POST_PROCESSING_RANGES[key][3]
        setattr(pp, key, kind(value))
    bs = h.blendshape_params
    bs.bs_weight_multipliers.update({to_nvidia(k): float(v) for k, v in config.bs_multipliers.items()})
    bs.bs_weight_offsets.update({to_nvidia(k): float(v) for k, v in config.bs_offsets.items()})
    bs.enable_clamping_bs_weight = bool(config.enable_clamping_bs_weight)
    if emotion_params:
        ep = h.emotion_params
        ep.live_transition_time = float(config.live_transition_time)
        ep.beginning_emotion.update({k: float(v) for k, v in config.beginning_emotion.items()})
    return AudioStream(audio_stream_header=h)


def timeline_msgs(timeline: Iterable[EmotionKey]) -> list[EmotionWithTimeCode]:
    return [emotions_msg(k.time_code, k.emotions) for k in timeline]


def config_from_header(h: AudioStreamHeader, base: RunConfig | None = None) -> RunConfig:
    """Server side: the request's parameters on top of ``base`` (the deployment defaults)."""
    cfg = base or RunConfig()
    face = dict(cfg.face_params)
    face.update({k: float(v) for k, v in h.face_params.float_params.items()})
    post = dict(cfg.post_processing)
    pp = h.emotion_post_processing_params
    for key in POST_PROCESSING_RANGES:
        if pp.HasField(key):
            post[key] = getattr(pp, key)
    bs = h.blendshape_params
    mul = dict(cfg.bs_multipliers)
    mul.update({to_nvidia(k): float(v) for k, v in bs.bs_weight_multipliers.items()})
    off = dict(cfg.bs_offsets)
    off.update({to_nvidia(k): float(v) for k, v in bs.bs_weight_offsets.items()})
    clamp = bs.enable_clamping_bs_weight if bs.HasField("enable_clamping_bs_weight") else cfg.enable_clamping_bs_weight
    ep = h.emotion_params
    ltt = ep.live_transition_time if ep.HasField("live_transition_time") else cfg.live_transition_time
    beginning = dict(cfg.beginning_emotion)
    beginning.update({k: float(v) for k, v in ep.beginning_emotion.items()})
    return RunConfig(
        character=cfg.character,
        face_params=face,
        bs_multipliers=mul,
        bs_offsets=off,
        enable_clamping_bs_weight=bool(clamp),
        live_transition_time=float(ltt),
        beginning_emotion=beginning,
        post_processing=post,
        emotion_timeline=list(cfg.emotion_timeline),
        source="request header",
    )


def pack_emotion_aggregate(
    input_emotions: Sequence[EmotionWithTimeCode] = (),
    smoothed_output: Sequence[EmotionWithTimeCode] = (),
) -> any_pb2.Any:
    """An Any with NVIDIA's type URL (``a2e_output`` stays empty: NVIDIA's sample client crashes on it)."""
    agg = EmotionAggregate(input_emotions=list(input_emotions), a2f_smoothed_output=list(smoothed_output))
    return any_pb2.Any(type_url=EMOTION_AGGREGATE_URL, value=agg.SerializeToString())


def unpack_emotion_aggregate(msg: any_pb2.Any) -> EmotionAggregate | None:
    """Decode the bytes whatever the package in the type URL; None for another type."""
    if not msg.type_url.endswith("EmotionAggregate"):
        return None
    agg = EmotionAggregate()
    agg.ParseFromString(msg.value)
    return agg
