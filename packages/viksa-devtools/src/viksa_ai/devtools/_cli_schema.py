"""``viksa schema``: print the JSON Schema of ``agent.json``, for editors."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "schema_command"]

_EPILOG = """\
`viksa init` writes a "$schema" key naming this schema's $id; editors that cannot
fetch it can use a local copy:
  viksa schema --output agent.schema.json
and "$schema": "./agent.schema.json" in agent.json. `viksa validate` ignores the key.
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``schema`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "schema",
        help="print the JSON Schema of agent.json (for editors)",
        description="Print the JSON Schema of agent.json, generated from viksa-models.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="write the schema to FILE instead of stdout"
    )
    parser.set_defaults(handler=schema_command)


def schema_command(args: argparse.Namespace) -> int:
    """Handle ``viksa schema``; returns the exit code."""
    import json

    from viksa_ai.devtools._schema import agent_json_schema

    text = json.dumps(agent_json_schema(), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"viksa schema: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0
