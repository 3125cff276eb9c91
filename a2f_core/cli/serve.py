"""`a2f serve` (placeholder until the NIM work lands)."""

from __future__ import annotations

from ..errors import A2FError


def add_parser(sub):
    return sub.add_parser("serve", help="(not available yet)")


def run(args) -> int:
    raise A2FError("'a2f serve' is not available in this build yet")
