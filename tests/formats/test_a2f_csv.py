"""NVIDIA's animation_frames.csv: real layouts load, round trips are exact, bad files give clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from a2f_core.clip import Clip
from a2f_core.errors import FormatError
from a2f_core.formats import load_clip, read_animation_csv, save_clip, write_animation_csv
from a2f_core.names import ARKIT_52, ARKIT_TONGUE_16, NVIDIA_52

DATA = Path(__file__).resolve().parents[1] / "data"
CSV55 = DATA / "animation_frames_30fps_55.csv"
CSV68 = DATA / "animation_frames_30fps_68.csv"


def raw_table(path: Path) -> tuple[list[str], np.ndarray]:
    """Header and float64 values straight from the text (independent of the reader)."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array([[float(c) for c in r] for r in rows[1:]])


def test_real_layout_55_columns_loads_at_30_fps():
    clip = read_animation_csv(CSV55)
    header, raw = raw_table(CSV55)
    assert header[:3] == ["", "timeCode", "blendShapes.EyeBlinkLeft"]
    assert clip.names == list(ARKIT_52) + ["headRoll", "headPitch", "headYaw"]
    assert clip.fps == 30.0
    assert clip.n_frames == 76
    np.testing.assert_array_equal(clip.times, raw[:, 1])
    np.testing.assert_array_equal(clip.times, np.arange(76) / 30.0)
    np.testing.assert_array_equal(clip.weights, raw[:, 2:].astype(np.float32))
    assert clip.weights.dtype == np.float32
    assert not clip.channel("headYaw").any()
    assert clip.channel("jawOpen").max() > 0.5  # the speech-like jaw is there
    assert clip.meta["source"] == str(CSV55)


def test_real_layout_68_columns_with_tongue_loads():
    clip = load_clip(CSV68)
    assert clip.names == list(ARKIT_52) + list(ARKIT_TONGUE_16)
    assert clip.fps == 30.0 and clip.n_frames == 61
    assert clip.channel("tongueTipUp").max() > 0


def test_30_fps_file_resamples_onto_60_fps_frame_times():
    clip = read_animation_csv(CSV55)
    r = clip.resample(60.0)
    assert r.fps == 60.0
    assert r.n_frames == 2 * 75 + 1  # 2.5 s at 60 fps, frame 0 at t = 0
    np.testing.assert_allclose(r.times, np.arange(r.n_frames) / 60.0, rtol=0, atol=1e-12)
    # every other 60 fps frame falls on a 30 fps frame; the ones between are the midpoints
    np.testing.assert_allclose(r.weights[0::2], clip.weights, atol=1e-6)
    mid = (clip.weights[:-1] + clip.weights[1:]) / 2
    np.testing.assert_allclose(r.weights[1::2], mid, atol=1e-6)


def test_writer_reproduces_nvidia_text_byte_for_byte(tmp_path):
    """Read a file in the sample client's exact text layout and write it again: identical bytes."""
    for src in (CSV55, CSV68):
        out = write_animation_csv(tmp_path / src.name, read_animation_csv(src))
        assert out.read_bytes() == src.read_bytes()


def test_round_trip_is_bit_exact_for_float32(tmp_path):
    rng = np.random.default_rng(7)
    n = 200
    w = rng.random((n, 52)).astype(np.float32)
    w[0, :6] = [0.0, 1.0, 1e-30, 3.4e38, -0.0, np.float32(1) / 3]
    w[1, :3] = [np.finfo(np.float32).tiny, 1.4e-45, -2.5]  # smallest normal, a subnormal, negative
    times = np.arange(n) / 60.0
    clip = Clip(list(ARKIT_52), times, w, 60.0)
    p = write_animation_csv(tmp_path / "animation_frames.csv", clip)
    back = read_animation_csv(p)
    assert back.names == clip.names
    assert np.array_equal(back.weights.view(np.uint32), w.view(np.uint32))  # bit-exact, incl. -0.0
    assert np.array_equal(back.times, times)
    assert back.fps == 60.0
    text = p.read_text()
    assert "\r" not in text
    header = text.split("\n", 1)[0].split(",")
    assert header[:2] == ["", "timeCode"]
    assert header[2:] == [f"blendShapes.{n}" for n in NVIDIA_52]  # the NIM's PascalCase
    assert text.split("\n")[2].startswith("1,0.016666666666666666,")


