"""The viseme and emotion tables are user-editable YAML: bad edits give errors naming file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from a2f_core import paths
from a2f_core.backends.local import LocalBackend
from a2f_core.backends.local.tables import load_emotion_table, load_viseme_table
from a2f_core.config import RunConfig
from a2f_core.errors import ConfigError


def test_shipped_tables_load():
    v = load_viseme_table()
    assert v.matrix.shape == (15, 52) and (v.dominance > 0).all()
    e = load_emotion_table()
    assert e.matrix.shape == (10, 52) and (e.matrix.sum(axis=1) > 0).all()


def _edited(tmp_path: Path, edit) -> Path:
    src = paths.preset_path("visemes", "ovr15_arkit.yaml")
    data = yaml.safe_load(src.read_text())
    edit(data)
    out = tmp_path / "ovr15_arkit.yaml"
    out.write_text(yaml.safe_dump(data))
    return out


@pytest.mark.parametrize(
    "edit, needle",
    [
        (lambda d: d["visemes"]["PP"].update(lipBite=0.5), r"visemes\.PP\.lipBite is not one of the 52 ARKit"),
        (lambda d: d["visemes"]["aa"].update(jawOpen=1.5), r"visemes\.aa\.jawOpen = 1\.5.*\[0, 1\]"),
        (lambda d: d["visemes"].pop("ou"), r"visemes\.ou is missing"),
        (lambda d: d["visemes"].update(XX={}), r"visemes\.XX is unknown"),
        (lambda d: d["dominance"].update(PP=[3.0, -1, 0.1]), r"dominance\.PP"),
        (lambda d: d.pop("dominance"), r"missing section 'dominance'"),
    ],
)
def test_bad_viseme_table_names_file_and_key(tmp_path, edit, needle):
    path = _edited(tmp_path, edit)
    with pytest.raises(ConfigError, match=needle) as e:
        load_viseme_table(path)
    assert str(path) in str(e.value)


def test_unreadable_table(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("visemes: [unclosed\n")
    with pytest.raises(ConfigError, match="YAML"):
        load_viseme_table(p)
    with pytest.raises(ConfigError, match="not found"):
        load_emotion_table(tmp_path / "missing.yaml")


def test_edited_table_changes_the_animation(tmp_path, monkeypatch, fixtures):
    """The YAML is the source of truth: a wider 'aa' opens the jaw more (via $A2F_PRESETS_DIR)."""
    root = tmp_path / "presets"
    shutil.copytree(paths.presets_dir() / "visemes", root / "visemes")
    shutil.copytree(paths.presets_dir() / "expressions", root / "expressions")
    f = fixtures["father_palm"]
    base = LocalBackend(workers=1).infer(f.audio, RunConfig(), transcript=f.transcript)
    p = root / "visemes" / "ovr15_arkit.yaml"
    data = yaml.safe_load(p.read_text())
    data["visemes"]["aa"]["jawOpen"] = 1.0
    p.write_text(yaml.safe_dump(data))
    monkeypatch.setenv("A2F_PRESETS_DIR", str(root))
    wide = LocalBackend(workers=1).infer(f.audio, RunConfig(), transcript=f.transcript)
    assert wide.channel("jawOpen").max() > base.channel("jawOpen").max() + 0.1
    data["emotions"] = {"joy": {"mouthSmileLeft": 2}}
    (root / "expressions" / "emotions_arkit.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="emotions"):
        LocalBackend(workers=1).infer(f.audio, RunConfig(), transcript=f.transcript)
