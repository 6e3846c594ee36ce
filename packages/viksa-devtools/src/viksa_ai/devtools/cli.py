"""The ``viksa`` command line.

Each subcommand lives in its own private module (``_cli_NAME``) that adds its parser and
imports what it needs only when it runs; this module only wires them together, so
``viksa validate`` never pays for the client, the platform or the runner.
``viksa-agent-validate`` is kept as an alias of ``viksa validate`` for the commands
users already have in their scripts.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from viksa_ai.devtools import (
    _cli_auth,
    _cli_call,
    _cli_completion,
    _cli_deploy,
    _cli_dev,
    _cli_init,
    _cli_run,
    _cli_schema,
    _cli_validate,
)

__all__ = ["build_parser", "main", "validate_main"]

_DESCRIPTION = """\
Write, check, run and deploy Viksa AI agents.

first hour:
  viksa init my_agent              scaffold agent.json, main.py and test_agent.py
  viksa validate my_agent          check the manifest and main.py (never runs code)
  viksa run my_agent greet -i name=Ada
  viksa dev --watch my_agent       a local platform that redeploys on every save
  viksa deploy my_agent            create or update the agent on a platform
  viksa call my_agent greet -i name=Ada
"""


class _VersionAction(argparse.Action):
    """``--version``: the version is looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("viksa-devtools")
        except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
            number = "unknown"
        python = ".".join(str(part) for part in sys.version_info[:3])
        sys.stdout.write(f"viksa {number} (Python {python})\n")
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    """The ``viksa`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="viksa",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="print the SDK version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _cli_init.add_parser(subparsers)
    _cli_validate.add_parser(subparsers)
    _cli_run.add_parser(subparsers)
    _cli_dev.add_parser(subparsers)
    _cli_deploy.add_parser(subparsers)
    _cli_call.add_parser(subparsers)
    _cli_auth.add_parsers(subparsers)
    _cli_schema.add_parser(subparsers)
    _cli_completion.add_parser(subparsers, build_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``viksa``; returns the process exit code."""
    args = build_parser().parse_args(argv)
    handler = args.handler
    try:
        with warnings.catch_warnings():
            # A warning for a person (e.g. credentials over plain http): one line, no source.
            warnings.showwarning = _show_warning
            code: int = handler(args)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        # deploy, call and login talk to a platform with viksa-client (an extra here).
        if not (exc.name or "").startswith(("viksa_ai.client", "httpx", "watchfiles")):
            raise
        print(
            f"viksa {args.command} needs {exc.name}, which is not installed: "
            "pip install 'viksa-devtools[server]' (or viksa-ai)",
            file=sys.stderr,
        )
        return 2
    return code


def _show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    print(f"viksa: warning: {message}", file=sys.stderr)


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
