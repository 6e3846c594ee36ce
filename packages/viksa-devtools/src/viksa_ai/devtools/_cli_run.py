"""``viksa run PATH ENDPOINT``: run one endpoint of a local agent in a child process.

On success the endpoint's return value is printed to stdout as JSON and the exit code
is 0. On failure stdout stays empty and stderr ends with one JSON document,
``{"error": {"kind": ..., "message": ..., ...}}``, after anything the agent printed
(agent output always goes to stderr, so stdout carries only the result). That is
``--format json``, the default when stdout is not a terminal; on a terminal
(``--format text``) the result is highlighted JSON, an error a headline and the
agent's traceback. Exit codes:
2 usage or bad agent/manifest/endpoint, 3 invalid input, 4 auth not configured,
5 exception in the endpoint, 6 timeout, 7 the worker process died, 8 a resource limit.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from viksa_ai.devtools._cli_common import CommandError
from viksa_ai.devtools._cli_values import collect_secrets, json_object, read_text_file, typed_value

__all__ = ["add_parser", "parse_input_assignment", "run_command"]

_DESCRIPTION = """\
Run one endpoint of an agent the way a platform worker does: in a child process
(sandboxed on Linux where bubblewrap is available), with ViksaAI.py injected, the
environment a worker gives it (auth params, never yours), the A2A envelope stripped
from the inputs and visible to context(), and the endpoint's timeout enforced.

The result is printed to stdout as JSON (exit 0). Errors are one JSON document on
stderr: exit 2 usage or bad agent, 3 invalid input, 4 auth not configured,
5 exception in the endpoint (with its traceback), 6 timeout, 7 worker died,
8 a resource limit (memory, CPU time, output or result size, processes, disk).
On a terminal (--format text) the result is highlighted JSON and an error is one
headline and the agent's traceback.
"""

_EPILOG = """\
inputs: --payload-file, then --payload, then each --input (later ones win).
  --input KEY=VALUE takes VALUE as the input's declared type: a string input keeps
  12345 as text; integer, float, boolean (true/false), dict and list inputs parse it
  (dict and list as JSON). An input the endpoint does not take is an error.
secrets: --secrets-file, then each --secret (later ones win). A secrets file is either
  a JSON object ({"method.param": "value"} or {"method": {"param": "value"}}) or
  lines of METHOD.PARAM=VALUE (blank lines and # comments skipped, an optional
  "export " prefix, one pair of quotes around VALUE stripped). Prefer a file to
  --secret: command lines are visible to other users of the machine. Values are never
  printed. Configured methods are those declared in agent.json's "auth_methods"
  plus those named by a secret; a method is enabled when all its params have values.

examples:
  viksa run examples/aviation_agent get_flights_between \\
      --input source=JFK --input destination=LAX --secrets-file .secrets
  viksa run ./my_agent search --payload '{"query": "x"}' --envelope '{"run_id": "r1"}'
