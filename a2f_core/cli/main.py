"""Entry point of the `a2f` console script.

Exit codes: 0 ok, 1 internal error (a bug: traceback shown), 2 user error (one-line message),
3 server offline/unreachable, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from ..errors import A2FError

SUBCOMMANDS = ("infer", "health", "serve", "perf")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="a2f", description="Speech to ARKit facial animation (Audio2Face-3D compatible).")
    from .. import __version__

    p.add_argument("--version", action="version", version=f"a2f {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        mod = importlib.import_module(f"{__package__}.{name}")
        sp = mod.add_parser(sub)
        sp.set_defaults(_run=mod.run)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except A2FError as e:
        print(f"a2f {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"a2f {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print(f"a2f {args.command}: internal error (a bug); please report it with the traceback above", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
