"""``viksa deploy PATH...``: create or update agents on a platform, bind secrets, deploy."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from viksa_ai.devtools._cli_common import (
    CommandError,
    add_connection_flags,
    add_secret_flags,
    report_error,
)

__all__ = ["add_parser", "deploy_command", "describe"]

_DESCRIPTION = """\
Deploy agent folders to a Viksa platform (the local one of `viksa dev`, or the hosted
one): validate (an invalid agent is refused with the validator's report, exit 1),
create the agent or update the one with the same agent_alias (never a twin), store
secrets in the platform's vault and bind them, build and deploy. Deploying an unchanged
folder again changes nothing and says so. PATH may be a folder of agent folders.

Exit status: 0 every agent deployed (or unchanged), 1 an agent invalid or the platform
failed (unreachable, credentials refused), 2 usage error (a PATH without agent.json, a
bad flag, secret or base URL).
"""

_EPILOG = """\
secrets: --secrets-file, then each --secret (later ones win), as for `viksa run`: a JSON
  object or METHOD.PARAM=VALUE lines. Each is stored in the vault as
  ALIAS.METHOD.PARAM and bound to the agent; values are never printed. A later deploy
  without --secret keeps the bindings made before.

examples:
  viksa deploy my_agent
  viksa deploy examples/aviation_agent --secret aviationstack_api.api_key=KEY
  viksa deploy agents/ --secrets-file .secrets --profile staging
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``deploy`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "deploy",
        help="create or update agents on a platform and deploy them",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", metavar="PATH", nargs="+", help="agent folder (or folder of them)")
    add_secret_flags(parser, where="an auth param, stored in the vault and bound")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default) or json: one document on stdout listing what each deploy did "
        '(a usage error too: {"ok": false, "error": ...})',
    )
    add_connection_flags(parser)
    parser.set_defaults(handler=deploy_command)


def describe(result: Any) -> list[str]:
    """The lines that tell a person what a deploy did and how to call the agent."""
    if result.action == "unchanged":
        return [
            f"{result.alias}: unchanged (revision {result.revision} is deployed); nothing to do"
        ]
    what = {"created": "created", "updated": "updated", "deployed": "built and deployed"}
    headline = f"{result.alias}: {what.get(result.action, result.action)}"
    headline += f" (revision {result.revision})"
    if result.changed and result.action == "updated":
        headline += f", changed: {', '.join(result.changed)}"
    lines = [headline]
    if result.secrets:
        lines.append(f"  secrets   {', '.join(result.secrets)} (stored in the vault, bound)")
    for endpoint, required in zip(result.endpoints, result.required_inputs, strict=True):
        call = f"viksa call {result.alias} {endpoint.rsplit('.', 1)[-1]}"
        call += "".join(f" -i {name}=VALUE" for name in required)
        lines.append(f"  endpoint  {endpoint}")
        lines.append(f"    {call}")
    return lines


def deploy_command(args: argparse.Namespace) -> int:
    """Handle ``viksa deploy``; returns the exit code."""
    import dataclasses
    import json

    from viksa_ai.devtools._cli_validate import agent_paths
    from viksa_ai.devtools._cli_values import collect_secrets
    from viksa_ai.devtools._deploy import DeployError, deploy_agent

    try:
        secrets = collect_secrets(args)
        paths = agent_paths(args.paths)
        missing = [p for p in paths if not _is_agent(p)]
        if missing:
            raise CommandError(
                f"{missing[0]}: no agent.json there: pass an agent folder "
                "(`viksa init PATH` creates one) or a folder of agent folders",
                2,
            )
        client = _connect(args)
    except CommandError as exc:
        if args.format == "json":  # still one document on stdout, as a script reads it
            print(json.dumps({"ok": False, "error": str(exc), "agents": []}, indent=2))
        return report_error("deploy", exc)
    failed = 0
    documents: list[dict[str, Any]] = []
    with client:
        for path in paths:
            try:
                result = deploy_agent(client, Path(path), secrets)
            except DeployError as exc:
                failed += 1
                for line in exc.lines:
                    print(line, file=sys.stderr)
                print(f"viksa deploy: {exc}", file=sys.stderr)
                documents.append({"path": path, "error": str(exc), "issues": exc.lines})
                continue
            documents.append({"path": path, **dataclasses.asdict(result)})
            if args.format == "text":
                for line in result.warnings:  # as `viksa validate` prints them
                    print(line, file=sys.stderr, flush=True)
                print("\n".join(describe(result)), flush=True)
    if args.format == "json":
        print(json.dumps({"ok": not failed, "agents": documents}, indent=2))
    return 1 if failed else 0


def _is_agent(path: str) -> bool:
    try:
        return (Path(path) / "agent.json").is_file()
    except (OSError, ValueError):  # a name too long, a path the system refuses
        return False


def _connect(args: argparse.Namespace) -> Any:
    from viksa_ai.devtools._cli_common import connect

    return connect(args)
