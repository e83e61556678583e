"""The ``cti`` command.

Each module in :mod:`cti.commands` adds one subcommand through ``register(subparsers)``
and sets ``func`` on its parser; ``func(args) -> int`` returns the exit status:
0 success, 1 a failed check, 2 a usage error (argparse also exits 2 on bad usage).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import cti.commands


class UsageError(Exception):
    """Bad arguments or unreadable input: one line on stderr, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cti", description="ctikernel: E1 voice-board driver and CTI kernel")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(cti.commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"cti.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UsageError as e:
        print(f"cti {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
