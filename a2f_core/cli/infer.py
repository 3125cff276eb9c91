"""`a2f infer` (placeholder until the NIM work lands)."""

from __future__ import annotations

from ..errors import A2FError


def add_parser(sub):
    return sub.add_parser("infer", help="(not available yet)")


def run(args) -> int:
    raise A2FError("'a2f infer' is not available in this build yet")
