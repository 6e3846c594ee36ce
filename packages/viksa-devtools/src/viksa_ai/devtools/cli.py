"""The ``viksa`` command line.

Each subcommand lives in its own private module (``_cli_NAME``) that adds its parser and
imports what it needs only when it runs; this module only wires them together, so
``viksa validate`` never pays for the client, the platform or the runner.
``viksa-agent-validate`` is kept as an alias of ``viksa validate`` for the commands
users already have in their scripts.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from importlib import import_module
from typing import Any

__all__ = ["build_parser", "main", "validate_main"]

_DESCRIPTION = """\
Write, check, run and deploy Viksa AI agents.

first hour:
  viksa init my_agent              scaffold agent.json, main.py and test_agent.py
  viksa validate my_agent          check the manifest and main.py (never runs code)
  viksa run my_agent greet -i name=Ada
  viksa dev --watch my_agent --save-profile
                                   a local platform that redeploys on every save, saved
                                   as a profile for deploy and call in another terminal
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


# Subcommand -> the module that adds its parser, in the order --help lists them.
_COMMANDS = {
    "init": "_cli_init",
    "validate": "_cli_validate",
    "run": "_cli_run",
    "dev": "_cli_dev",
    "deploy": "_cli_deploy",
    "call": "_cli_call",
    "login": "_cli_auth",
    "logout": "_cli_auth",
    "schema": "_cli_schema",
    "mcp": "_cli_mcp",
    "completion": "_cli_completion",
}


def _add(subparsers: Any, module_name: str) -> None:
    module = import_module(f"viksa_ai.devtools.{module_name}")
    if module_name == "_cli_auth":
        module.add_parsers(subparsers)
    elif module_name == "_cli_completion":
        module.add_parser(subparsers, build_parser)
    else:
        module.add_parser(subparsers)


def _parser(module_names: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="viksa",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction, help="print the SDK version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in dict.fromkeys(module_names):
        _add(subparsers, module_name)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The ``viksa`` argument parser with every subcommand."""
    return _parser(list(_COMMANDS.values()))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``viksa``; returns the process exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    first = arguments[0] if arguments else None
    # A run parses with its own subcommand's parser only, so it imports nothing else;
    # anything else (--help, --version, a typo) gets the whole tree.
    parser = _parser([_COMMANDS[first]]) if first in _COMMANDS else build_parser()
    args = _parse(parser, arguments)
    handler = args.handler
    try:
        with warnings.catch_warnings():
            # A warning for a person (e.g. credentials over plain http): one line, no source.
            warnings.showwarning = _show_warning
            code: int = handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`viksa completion bash | head`): end quietly, as a tool
        # killed by SIGPIPE does; stdout goes to devnull so the exit flush cannot fail.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141
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


def _parse(parser: argparse.ArgumentParser, arguments: list[str]) -> argparse.Namespace:
    """Parse; an unknown argument is reported by the (sub)command it was given to.

    argparse reports it with the top-level usage (``viksa [-h] [--version] COMMAND``),
    which shows none of the flags the subcommand does take.
    """
    args, extra = parser.parse_known_args(arguments)
    if extra:
        _chosen(parser, arguments).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _chosen(parser: argparse.ArgumentParser, arguments: list[str]) -> argparse.ArgumentParser:
    """The parser of the deepest subcommand ``arguments`` name (``viksa mcp serve``'s)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for index, word in enumerate(arguments):
                if word in action.choices:
                    chosen: argparse.ArgumentParser = action.choices[word]
                    return _chosen(chosen, arguments[index + 1 :])
    return parser


def _show_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    print(f"viksa: warning: {message}", file=sys.stderr)


def validate_main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``viksa-agent-validate``: the same as ``viksa validate``."""
    from viksa_ai.devtools import _cli_validate

    # Its own parser, so that --help and usage errors name the command the user typed.
    parser = argparse.ArgumentParser(prog="viksa-agent-validate")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _cli_validate.add_parser(subparsers, prog="viksa-agent-validate")
    args = _parse(parser, ["validate", *(sys.argv[1:] if argv is None else argv)])
    code: int = args.handler(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
