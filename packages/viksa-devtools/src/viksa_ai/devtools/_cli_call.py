"""``viksa call AGENT ENDPOINT``: execute a deployed endpoint and print its result."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viksa_ai.client import ViksaValidationError

from viksa_ai.devtools._cli_common import (
    CommandError,
    add_connection_flags,
    add_input_flags,
    add_output_flags,
    report_error,
)
from viksa_ai.devtools._cli_values import json_object, typed_value

__all__ = ["add_parser", "call_command"]

_DESCRIPTION = """\
Execute an endpoint of a deployed agent (by alias or id) on a Viksa platform and print
its result: readable, highlighted JSON on a terminal; the result as JSON otherwise (or
with --format json). A failure prints one headline and the agent's traceback.

Exit status: 0 the endpoint answered, 1 it failed (or the platform refused the call),
2 usage error or unknown agent/endpoint, 3 invalid input, 4 auth not configured,
5 the endpoint raised, 6 timeout.
"""

_EPILOG = """\
inputs: --payload, then each -i (later ones win). -i KEY=VALUE takes VALUE as the
  input's declared type: a string input keeps 12345 as text; integer, float, boolean
  (true/false), dict and list inputs parse it (dict and list as JSON).

examples:
  viksa call my_agent greet -i name=Ada
  viksa call my_agent greet -i name=Ada -i excited=true --format json
  viksa call agt_123 my_agent.main.greet --payload '{"name": "Ada"}'
"""

# The runner's exit codes, by the kind of error an execution records.
_EXIT_OF_KIND = {"invalid_input": 3, "auth_not_configured": 4, "endpoint_error": 5, "timeout": 6}


def add_parser(subparsers: Any) -> None:
    """Add the ``call`` subcommand to ``subparsers``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "call",
        help="execute an endpoint of a deployed agent",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("agent", metavar="AGENT", help="the agent's alias or id")
    parser.add_argument(
        "endpoint", metavar="ENDPOINT", help="endpoint name, or its alias.module.function path"
    )
    add_input_flags(parser)
    parser.add_argument("--envelope", metavar="JSON", help="the A2A envelope, a JSON object")
    parser.add_argument(
        "--timeout", type=int, metavar="SECONDS", help="the call's timeout on the platform"
    )
    add_output_flags(parser)
    add_connection_flags(parser)
    parser.set_defaults(handler=call_command)


def call_command(args: argparse.Namespace) -> int:
    """Handle ``viksa call``; returns the exit code."""
    from viksa_ai.client import ViksaError, ViksaValidationError
    from viksa_ai.devtools._cli_common import api_error_message, connect

    try:
        payload = json_object(args.payload, "--payload") if args.payload else {}
        envelope = json_object(args.envelope, "--envelope") if args.envelope else None
        if args.timeout is not None and args.timeout < 1:
            raise CommandError("--timeout must be at least 1 second", 2)
        client = connect(args)
    except CommandError as exc:
        return _report(exc, args)
    with client:
        try:
            agent = _find_agent(client, args.agent)
            endpoint = _find_endpoint(agent, args.endpoint)
            inputs = {**payload, **_typed_inputs(args.inputs, agent, endpoint)}
            request: dict[str, Any] = {
                "agent_id": agent["id"],
                "agent_type": agent.get("agent_type") or "cloud",
                "endpoint": endpoint["endpoint"],
                "inputs": inputs,
            }
            if envelope is not None:
                request["envelope"] = envelope
            if args.timeout is not None:
                request["timeout"] = args.timeout
            answer = client.pulse.execute(request)
        except CommandError as exc:
            return _report(exc, args)
        except ViksaValidationError as exc:
            return _report(CommandError(_invalid_inputs(exc) or api_error_message(exc), 3), args)
        except ViksaError as exc:
            return _report(CommandError(api_error_message(exc), kind="platform_error"), args)
    from viksa_ai.devtools._cli_output import print_failure, print_result

    record = answer.model_dump(mode="json")
    if record.get("status") == "completed":
        print_result(record.get("response"), args, record.get("duration_ms"))
        return 0
    if record.get("status") == "awaiting_approval":
        print(
            f"viksa call: awaiting approval (approval id {record.get('approval_id')}); "
            "decide it in the dashboard or with client.chat.approvals.decide",
            file=sys.stderr,
        )
        return 1
    print_failure(record, args)
    return _EXIT_OF_KIND.get(str(record.get("error_kind")), 1)


def _report(exc: CommandError, args: argparse.Namespace) -> int:
    """Print a failure of the command itself (not of the endpoint); its exit code.

    In JSON output, as ``viksa run`` does: ``{"error": {"kind", "message"}}`` on stderr,
    so a script reading it gets JSON whatever failed.
    """
    from viksa_ai.devtools._cli_output import output_format, print_failure

    if output_format(args.format, sys.stdout) == "json":
        print_failure({"kind": exc.kind, "message": str(exc)}, args)
        return exc.exit_code
    return report_error("call", exc)


def _find_agent(client: Any, name: str) -> dict[str, Any]:
    from viksa_ai.client import ViksaApiError
    from viksa_ai.devtools._suggest import did_you_mean

    aliases: list[str] = []
    for agent in client.builder.agents.iter_all(limit=100):
        if not isinstance(agent, Mapping):
            continue
        if name in (agent.get("agent_alias"), agent.get("id")):
            return dict(agent)
        aliases.append(str(agent.get("agent_alias")))
    try:
        return dict(client.builder.agents.get(name))
    except ViksaApiError:
        pass
    known = ", ".join(sorted(aliases)[:20]) or "none yet"
    raise CommandError(
        f"no agent {name!r} in this project{did_you_mean(name, aliases)}: deploy it with "
        f"`viksa deploy PATH` (agents: {known})",
        2,
        kind="agent_not_found",
    )


def _find_endpoint(agent: Mapping[str, Any], name: str) -> dict[str, Any]:
    from viksa_ai.devtools._suggest import did_you_mean

    endpoints = [e for e in agent.get("agent_endpoints", []) if isinstance(e, Mapping)]
    for endpoint in endpoints:
        if name in (endpoint.get("name"), endpoint.get("endpoint")):
            return dict(endpoint)
    names = [str(e.get("name")) for e in endpoints]
    raise CommandError(
        f"agent {agent.get('agent_alias')!r} has no endpoint {name!r}"
        f"{did_you_mean(name, names)}; its endpoints: {', '.join(names) or 'none'}",
        2,
        kind="endpoint_not_found",
    )


def _typed_inputs(
    assignments: list[str], agent: Mapping[str, Any], endpoint: Mapping[str, Any]
) -> dict[str, Any]:
    types = {
        str(i.get("name")): i.get("type") for i in agent.get("inputs", []) if isinstance(i, Mapping)
    }
    refs = [r.get("input_ref") for r in endpoint.get("inputs", []) if isinstance(r, Mapping)]
    declared = {str(ref): types.get(str(ref)) for ref in refs}
    return dict(typed_value(item, declared) for item in assignments)


def _invalid_inputs(exc: ViksaValidationError) -> str | None:
    """The platform's 422 about the inputs worded as ``viksa run`` words it, or None."""
    details = exc.details
    if not details or not all((d.field or "").startswith("inputs") for d in details):
        return None
    return "invalid inputs: " + "; ".join(d.message for d in details)