"""


def add_parser(subparsers: Any) -> None:
    """Add the ``run`` subcommand to ``subparsers``."""
    from viksa_ai.devtools._cli_common import (
        add_input_flags,
        add_otlp_flag,
        add_output_flags,
        add_secret_flags,
    )

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run",
        help="run one endpoint of a local agent in a child process",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "path", metavar="PATH", help="agent directory (with agent.json) or JSON file"
    )
    parser.add_argument(
        "endpoint", metavar="ENDPOINT", help="endpoint name, or its alias.module.function path"
    )
    add_input_flags(parser)
    parser.add_argument(
        "--payload-file",
        metavar="FILE",
        help="a file holding the inputs as a JSON object (- for stdin)",
    )
    add_secret_flags(parser, where="one auth param for the agent's environment")
    parser.add_argument(
        "--envelope", metavar="JSON", help="the A2A envelope of the call, as a JSON object"
    )
    parser.add_argument(
        "--no-sandbox",
        dest="sandbox",
        action="store_false",
        help=(
            "run the agent without the Linux sandbox (bubblewrap); by default it is "
            "sandboxed where one is available, else a line on stderr says it is not"
        ),
    )
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        help="override the endpoint's execution_config.timeout_seconds (default 30)",
    )
    add_otlp_flag(parser, what="the run's")
    add_output_flags(parser)
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Handle ``viksa run``; returns the exit code."""
    from viksa_ai.devtools.runner import RunnerError, run_endpoint, sandbox_status

    try:
        inputs = _collect_inputs(args)
        secrets = collect_secrets(args)
        envelope = json_object(args.envelope, "--envelope") if args.envelope else None
    except CommandError as exc:
        return _fail({"kind": "usage", "message": str(exc)}, 2, args)
    from viksa_ai.devtools._cli_common import setup_otlp

    not_traced = setup_otlp(args, command="viksa run", service_name="viksa-run")
    if not_traced is not None:
        return _fail({"kind": "usage", "message": not_traced}, 2, args)
    sandboxed, status = sandbox_status(args.sandbox)
    if args.sandbox and not sandboxed:
        # Asked for (the default) but not there: say so once, before the agent's output.
        sys.stderr.write(f"viksa run: sandbox {status}\n")
        sys.stderr.flush()
    try:
        result = run_endpoint(
            args.path,
            args.endpoint,
            inputs,
            secrets=secrets,
            envelope=envelope,
            timeout=args.timeout,
            sandbox=args.sandbox,
        )
    except RunnerError as exc:
        error = exc.to_dict()
        if error.get("method_id") and error.get("param_name"):
            name = f"{error['method_id']}.{error['param_name']}"
            error["hint"] = (
                f"pass --secret {name}=VALUE, or a line {name}=VALUE in a --secrets-file"
            )
        return _fail(error, exc.exit_code, args)
    from viksa_ai.devtools._cli_output import print_result

    print_result(result.value, args, result.duration_ms)
    return 0


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("the timeout must be a positive number of seconds")
    return value


def _collect_inputs(args: argparse.Namespace) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if args.payload_file:
        inputs.update(
            json_object(read_text_file(args.payload_file, "--payload-file"), "--payload-file")
        )
    if args.payload:
        inputs.update(json_object(args.payload, "--payload"))
    declared = _declared_inputs(args.path, args.endpoint) if args.inputs else None
    for item in args.inputs:
        key, value = parse_input_assignment(item)
        if declared is not None:
            key, value = typed_value(item, declared, flag="--input")
        inputs[key] = value
    return inputs


def _declared_inputs(path: str, endpoint_name: str) -> dict[str, str | None] | None:
    """The endpoint's inputs and their declared types; None when the agent cannot load.

    (The run then reports why it cannot load, with the runner's own message.)
    """
    from viksa_ai.devtools.runner import RunnerError, load_agent

    try:
        agent = load_agent(path)
        endpoint = agent.find_endpoint(endpoint_name)
    except RunnerError:
        return None
    return {
        ref.input_ref: (
            agent.inputs[ref.input_ref].type.value if ref.input_ref in agent.inputs else None
        )
        for ref in endpoint.inputs
    }


def parse_input_assignment(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE``: VALUE as JSON when it is valid JSON, else as the string."""
    key, eq, raw = text.partition("=")
    if not eq or not key:
        from viksa_ai.devtools.validate._structure import short_repr

        missing = "has no '='" if not eq else "has no KEY before '='"
        raise CommandError(
            f"--input {short_repr(text, 60)} {missing}: give each input as KEY=VALUE, "
            "e.g. --input source=JFK",
            2,
        )
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    except RecursionError:
        raise CommandError(f"--input {key}: the JSON value is nested too deeply", 2) from None
    return key, value


def _fail(error: dict[str, Any], code: int, args: argparse.Namespace) -> int:
    from viksa_ai.devtools._cli_output import print_failure

    print_failure(error, args)
    return code
