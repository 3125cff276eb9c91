"""Regenerate the NVIDIA-layout test files in this folder (run once; the outputs are committed).

    python tests/data/make_data.py

Written with plain string formatting (not a2f_core's writers) in the exact layouts the A2F-3D
sample client produces with pandas: unnamed index column, full-precision float32 values widened to
double, "\\n" line ends. Values are smooth speech-like curves, deterministic (fixed seed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

NVIDIA_52 = (
    "EyeBlinkLeft EyeLookDownLeft EyeLookInLeft EyeLookOutLeft EyeLookUpLeft EyeSquintLeft EyeWideLeft EyeBlinkRight "
    "EyeLookDownRight EyeLookInRight EyeLookOutRight EyeLookUpRight EyeSquintRight EyeWideRight JawForward JawLeft "
    "JawRight JawOpen MouthClose MouthFunnel MouthPucker MouthLeft MouthRight MouthSmileLeft MouthSmileRight "
    "MouthFrownLeft MouthFrownRight MouthDimpleLeft MouthDimpleRight MouthStretchLeft MouthStretchRight MouthRollLower "
    "MouthRollUpper MouthShrugLower MouthShrugUpper MouthPressLeft MouthPressRight MouthLowerDownLeft "
    "MouthLowerDownRight MouthUpperUpLeft MouthUpperUpRight BrowDownLeft BrowDownRight BrowInnerUp BrowOuterUpLeft "
    "BrowOuterUpRight CheekPuff CheekSquintLeft CheekSquintRight NoseSneerLeft NoseSneerRight TongueOut"
).split()
TONGUE_16 = (
    "TongueTipUp TongueTipDown TongueTipLeft TongueTipRight TongueRollUp TongueRollDown TongueRollLeft "
    "TongueRollRight TongueUp TongueDown TongueLeft TongueRight TongueIn TongueStretch TongueWide TongueNarrow"
).split()
HEAD_3 = ["HeadRoll", "HeadPitch", "HeadYaw"]
# order of the first row in a real NVCF run (protobuf map iteration order), not alphabetical
EMOTION_ORDER = ["pain", "amazement", "anger", "disgust", "joy", "sadness", "outofbreath", "cheekiness", "grief", "fear"]


def curves(n_frames: int, names: list[str], fps: float, seed: int) -> np.ndarray:
    """float32 [frames x channels] in [0, 1]: syllable-rate jaw, lips closing between, slow upper face."""
    rng = np.random.RandomState(seed)
    t = np.arange(n_frames) / fps
    out = np.zeros((n_frames, len(names)), np.float32)
    syll = np.clip(np.sin(2 * np.pi * 4.0 * t + 0.3), 0, None) * (0.5 + 0.3 * np.sin(2 * np.pi * 0.7 * t))
    for j, n in enumerate(names):
        if n.startswith("EyeLook") or n in HEAD_3 or n == "TongueOut":
            continue  # multiplier 0 in NVIDIA's presets / deprecated head channels: always 0.0
        if n == "JawOpen":
            v = syll
        elif n in ("MouthClose", "MouthPressLeft", "MouthPressRight"):
            v = 0.4 * np.clip(0.3 - syll, 0, None)
        elif n.startswith("EyeBlink"):
            v = np.exp(-(((t % 2.7) - 1.2) ** 2) / 0.004) * 0.9
        elif n.startswith("Tongue"):
            v = 0.2 * syll * rng.uniform(0.2, 1.0)
        else:
            v = 0.15 * (1 + np.sin(2 * np.pi * rng.uniform(0.2, 2.0) * t + rng.uniform(0, 6.28))) * rng.uniform(0, 1)
        v = v + rng.normal(0, 0.004, n_frames)
        out[:, j] = np.clip(v, 0, 1)
    return out.astype(np.float32)


def write_animation(path: Path, names: list[str], fps: float, n_frames: int, seed: int) -> None:
    w = curves(n_frames, names, fps, seed)
    lines = [",timeCode," + ",".join("blendShapes." + n for n in names)]
    for i in range(n_frames):
        lines.append(f"{i},{i / fps!r}," + ",".join(repr(float(v)) for v in w[i]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_emotions(path: Path, times: list[float], rows: list[dict[str, float]], order: list[str]) -> None:
    lines = [",time_code," + ",".join("emotion_values." + e for e in order)]
    for i, (t, row) in enumerate(zip(times, rows)):
        lines.append(f"{i},{float(np.float32(t))!r}," + ",".join(repr(float(np.float32(row.get(e, 0.0)))) for e in order))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    # NIM 1.2 era: 52 + HeadRoll/HeadPitch/HeadYaw, 30 fps, 2.5 s
    write_animation(HERE / "animation_frames_30fps_55.csv", NVIDIA_52 + HEAD_3, 30.0, 76, seed=1)
    # NIM 2.0 with tongue: 52 + 16 tongue, 30 fps, 2 s
    write_animation(HERE / "animation_frames_30fps_68.csv", NVIDIA_52 + TONGUE_16, 30.0, 61, seed=2)

    # input emotions: the two keys of the sample YAML (joy at 0 s, fear at 1 s), canonical order
    canon = sorted(EMOTION_ORDER)
    write_emotions(HERE / "a2f_3d_input_emotions.csv", [0.0, 1.0], [{"joy": 1.0}, {"fear": 1.0}], canon)
    # smoothed output: sparse float32 time codes, joy fading into fear
    times = [k * 0.0333125 * 3 for k in range(25)]
    rows = []
    for t in times:
        a = min(1.0, max(0.0, (t - 1.0) / 0.8))
        rows.append({"joy": 0.6 * (1 - a), "fear": 0.6 * a, "amazement": 0.05})
    write_emotions(HERE / "a2f_3d_smoothed_emotion_output.csv", times, rows, EMOTION_ORDER)

    # Omniverse blendshape JSON: 60 fps, camelCase ARKit names, eye/jaw joint tracks
    names = [n[0].lower() + n[1:] for n in NVIDIA_52]
    n = 90
    w = curves(n, NVIDIA_52, 60.0, seed=3)
    joints = ["eye_L", "eye_R", "jaw"]
    rot = [[[0.0, 0.0, 0.0, 1.0] for _ in joints] for _ in range(n)]
    trans = [[[0.0, 0.0, 0.0] for _ in joints] for _ in range(n)]
    doc = {
        "exportFps": 60,
        "trackPath": "audio/hello.wav",
        "numPoses": len(names),
        "numFrames": n,
        "facsNames": names,
        "weightMat": w.astype(np.float64).tolist(),
        "joints": joints,
        "rotations": rot,
        "translations": trans,
    }
    # one line per key, weightMat one row per line (keeps the file small and diffable)
    body = []
    for k, v in doc.items():
        if k == "weightMat":
            rows = ",\n".join("    " + json.dumps(r) for r in v)
            body.append(f'  "{k}": [\n{rows}\n  ]')
        else:
            body.append(f'  "{k}": {json.dumps(v)}')
    (HERE / "omniverse_export.json").write_text("{\n" + ",\n".join(body) + "\n}\n", encoding="utf-8")


if __name__ == "__main__":
    main()
