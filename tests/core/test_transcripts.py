"""Dialogue scripts (a2f_core.transcripts.read_script): the tables game and film pipelines keep their lines in."""

from __future__ import annotations

from pathlib import Path

import pytest

from a2f_core.errors import ConfigError
from a2f_core.transcripts import read_script, read_transcript_file, script_key, write_script


def write(tmp_path: Path, text: str, name: str = "script.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_spreadsheet_export_with_header_quotes_and_paths(tmp_path):
    """Excel's "CSV UTF-8" (byte-order mark), extra columns, quoted commas, paths and extensions in the file
    column, any case: each line is found by its audio file's name."""
    p = write(tmp_path, "\ufeffLine ID,Character,Text\r\n"
                        "VO\\bob\\Line_001.wav,Bob,\"Bob made a movie, about boys.\"\r\n"
                        "line_002,Ann,Who knows why?\r\n"
                        "\r\n"
                        "scene2/line_003.v2.flac,Ann,Take two.\r\n")
    s = read_script(p)
    assert s.text_for(Path("/any/where/LINE_001.wav")) == "Bob made a movie, about boys."
    assert s.text_for(Path("line_002.ogg")) == "Who knows why?"
    assert s.text_for(Path("line_003.v2.wav")) == "Take two."
    assert s.text_for(Path("line_004.wav")) is None
    assert script_key("Take.01") == "take.01"  # only audio extensions are dropped


@pytest.mark.parametrize("text", [
    "file\ttranscript\nline_001\tHello there.\n",  # TSV with a header
    "line_001;Hello there.\n",  # two columns, no header, semicolons (a European spreadsheet)
    "line_001,Hello there.\n",  # two columns, no header
])
def test_tsv_and_headerless_two_column_scripts(tmp_path, text):
    assert read_script(write(tmp_path, text)).text_for(Path("line_001.wav")) == "Hello there."


@pytest.mark.parametrize("text, name, encoding, pattern", [
    ("id,speaker,notes\n1,Bob,loud\n", "script.csv", "utf-8", r"cannot tell which column names the audio file"),
    ("file,text\nline_001,Hello.\nLINE_001.wav,Goodbye.\n", "script.csv", "utf-8", r"row 3: 'LINE_001.wav' is in the script twice"),
    ("file,text\n,Hello.\n", "script.csv", "utf-8", r"row 2: expected an audio file name"),
    ("file,text\nline_001,Caf\u00e9.\n", "script.csv", "latin-1", r"not UTF-8 text; save it as UTF-8"),
    ("\n\n", "script.csv", "utf-8", r"the script has no lines"),
])
def test_bad_scripts_are_clear_errors(tmp_path, text, name, encoding, pattern):
    p = write(tmp_path, text, name, encoding)
    with pytest.raises(ConfigError, match=pattern) as e:
        read_script(p)
    assert str(p) in str(e.value)


def test_missing_script_and_same_line_twice(tmp_path):
    with pytest.raises(ConfigError, match=r"no such script file"):
        read_script(tmp_path / "nope.csv")
    p = write(tmp_path, "file,text\nline_001,Hello.\nline_001.wav,Hello.\n")  # a repeat with the same words is fine
    assert read_script(p).lines == {"line_001": "Hello."}


def test_transcript_file_that_is_not_utf8(tmp_path):
    p = write(tmp_path, "Caf\u00e9", "line.txt", "latin-1")
    with pytest.raises(ConfigError, match=r"line.txt: the transcript is not UTF-8"):
        read_transcript_file(p)


def test_written_script_reads_back(tmp_path):
    lines = [("a.wav", 'She said, "no", twice'), ("b.flac", "two\nlines"), ("c.wav", "")]
    s = read_script(write_script(tmp_path / "heard.csv", lines))
    assert s.lines == {"a": 'She said, "no", twice', "b": "two\nlines", "c": ""}
