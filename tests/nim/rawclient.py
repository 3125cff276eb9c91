"""Raw ProcessAudioStream calls with hand-made message sequences (for protocol-misuse tests)."""

from __future__ import annotations

import threading

import grpc

from a2f_core.nim import wire


def header(rate=16000, channels=1, bits=16, lower_face_strength=None) -> wire.AudioStream:
    h = wire.AudioStreamHeader(
        audio_header=wire.AudioHeader(samples_per_second=rate, channel_count=channels, bits_per_sample=bits)
    )
    if lower_face_strength is not None:
        h.face_params.float_params["lowerFaceStrength"] = lower_face_strength
    return wire.AudioStream(audio_stream_header=h)


def audio(nbytes: int) -> wire.AudioStream:
    return wire.AudioStream(audio_with_emotion=wire.AudioWithEmotion(audio_buffer=bytes(nbytes)))


def eoa() -> wire.AudioStream:
    return wire.AudioStream(end_of_audio=wire.AudioStream.EndOfAudio())


def call(address: str, messages, *, timeout: float = 20.0, hold: threading.Event | None = None):
    """Send ``messages`` (then keep the stream open until ``hold`` is set, if given); return (responses, error)."""

    def gen():
        yield from messages
        if hold is not None:
            hold.wait(timeout)

    with grpc.insecure_channel(address) as ch:
        stub = wire.A2FControllerServiceStub(ch)
        out = []
        try:
            for r in stub.ProcessAudioStream(gen(), timeout=timeout):
                out.append(r)
                if r.WhichOneof("stream_part") == "status" and hold is not None:
                    hold.set()
        except grpc.RpcError as e:
            return out, e
        finally:
            if hold is not None:
                hold.set()
        return out, None


def kinds(responses) -> list[str]:
    return [r.WhichOneof("stream_part") for r in responses]


def final_status(responses):
    st = [r.status for r in responses if r.WhichOneof("stream_part") == "status"]
    return st[-1] if st else None


def ld(field: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, to build malformed messages by hand."""
    n, out = len(payload), bytearray([field << 3 | 2])
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out) + payload
