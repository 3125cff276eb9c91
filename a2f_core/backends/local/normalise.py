"""Transcript text -> the words the aligner looks up: numbers read out, punctuation dropped, and letter-to-sound
spellings for words missing from the CMU dictionary."""

from __future__ import annotations

import re

# --- transcript -> words --------------------------------------------------------------------------

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
    "sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> list[str]:
    """English words for 0 <= n < 1e6 (digits are read one by one beyond)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + (number_words(n % 10) if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    if n < 1_000_000:
        return number_words(n // 1000) + ["thousand"] + (number_words(n % 1000) if n % 1000 else [])
    return [_ONES[int(c)] for c in str(n)]


def words_of(text: str) -> list[str]:
    """Lower-case words of a transcript: punctuation dropped, numbers spelled out."""
    out: list[str] = []
    for tok in re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)*|\d+", text.replace("\u2019", "'")):
        out.extend(number_words(int(tok)) if tok.isdigit() else [tok.lower()])
    return out


# --- letter-to-sound for words missing from the CMU dictionary -----------------------------------

_LTS = [
    ("tch", "CH"), ("sch", "S K"), ("igh", "AY"), ("ough", "AO"),
    ("ch", "CH"), ("sh", "SH"), ("th", "TH"), ("ph", "F"), ("ck", "K"), ("ng", "NG"), ("qu", "K W"),
    ("wh", "W"), ("gh", "G"), ("oo", "UW"), ("ee", "IY"), ("ea", "IY"), ("ai", "EY"), ("ay", "EY"),
    ("ou", "AW"), ("ow", "OW"), ("oi", "OY"), ("oy", "OY"), ("au", "AO"), ("aw", "AO"), ("ar", "AA R"),
    ("or", "AO R"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("ie", "IY"), ("oa", "OW"), ("ew", "UW"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"), ("h", "HH"),
    ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("o", "AA"), ("p", "P"),
    ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"), ("v", "V"), ("w", "W"), ("x", "K S"),
    ("y", "IY"), ("z", "Z"),
]


def letter_to_sound(word: str) -> str:
    """A rough ARPAbet pronunciation by spelling rules (for out-of-vocabulary words only)."""
    w = re.sub(r"[^a-z]", "", word.lower())
    w = re.sub(r"(.)\1", r"\1", w)  # double letters sound once
    if len(w) > 2 and w.endswith("e") and w[-2] not in "aeiou":
        w = w[:-1]  # silent final e
    out: list[str] = []
    i = 0
    while i < len(w):
        if i == 0 and w[0] == "y":
            out.append("Y")
            i += 1
            continue
        for letters, phones in _LTS:
            if w.startswith(letters, i):
                out.extend(phones.split())
                i += len(letters)
                break
        else:
            i += 1
    return " ".join(out) or "AH"


def word_errors(ref: list[str], hyp: list[str]) -> int:
    """Word edit distance (Levenshtein over words): the numerator of a word error rate against ``ref``."""
    d = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, d[0] = d[:], i
        for j, h in enumerate(hyp, 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r != h))
    return d[-1]
