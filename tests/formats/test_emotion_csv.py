"""The two emotion CSVs in the sample client's layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from a2f_core.clip import EmotionTrack
from a2f_core.config import EmotionKey
from a2f_core.errors import FormatError
from a2f_core.formats import read_emotion_csv, timeline_track, write_emotion_csv
from a2f_core.names import EMOTIONS

DATA = Path(__file__).resolve().parents[1] / "data"
INPUT = DATA / "a2f_3d_input_emotions.csv"
OUTPUT = DATA / "a2f_3d_smoothed_emotion_output.csv"


def test_input_emotions_file_loads():
    t = read_emotion_csv(INPUT)
    assert t.names == list(EMOTIONS)
    np.testing.assert_array_equal(t.times, [0.0, 1.0])
    assert t.at(0.0)["joy"] == 1.0 and t.at(0.0)["fear"] == 0.0
    assert t.at(1.0)["fear"] == 1.0 and t.at(1.0)["joy"] == 0.0


def test_smoothed_output_keeps_the_servers_column_order_and_float32_times():
    t = read_emotion_csv(OUTPUT)
    assert t.names[:3] == ["pain", "amazement", "anger"]  # protobuf map order, not alphabetical
    assert sorted(t.names) == list(EMOTIONS)
    assert t.times[1] == float(np.float32(0.0999375))
    assert t.at(0.0)["joy"] == pytest.approx(0.6)
    assert t.at(t.times[-1])["fear"] == pytest.approx(0.6)


@pytest.mark.parametrize("src", [INPUT, OUTPUT])
def test_writer_reproduces_the_sample_layout_byte_for_byte(tmp_path, src):
    out = write_emotion_csv(tmp_path / src.name, read_emotion_csv(src))
    assert out.read_bytes() == src.read_bytes()


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.random(40)) * 0.1
    values = rng.random((40, 10)).astype(np.float32)
    t = EmotionTrack(list(EMOTIONS), times, values)
    back = read_emotion_csv(write_emotion_csv(tmp_path / "e.csv", t))
    assert back.names == t.names
    assert np.array_equal(back.times, times)
    assert np.array_equal(back.values.view(np.uint32), values.view(np.uint32))


def test_no_track_writes_a_header_only_file_that_reads_back_empty(tmp_path):
    p = write_emotion_csv(tmp_path / "e.csv", None)
    assert p.read_text() == ",time_code," + ",".join(f"emotion_values.{e}" for e in EMOTIONS) + "\n"
    t = read_emotion_csv(p)
    assert t.names == list(EMOTIONS) and len(t.times) == 0
    # pandas writes '""' for a table with no columns at all
    (tmp_path / "pandas_empty.csv").write_text('""\n')
    assert read_emotion_csv(tmp_path / "pandas_empty.csv").names == []


def test_timeline_track_fills_all_ten_emotions():
    t = timeline_track([EmotionKey(0.0, {"joy": 0.5}), EmotionKey(2.0, {"fear": 1.0, "pain": 0.1})])
    assert t.names == list(EMOTIONS)
    assert t.at(0.0) == {e: (0.5 if e == "joy" else 0.0) for e in EMOTIONS}
    assert t.at(2.0)["pain"] == pytest.approx(0.1)


HEAD = ",time_code,emotion_values.joy,emotion_values.fear\n"


@pytest.mark.parametrize(
    "text, pattern",
    [
        (",timeCode,emotion_values.joy\n0,0.0,1.0\n", r"no 'time_code' column"),
        (",time_code,emotion_values.happiness\n0,0.0,1.0\n", r"unknown emotion column 'emotion_values.happiness'"),
        (",time_code,emotion_values.joy,blendShapes.JawOpen\n0,0.0,1.0,0\n", r"unexpected column 'blendShapes.JawOpen'"),
        (HEAD + "0,1.0,0.1,0.2\n1,0.5,0.1,0.2\n", r"line 3: time_code 0\.5 is not at or after the previous 1\.0"),
        (HEAD + "0,0.0,high,0.2\n", r"line 2, column 'emotion_values.joy': 'high' is not a number"),
    ],
)
def test_bad_emotion_csv_names_file_line_and_problem(tmp_path, text, pattern):
    p = tmp_path / "a2f_3d_input_emotions.csv"
    p.write_text(text)
    with pytest.raises(FormatError, match=pattern) as e:
        read_emotion_csv(p)
    assert str(p) in str(e.value)