def test_camel_case_names_no_index_column_and_windows_line_ends_are_accepted(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes(b"timeCode,blendShapes.jawOpen,blendShapes.MouthClose\r\n0.0,0.5,0.1\r\n0.04,0.25,0.2\r\n")
    clip = read_animation_csv(p)
    assert clip.names == ["jawOpen", "mouthClose"]
    assert clip.fps == 25.0
    np.testing.assert_array_equal(clip.channel("jawOpen"), np.float32([0.5, 0.25]))


def test_save_clip_and_load_clip_dispatch_by_extension(tmp_path):
    clip = read_animation_csv(CSV68)
    for name in ("x.csv", "x.json", "X.JSON"):
        back = load_clip(save_clip(tmp_path / name, clip))
        assert back.names == clip.names
        assert np.array_equal(back.weights, clip.weights)
    with pytest.raises(FormatError, match=r"x\.fbx.*unknown animation file type"):
        load_clip(tmp_path / "x.fbx")


HEAD = ",timeCode,blendShapes.JawOpen,blendShapes.MouthClose\n"


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("", r"the file is empty"),
        (HEAD, r"no animation frames \(the file has only a header\)"),
        (",time,blendShapes.JawOpen\n0,0.0,0.1\n", r"no 'timeCode' column in the header"),
        (",timeCode\n0,0.0\n", r"no blendshape columns"),
        (HEAD + "0,0.0,0.1,0.2\n1,0.033,abc,0.2\n", r"line 3, column 'blendShapes.JawOpen': 'abc' is not a number"),
        (HEAD + "0,0.0,0.1,0.2\n1,0.033,,0.2\n", r"line 3, column 'blendShapes.JawOpen': '' is not a number"),
        (HEAD + "0,0.0,0.1,nan\n", r"line 2, column 'blendShapes.MouthClose': 'nan' is not a finite number"),
        (HEAD + "0,0.0,0.1,0.2\n1,0.1,0.1\n", r"line 3: 3 cells, but the header has 4 columns"),
        (HEAD + "0,0.0,0.1,0.2\n1,0.1,0.1,0.2\n2,0.1,0.1,0.2\n", r"line 4: timeCode 0\.1 is not after the previous 0\.1"),
        (HEAD + "0,0.5,0.1,0.2\n1,0.2,0.1,0.2\n", r"line 3: timeCode 0\.2 is not after the previous 0\.5"),
        (HEAD + "0,-0.1,0.1,0.2\n", r"line 2: timeCode -0\.1 is negative"),
        (",timeCode,blendShapes.JawOpen,blendShapes.jawOpen\n0,0,0,0\n", r"'jawOpen' appears twice"),
        (",time_code,emotion_values.joy\n0,0.0,1.0\n", r"emotion CSV, not an animation CSV"),
    ],
)
def test_bad_csv_gives_clear_error_naming_the_file(tmp_path, text, pattern):
    p = tmp_path / "animation_frames.csv"
    p.write_text(text)
    with pytest.raises(FormatError, match=pattern) as e:
        read_animation_csv(p)
    assert str(p) in str(e.value)


def test_missing_folder_and_binary_files(tmp_path):
    with pytest.raises(FormatError, match=r"nope\.csv: no such animation CSV"):
        load_clip(tmp_path / "nope.csv")
    with pytest.raises(FormatError, match="is a folder"):
        read_animation_csv(tmp_path)
    b = tmp_path / "b.csv"
    b.write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(FormatError, match=r"b\.csv: is not a text CSV file"):
        read_animation_csv(b)
