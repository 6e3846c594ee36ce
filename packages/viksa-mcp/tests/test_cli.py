"""``viksa-mcp-bridge``'s command line: one readable line for every setup mistake."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Any

import anyio
import httpx
import pytest
import respx
from mcp import Client
from mcp.client.session import IncomingMessage

from viksa_ai.mcp_bridge import BridgeServer, PlatformRefusedError, cli
from viksa_ai.mcp_bridge.cli import main

_INSTALL = 'pip install "viksa-ai[mcp]"'


@pytest.fixture(autouse=True)
def no_viksa_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("VIKSA_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "choose one target: --agent-id ID, --agent-alias ALIAS, --all-deployed or --path DIR"),
        (["--agent-id", "a", "--all-deployed"], "(several were given)"),
        (["--agent-id", "a", "--secret", "m.p=v"], "--secret and --secrets-file go with --path"),
        (["--path", "x", "--agent-id", "a"], "--path serves a folder"),
        (["--path", "no/such/dir"], "--path no/such/dir: not a directory holding an agent"),
        (["--all-deployed", "--refresh-interval", "-1"], "--refresh-interval must be 0 or more"),
        (["--all-deployed", "--refresh-interval", "nan"], "--refresh-interval must be 0 or more"),
    ],
)
def test_usage_mistakes_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("viksa-mcp-bridge: ")
    assert message in err


def test_the_environment_selects_the_agents_and_the_interval(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIKSA_MCP_REFRESH_INTERVAL", "soon")
    monkeypatch.setenv("VIKSA_MCP_ALL_DEPLOYED", "1")
    assert main([]) == 2
    assert "VIKSA_MCP_REFRESH_INTERVAL must be a number of seconds" in capsys.readouterr().err


def test_missing_credentials_are_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIKSA_AGENT_ID", "agt1")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "VIKSA_API_KEY" in err


@pytest.mark.parametrize("status", [401, 403])
def test_credentials_the_platform_refuses_end_the_bridge_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], status: int
) -> None:
    # They cannot work on a later try: serving no tools until a restart helps nobody.
    key = "vk-refused-secret-key-123"
    for name, value in {
        "VIKSA_API_KEY": key,
        "VIKSA_ORG_ID": "org1",
        "VIKSA_PROJECT_ID": "prj1",
        "VIKSA_BASE_URL": "https://platform.test",
    }.items():
        monkeypatch.setenv(name, value)
    with respx.mock(base_url="https://platform.test") as api:
        api.get("/builder/agent/list").mock(
            return_value=httpx.Response(status, json={"detail": "Invalid API key"})
        )
        assert main(["--all-deployed", "--refresh-interval", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("viksa-mcp-bridge: the Viksa platform refused to list")
    assert key not in err


def test_a_secret_that_does_not_parse_names_the_flag_not_the_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--path", "examples/text_tools_agent", "--secret", "hunter2"]) == 2
    err = capsys.readouterr().err
    assert "secrets: a secret is given as METHOD.PARAM=VALUE" in err
    assert "hunter2" not in err


def _without_mcp(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import sys\nsys.modules['mcp'] = None\n" + code],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_without_the_mcp_sdk_the_import_names_the_install() -> None:
    done = _without_mcp("import viksa_ai.mcp_bridge")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "ImportError: viksa_ai.mcp_bridge needs the official MCP SDK (the mcp package), "
        f"which is not installed: {_INSTALL}"
    )


def test_without_the_mcp_sdk_the_script_says_one_line() -> None:
    done = _without_mcp(
        "sys.argv[0] = '/venv/bin/viksa-mcp-bridge'\nfrom viksa_ai.mcp_bridge.cli import main"
    )
    assert done.returncode == 2
    assert done.stderr == (
        "viksa-mcp-bridge: viksa_ai.mcp_bridge needs the official MCP SDK (the mcp package), "
        f"which is not installed: {_INSTALL}\n"
    )


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], port: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--all-deployed", "--http", "--port", port])
    assert info.value.code == 2
    assert "argument --port: " in capsys.readouterr().err


def _gated(backend: Any, gate: anyio.Event, error: Exception | None = None) -> None:
    """Make ``backend.load`` wait for ``gate``, then load (or raise ``error``)."""
    load = backend.load

    async def gated_load() -> Any:
        await gate.wait()
        if error is not None:
            raise error
        return await load()

    backend.load = gated_load


async def test_a_slow_first_load_does_not_hold_the_start(
    backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client gives up on a server that does not answer `initialize` soon; a platform
    # that accepts connections and answers slowly must not keep the bridge from it.
    monkeypatch.setattr(cli, "_FIRST_LOAD_WAIT", 0.01)
    platform_answers = anyio.Event()
    _gated(backend, platform_answers)
    bridge = BridgeServer(backend, refresh_interval=0)
    announced = anyio.Event()
    counts: list[int] = []

    async def on_message(message: IncomingMessage) -> None:
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            announced.set()

    async def serve() -> None:
        async with Client(bridge.server, mode="legacy", message_handler=on_message) as client:
            counts.append(len((await client.list_tools()).tools))
            platform_answers.set()
            with anyio.fail_after(10):
                await announced.wait()
            counts.append(len((await client.list_tools()).tools))

    monkeypatch.setattr(bridge, "serve_stdio", serve)
    with anyio.fail_after(20):  # a bound never reached when the start does not wait
        await cli._serve(bridge, cli.build_parser().parse_args(["--all-deployed"]))
    assert counts == [0, 3]
    assert backend.closed


async def test_credentials_refused_after_the_start_still_end_the_bridge(
    backend: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_FIRST_LOAD_WAIT", 0.01)
    platform_answers = anyio.Event()
    _gated(backend, platform_answers, PlatformRefusedError("the Viksa platform refused"))
    bridge = BridgeServer(backend, refresh_interval=0)

    async def serve() -> None:
        platform_answers.set()
        await anyio.sleep_forever()

    monkeypatch.setattr(bridge, "serve_stdio", serve)
    with anyio.fail_after(20), pytest.raises(PlatformRefusedError):
        await cli._serve(bridge, cli.build_parser().parse_args(["--all-deployed"]))
    assert backend.closed


def test_a_port_in_use_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Serving runs next to the first load (in a task group): its error must still be the
    # one-line usage message, not an exception group's traceback.
    monkeypatch.setattr(cli, "_FIRST_LOAD_WAIT", 0.01)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code = main(["--path", "examples/text_tools_agent", "--http", "--port", port])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"viksa-mcp-bridge: cannot listen on 127.0.0.1:{port}: " in err
    assert "Traceback" not in err
    assert "ExceptionGroup" not in err


def _script(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


def test_help_and_usage_errors_do_not_load_the_mcp_sdk() -> None:
    # `viksa-mcp-bridge --help` took 3 s on a busy machine: the mcp SDK and pydantic were
    # imported before the arguments were read.
    done = _script(
        "import sys\n"
        "from viksa_ai.mcp_bridge.cli import main\n"
        "assert main(['--agent-id', 'a', '--all-deployed']) == 2\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'mcp', 'pydantic', 'httpx'}))\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"


def test_ctrl_c_while_the_bridge_starts_is_no_traceback() -> None:
    # Ctrl-C in the second the mcp SDK takes to import printed a KeyboardInterrupt
    # traceback; this finder raises it where the import of the SDK's modules starts (not
    # at the package's cheap check that the SDK is installed).
    done = _script(
        "import sys\n"
        "class CtrlC:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.startswith('mcp.'):\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC())\n"
        "sys.argv[0] = 'viksa-mcp-bridge'\n"
        "from viksa_ai.mcp_bridge.cli import main\n"
        "sys.exit(main(['--path', 'examples/text_tools_agent']))\n"
    )
    assert (done.returncode, done.stderr) == (130, "")
