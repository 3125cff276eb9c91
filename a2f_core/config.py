"""RunConfig: the run-time parameters every backend receives (NVIDIA's run-time YAML, parsed).

presets.py builds it from YAML files and named presets; the UI builds it from its sliders.
Ranges come from the A2F-3D docs (SDK validators); values outside them are rejected in
presets.validate().
"""

from __future__ import annotations

from dataclasses import dataclass, field

# name -> (min, max, SDK default)
FACE_PARAM_RANGES: dict[str, tuple[float, float, float]] = {
    "skinStrength": (0.0, 2.0, 1.0),
    "upperFaceStrength": (0.0, 2.0, 1.0),
    "lowerFaceStrength": (0.0, 2.0, 1.3),
    "eyelidOpenOffset": (-1.0, 1.0, 0.06),
    "lipOpenOffset": (-0.2, 0.2, -0.03),
    "upperFaceSmoothing": (0.0, 0.1, 0.001),
    "lowerFaceSmoothing": (0.0, 0.1, 0.0023),
    "faceMaskLevel": (0.0, 1.0, 0.6),
    "faceMaskSoftness": (0.001, 0.5, 0.0085),
    "blinkStrength": (0.0, 2.0, 1.0),
    "blinkOffset": (0.0, 1.0, 0.0),
    "tongueStrength": (0.0, 3.0, 1.5),
    "tongueHeightOffset": (-3.0, 3.0, 0.2),
    "tongueDepthOffset": (-3.0, 3.0, 0.13),
}

# emotion post-processing: name -> (min, max, default, type)
POST_PROCESSING_RANGES: dict[str, tuple[float, float, float | bool | int, type]] = {
    "emotion_contrast": (0.3, 3.0, 1.0, float),
    "live_blend_coef": (0.0, 1.0, 0.7, float),
    "enable_preferred_emotion": (0, 1, False, bool),
    "preferred_emotion_strength": (0.0, 1.0, 0.5, float),
    "emotion_strength": (0.0, 1.0, 0.6, float),
    "max_emotions": (0, 6, 3, int),
}

MULTIPLIER_SOFT_RANGE = (0.0, 2.0)
OFFSET_SOFT_RANGE = (-1.0, 1.0)


@dataclass
class EmotionKey:
    """Emotion values that start at ``time_code`` seconds."""

    time_code: float
    emotions: dict[str, float]


@dataclass
class RunConfig:
    character: str = "claire"  # claire | mark | james | custom name
    face_params: dict[str, float] = field(default_factory=dict)
    bs_multipliers: dict[str, float] = field(default_factory=dict)  # PascalCase keys as in NVIDIA's YAML
    bs_offsets: dict[str, float] = field(default_factory=dict)
    enable_clamping_bs_weight: bool = False
    live_transition_time: float = 0.0001
    beginning_emotion: dict[str, float] = field(default_factory=dict)
    post_processing: dict[str, float | bool | int] = field(default_factory=dict)
    emotion_timeline: list[EmotionKey] = field(default_factory=list)
    source: str = ""  # file or preset name it came from

    def face(self, name: str) -> float:
        """Face parameter value, the SDK default when unset."""
        if name in self.face_params:
            return float(self.face_params[name])
        return FACE_PARAM_RANGES[name][2]

    def post(self, name: str):
        if name in self.post_processing:
            return self.post_processing[name]
        return POST_PROCESSING_RANGES[name][2]
