"""The bundled CPU backend ("local"): offline lip-sync from pocketsphinx phones.

normalise.py (transcript -> words) and words.py (Whisper words without a transcript) -> phones.py (pocketsphinx
decoders: speech -> timed phones) driven by long_audio.py (pieces in the shared worker pool) -> visemes.py (phones
-> OVR-15 visemes) -> curves.py (visemes -> 52 ARKit mouth curves) + blinks_brows_emotions.py (blinks, eyes, brows, emotions) ->
backend.py (LocalBackend).
The viseme and emotion tables are YAML in presets/visemes/ and presets/expressions/ (tables.py).
"""

from .backend import LocalBackend

__all__ = ["LocalBackend"]
