"""Channel and emotion names: NVIDIA's order, ARKit camelCase <-> NVIDIA PascalCase.

Clips always carry ARKit camelCase names (``jawOpen``); NVIDIA files and the NIM wire use
PascalCase (``JawOpen``). Convert only through :func:`to_arkit` / :func:`to_nvidia`.
"""

from __future__ import annotations

# The 52 ARKit face shapes in NVIDIA's order (NIM header, SDK bs_skin.npz, sample CSVs).
# This is NOT Apple's alphabetical order.
NVIDIA_52: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight",
    "EyeLookOutRight", "EyeLookUpRight", "EyeSquintRight", "EyeWideRight", "JawForward",
    "JawLeft", "JawRight", "JawOpen", "MouthClose", "MouthFunnel",
    "MouthPucker", "MouthLeft", "MouthRight", "MouthSmileLeft", "MouthSmileRight",
    "MouthFrownLeft", "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft",
    "MouthStretchRight", "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
    "MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft",
    "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft",
    "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft",
    "NoseSneerRight", "TongueOut",
)

# Optional tongue channels (NIM 2.0 "68 = 52 face + 16 tongue"), in NVIDIA's order.
NVIDIA_TONGUE_16: tuple[str, ...] = (
    "TongueTipUp", "TongueTipDown", "TongueTipLeft", "TongueTipRight", "TongueRollUp",
    "TongueRollDown", "TongueRollLeft", "TongueRollRight", "TongueUp", "TongueDown",
    "TongueLeft", "TongueRight", "TongueIn", "TongueStretch", "TongueWide", "TongueNarrow",
)

# Deprecated head channels some NIM versions append (always 0.0).
NVIDIA_HEAD_3: tuple[str, ...] = ("HeadRoll", "HeadPitch", "HeadYaw")


def to_arkit(name: str) -> str:
    """``JawOpen`` -> ``jawOpen`` (already-camelCase names pass through)."""
    return name[:1].lower() + name[1:] if name else name


def to_nvidia(name: str) -> str:
    """``jawOpen`` -> ``JawOpen``."""
    return name[:1].upper() + name[1:] if name else name


ARKIT_52: tuple[str, ...] = tuple(to_arkit(n) for n in NVIDIA_52)
ARKIT_TONGUE_16: tuple[str, ...] = tuple(to_arkit(n) for n in NVIDIA_TONGUE_16)

# The ten A2F emotions in canonical order (lower-case, "outofbreath" without underscores).
EMOTIONS: tuple[str, ...] = (
    "amazement", "anger", "cheekiness", "disgust", "fear",
    "grief", "joy", "outofbreath", "pain", "sadness",
)
