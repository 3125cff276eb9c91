"""The bundled CPU backend ("local"): offline lip-sync from pocketsphinx phones.

phones.py (speech -> timed phones) -> visemes.py (phones -> OVR-15 visemes) -> curves.py (visemes ->
52 ARKit mouth curves) + face.py (blinks, eyes, brows, emotions) -> backend.py (LocalBackend).
The viseme and emotion tables are YAML in presets/visemes/ and presets/expressions/ (tables.py).
"""

from .backend import LocalBackend

__all__ = ["LocalBackend"]
