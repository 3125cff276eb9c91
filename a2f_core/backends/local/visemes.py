"""CMU phones -> Meta/Oculus OVR-15 visemes (sil PP FF TH DD kk CH SS nn RR aa E ih oh ou).

Diphthongs are split 60/40 into two visemes. A short pause right before a bilabial is the lip
closure of that stop, so it becomes part of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .phones import Phone

VISEMES: tuple[str, ...] = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou")

PHONE_VISEMES: dict[str, tuple[str, ...]] = {
    "SIL": ("sil",),
    "P": ("PP",), "B": ("PP",), "M": ("PP",),
    "F": ("FF",), "V": ("FF",),
    "TH": ("TH",), "DH": ("TH",),
    "T": ("DD",), "D": ("DD",),
    "K": ("kk",), "G": ("kk",), "NG": ("kk",), "HH": ("kk",),
    "CH": ("CH",), "JH": ("CH",), "SH": ("CH",), "ZH": ("CH",),
    "S": ("SS",), "Z": ("SS",),
    "N": ("nn",), "L": ("nn",),
    "R": ("RR",), "ER": ("RR",),
    "W": ("ou",), "Y": ("ih",),
    "AA": ("aa",), "AE": ("aa",), "AH": ("aa",), "AO": ("oh",),
    "EH": ("E",), "IH": ("ih",), "IY": ("ih",),
    "UH": ("ou",), "UW": ("ou",),
    "OW": ("oh", "ou"), "AW": ("aa", "ou"), "AY": ("aa", "ih"), "EY": ("E", "ih"), "OY": ("oh", "ih"),
}

BILABIAL = frozenset({"P", "B", "M"})
LABIODENTAL = frozenset({"F", "V"})
OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH"})
ROUNDED = frozenset({"UW", "UH", "OW", "W"})
MAX_CLOSURE = 0.15  # s: a pause up to this long before a bilabial is its closure


@dataclass
class Segment:
    viseme: str
    start: float
    end: float
    phone: str
    stress: float = 1.0  # scales the jaw target (short vowels do not open fully)

    @property
    def center(self) -> float:
        return 0.5 * (self.start + self.end)


def _base(phone: str) -> str:
    return phone.rstrip("012").upper()


def to_segments(phones: Sequence[Phone]) -> list[Segment]:
    """Viseme segments in time order; unknown phones count as silence."""
    out: list[Segment] = []
    ps = [Phone(_base(p.name), p.start, p.end) for p in phones if p.end > p.start]
    for i, p in enumerate(ps):
        name = p.name
        if name == "SIL" and p.duration <= MAX_CLOSURE and i + 1 < len(ps) and ps[i + 1].name in BILABIAL \
                and i > 0:
            name = ps[i + 1].name  # closure of the coming bilabial stop
        vis = PHONE_VISEMES.get(name, ("sil",))
        if len(vis) == 1:
            out.append(Segment(vis[0], p.start, p.end, name))
        else:
            mid = p.start + 0.6 * p.duration
            out.append(Segment(vis[0], p.start, mid, name))
            out.append(Segment(vis[1], mid, p.end, name))
    return out
