"""``viksa dev``: serve the local Viksa platform on 127.0.0.1.

Needs the ``server`` extra (FastAPI, uvicorn); it is imported only when the command
runs, so ``viksa validate`` and ``viksa run`` work without it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viksa_ai.devtools.platform import PlatformConfig

__all__ = ["DEFAULT_DATA", "add_parser"]

DEFAULT_DATA = Path(".viksa") / "platform.db"
_DEFAULT_PORT = 8765  # mirrors viksa_ai.devtools.platform.DEFAULT_PORT (not imported: extra)


def add_parser(subparsers: Any) -> None:
    """Add the ``dev`` subcommand to ``subparsers``."""
    from viksa_ai.devtools._cli_common import add_otlp_flag

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "dev",
        help="serve the local Viksa platform on 127.0.0.1",
        description=(
            "Serve a local, stateful Viksa platform on 127.0.0.1 and print working "
            "credentials and the export lines for ViksaClient.from_env(). "
            "Needs: pip install 'viksa-devtools[server]'. Exit status: 130 stopped "
            "with Ctrl-C, 1 the port cannot be listened on, 2 usage error (a bad option, a "
            "data file that cannot be opened or that another viksa dev serves, a --watch path "
            "that holds no agent)."
        ),
    )
    parser.add_argument(
        "--port",
        type=_port,
        # A string default goes through _port too: a bad VIKSA_DEV_PORT is a usage error.
        default=os.environ.get("VIKSA_DEV_PORT") or str(_DEFAULT_PORT),
        help=f"port on 127.0.0.1 (0: any free port; default: VIKSA_DEV_PORT, else {_DEFAULT_PORT})",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, metavar="PATH", help="SQLite file of the state"
    )
    where.add_argument("--memory", action="store_true", help="keep all state in memory")
    parser.add_argument("--reset", action="store_true", help="delete the data file first")
    parser.add_argument(
        "--with-examples",
        nargs="?",
        const=Path("examples"),
        type=Path,
        metavar="DIR",
        help="create, build and deploy every agent directory in DIR (default: ./examples)",
    )
    parser.add_argument(
        "--watch",
        nargs="+",
        type=Path,
        default=[],
        metavar="PATH",
        help="deploy these agent folders (or folders of agents) at start and redeploy one "
        "whenever its agent.json or code changes",
    )
    parser.add_argument(
        "--save-profile",
        nargs="?",
        const="local",
        metavar="NAME",
        help="save this platform's URL and API key as profile NAME (default: local), so "
        "viksa deploy and viksa call in another terminal need no export lines",
    )
    parser.add_argument("--email", help="email of the seeded developer user")
    parser.add_argument(
        "--password",
        help="password of the seeded developer user (default: a fresh random one each start)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="arm a fault for this run, e.g. 'status=503;count=2;path=/builder' (repeatable)",
    )
    parser.add_argument(
        "--access-token-ttl",
        type=_positive_int,
        default=900,
        metavar="SECONDS",
        help="access token lifetime (default 900)",
    )
    parser.add_argument(
        "--workers-per-agent",
        type=_positive_int,
        default=2,
        metavar="N",
        help="warm worker processes per agent (default 2)",
    )
    parser.add_argument(
        "--max-body-mb",
        type=_positive_int,
        default=10,
        metavar="MB",
        help="largest request body in MiB; larger ones answer 413 (default 10)",
    )
    parser.add_argument(
        "--body-timeout",
        type=_positive_int,
        default=30,
        metavar="SECONDS",
        help="time a request body may take to arrive; slower ones answer 408 (default 30)",
    )
    parser.add_argument(
        "--warm-agents",
        type=_positive_int,
        default=8,
        metavar="N",
        help="agents kept warm at once; the least recently used stop first (default 8)",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        type=_host,
        metavar="NAME",
        help=(
            "also answer requests whose Host is NAME (repeatable); by default only "
            "localhost, 127.0.0.1 and [::1], a guard against DNS rebinding"
        ),
    )
    add_otlp_flag(parser, what="the platform's")
    parser.add_argument(
        "--no-sandbox",
        dest="sandbox",
        action="store_false",
        help=(
            "run agents without the Linux sandbox (bubblewrap); by default they are "
            "sandboxed where one is available, and the banner says whether they are"
        ),
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        type=str.lower,
        choices=("critical", "error", "warning", "info", "debug", "trace"),
        help="uvicorn's log level (default warning)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.set_defaults(handler=_run)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is 0-65535 (0: any free port)")
    return value


def _host(text: str) -> str:
    # The name before any port must be there: ":80" or "." would name nothing.
    if not text.split(":")[0].strip(".") or any(c.isspace() or c in "/@?#" for c in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a host name")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _run(args: argparse.Namespace) -> int:
    from viksa_ai.devtools._cli_common import setup_otlp

    try:
        from viksa_ai.devtools.platform import PlatformConfig, parse_fault_spec
        from viksa_ai.devtools.platform.http._serve import serve
    except ImportError as exc:
        print(
            f"viksa dev needs the server extra ({exc.name} is missing): "
            "pip install 'viksa-devtools[server]'",
            file=sys.stderr,
        )
        return 2
    error = setup_otlp(args, command="viksa dev", service_name="viksa-dev")
    if error is not None:
        print(error, file=sys.stderr)
        return 2
    # The dashboard's timelines: recorded when the OpenTelemetry SDK is installed.
    from viksa_ai.devtools.platform._tracing import record_timelines

    record_timelines(service_name="viksa-dev")
    for spec in args.fault:
        try:
            parse_fault_spec(spec)
        except ValueError as exc:
            print(f"viksa dev: bad --fault {spec!r}: {exc}", file=sys.stderr)
            return 2
    data: Path | None = None if args.memory else args.data
    with ExitStack() as held:
        if data is not None:
            from viksa_ai.devtools._data_lock import DataFileLockError, data_file_lock

            try:
                held.enter_context(data_file_lock(data))
            except DataFileLockError as exc:
                print(f"viksa dev: {exc}", file=sys.stderr)
                return 2
        return _serve(args, data, PlatformConfig, serve)


def _serve(
    args: argparse.Namespace,
    data: Path | None,
    config_type: type[PlatformConfig],
    serve: Callable[..., int],
) -> int:
    """Serve on ``data`` (None: in memory), whose lock this process holds."""
    if args.reset and data is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{data}{suffix}").unlink(missing_ok=True)
    if args.with_examples is not None and not args.with_examples.is_dir():
        print(f"viksa dev: no examples directory at {args.with_examples}", file=sys.stderr)
        return 2
    on_ready = _session(args)
    if isinstance(on_ready, int):
        return on_ready
    config = config_type(
        data_path=data,
        access_token_ttl=args.access_token_ttl,
        faults=tuple(args.fault),
        examples_dir=args.with_examples,
        workers_per_agent=args.workers_per_agent,
        warm_agents=args.warm_agents,
        max_body_bytes=args.max_body_mb * 1024 * 1024,
        body_timeout=float(args.body_timeout),
        sandbox=args.sandbox,
    )
    if args.email:
        config = replace(config, seed_email=args.email)
    # A served platform is reachable from agent code over loopback (the sandbox keeps
    # the network): a well-known password would let any agent sign in as the developer.
    config = replace(config, seed_password=args.password or secrets.token_hex(10))
    return serve(
        config,
        port=args.port,
        log_level=args.log_level,
        access_log=args.access_log,
        allow_hosts=args.allow_host,
        on_ready=on_ready,
    )


def _session(args: argparse.Namespace) -> Any:
    """The ``on_ready`` hook for --watch and --save-profile, None, or an exit code."""
    if not args.watch and args.save_profile is None:
        return None
    if args.save_profile is not None and not args.save_profile.strip():
        print("viksa dev: --save-profile needs a name (default: local)", file=sys.stderr)
        return 2
    for path in args.watch:
        try:
            is_dir = path.is_dir()
        except (OSError, ValueError):
            is_dir = False
        if not is_dir:
            print(f"viksa dev: --watch {path}: not a folder of an agent", file=sys.stderr)
            return 2
    if args.watch:
        try:
            import watchfiles  # noqa: F401
        except ImportError:
            print(
                "viksa dev --watch needs watchfiles: pip install 'viksa-devtools[server]'",
                file=sys.stderr,
            )
            return 2
    from viksa_ai.devtools._dev_session import dev_session

    return dev_session(watch=args.watch, profile=args.save_profile)
