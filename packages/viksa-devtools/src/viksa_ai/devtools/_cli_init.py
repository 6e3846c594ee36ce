"""``viksa init PATH [--name NAME]``: scaffold an agent that validates, runs and tests."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "init_command"]

_DESCRIPTION = """\
Create PATH (if needed) with a working agent: agent.json (alias, one endpoint, its
inputs and outputs, a $schema for editors), main.py, test_agent.py (a pytest test
that deploys the agent to a local platform in the test process) and the pytest.ini it
runs with. Existing files are never overwritten. The alias is PATH's folder name
(letters, digits and _).
"""

_EPILOG = """\
examples:
  viksa init my_agent
  viksa init agents/weather --name "Weather Agent"
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``init`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "init",
        help="scaffold a new agent (agent.json, main.py, test_agent.py, pytest.ini)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("path", metavar="PATH", help="the agent's folder (created if needed)")
    parser.add_argument("--name", help="the agent's display name (default: from PATH)")
    parser.set_defaults(handler=init_command)


def init_command(args: argparse.Namespace) -> int:
    """Handle ``viksa init``; returns the exit code."""
    from viksa_ai.devtools._scaffold import scaffold, without_dot_dot

    if not args.path.strip():
        # Path("") is the current folder: an unset shell variable must not scaffold here.
        print(
            "viksa init: PATH is empty: name the agent's folder (`viksa init .` for this one)",
            file=sys.stderr,
        )
        return 2
    directory = without_dot_dot(Path(args.path))
    if args.name is not None and not args.name.strip():
        print("viksa init: --name must not be empty", file=sys.stderr)
        return 2
    try:
        if directory.exists() and not directory.is_dir():
            print(f"viksa init: {directory} exists and is not a folder", file=sys.stderr)
            return 2
        made = scaffold(directory, args.name)
    except FileExistsError as exc:
        print(
            f"viksa init: {exc.args[0]} already exists: nothing was written; "
            "choose a new folder, or remove the file first",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"viksa init: cannot write {directory}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    shown = directory.as_posix()
    print(f"Created agent {made.alias} in {shown}/")
    roles = (
        "the manifest: inputs, outputs, the greet endpoint",
        "the code of greet",
        "its test",
        "the settings its test runs with",
    )
    for file, what in zip(made.files, roles, strict=True):
        print(f"  {file.as_posix():<{len(shown) + 15}} {what}")
    # Quoted for the shell, so a folder name with a space is copied and pasted as one word.
    quoted = shlex.quote(shown)
    print("\nNext:")
    print(f"  viksa validate {quoted}")
    print(f"  viksa run {quoted} greet -i name=Ada")
    return 0
