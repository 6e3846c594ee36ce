"""The ``viksa`` command line: ``viksa validate``, ``viksa run``, ``viksa dev``, ``viksa mcp``.

Each subcommand lives in its own private module that adds its parser; this module
only wires them together. ``viksa-agent-validate`` is kept as an alias of
``viksa validate`` for the commands users already have in their scripts.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from viksa_ai.devtools import _cli_dev, _cli_mcp, _cli_run, _cli_validate

__all__ = ["build_parser", "main", "validate_main"]


def build_parser() -> argparse.ArgumentParser:
    """The ``viksa`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="viksa",
        description="Validate, run and serve Viksa AI agents locally.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _cli_validate.add_parser(subparsers)
    _cli_run.add_parser(subparsers)
    _cli_dev.add_parser(subparsers)
    _cli_mcp.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``viksa``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


def validate_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``viksa-agent-validate``: the same as ``viksa validate``."""
    # Its own parser, so that --help and usage errors name the command the user typed.
    parser = argparse.ArgumentParser(prog="viksa-agent-validate")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _cli_validate.add_parser(subparsers, prog="viksa-agent-validate")
    args = parser.parse_args(["validate", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
