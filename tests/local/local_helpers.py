"""Speech fixtures for the local backend tests (tests/fixtures, made by make_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path

from a2f_core import audio as audio_mod
from a2f_core.backends.local.evaluate import phones_from_json

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))


class Fixture:
    def __init__(self, name: str) -> None:
        self.name = name
        self.meta = json.loads((FIXTURES / f"{name}.json").read_text())
        self.audio = audio_mod.load(FIXTURES / f"{name}.wav")
        self.transcript: str = self.meta["transcript"]
        self.known = phones_from_json(self.meta)
