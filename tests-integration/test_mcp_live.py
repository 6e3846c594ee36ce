"""``viksa-mcp-bridge`` against a real ``viksa dev``, driven by the MCP SDK's own client.

The bridge runs as its console script: over stdio (spawned by the client) and over
Streamable HTTP, serving the deployed examples; and with ``--path`` for an agent
folder. Refresh intervals are short so changes show within a second.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from _live_server import REPO, Server, free_port, start_server, stop_process
from mcp import Client, StdioServerParameters
from mcp.client.session import IncomingMessage

from viksa_ai import ViksaClient

EXAMPLES = REPO / "examples"
BRIDGE = str(Path(sys.executable).with_name("viksa-mcp-bridge"))
VIKSA = str(Path(sys.executable).with_name("viksa"))
_WAIT = 60.0  # seconds: a bound on any wait, never reached when things work


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """One ``viksa dev`` for the module, with the examples deployed, in memory."""
    started = start_server("--memory", "--with-examples", str(EXAMPLES))
    yield started
    started.stop()


def _env(server: Server) -> dict[str, str]:
    return {**os.environ, **server.env, "VIKSA_MCP_REFRESH_INTERVAL": "0.3"}


class Announcements:
    """The notifications a client received; ``wait`` for one of them."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._event = anyio.Event()

    async def __call__(self, message: IncomingMessage) -> None:
        method = getattr(message, "method", None)
        if method is not None:
            self.seen.append(method)
            self._event.set()

    async def wait(self, method: str) -> None:
        with anyio.fail_after(_WAIT):
            while method not in self.seen:
                self._event = anyio.Event()
                await self._event.wait()


def _text(result: Any) -> str:
    return str(result.content[0].text)


def _platform_client(server: Server) -> ViksaClient:
    return ViksaClient(
        api_key=server.env["VIKSA_API_KEY"],
        org_id=server.env["VIKSA_ORG_ID"],
        project_id=server.env["VIKSA_PROJECT_ID"],
        base_url=server.base_url,
    )


async def _deploy_text_tools(server: Server, alias: str) -> str:
    manifest = json.loads((EXAMPLES / "text_tools_agent" / "agent.json").read_text())
    main = (EXAMPLES / "text_tools_agent" / "main.py").read_text()
    manifest["files"] = [{"name": "main.py", "content": main, "mime_type": "python"}]
    async with _platform_client(server) as client:
        agent = await client.builder.agents.create({**manifest, "agent_alias": alias})
        await client.builder.deploy.build(agent["id"])
        await client.builder.deploy.deploy(agent["id"])
        return str(agent["id"])


async def _check_deployed_examples(client: Client, server: Server, alias: str) -> None:
    """Tools, schemas, a call, and the three kinds of failure, on a connected client."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {
        "text_tools_agent_word_stats",
        "text_tools_agent_slugify",
        "text_tools_agent_sign_message",
        "aviation_agent_get_flights_between",
    } <= set(tools)
    word_stats = tools["text_tools_agent_word_stats"]
    assert word_stats.input_schema["required"] == ["text"]
    assert word_stats.input_schema["properties"]["top"]["maximum"] == 50
    assert word_stats.output_schema is not None
    assert word_stats.output_schema["properties"]["run_id"]["type"] == ["string", "null"]
    flights = tools["aviation_agent_get_flights_between"].input_schema["properties"]
    assert flights["source"]["pattern"] == "^[A-Z]{3}$"

    result = await client.call_tool("text_tools_agent_word_stats", {"text": "to be or not to be"})
    assert not result.is_error, _text(result)
    assert result.structured_content is not None
    assert (result.structured_content["words"], result.structured_content["unique"]) == (6, 4)

    invalid = await client.call_tool("text_tools_agent_word_stats", {"text": "x", "top": 99})
    assert invalid.is_error
    assert "top: 99 is greater than the maximum of 50" in _text(invalid)

    # No signing key is bound to the example: the endpoint fails on the platform.
    failing = await client.call_tool("text_tools_agent_sign_message", {"message": "m"})
    assert failing.is_error
    assert "signing_key" in _text(failing)
    assert server.env["VIKSA_API_KEY"] not in _text(failing)

    # An agent deployed now shows up at the next refresh (the caller waits for it).
    await _deploy_text_tools(server, alias)


# -- stdio -------------------------------------------------------------------------------


async def test_stdio_bridge_serves_the_deployed_agents(server: Server) -> None:
    announcements = Announcements()
    params = StdioServerParameters(command=BRIDGE, args=["--all-deployed"], env=_env(server))
    async with Client(params, mode="legacy", message_handler=announcements) as client:
        assert client.server_capabilities.tools is not None
        assert client.server_capabilities.tools.list_changed
        await _check_deployed_examples(client, server, "late_stdio")
        await announcements.wait("notifications/tools/list_changed")
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "late_stdio_word_stats" in names
        late = await client.call_tool("late_stdio_slugify", {"text": "Hello World"})
        assert late.structured_content == {"slug": "hello-world"}


async def test_stdio_bridge_survives_a_platform_outage() -> None:
    own = start_server("--memory", "--with-examples", str(EXAMPLES))
    try:
        params = StdioServerParameters(
            command=BRIDGE, args=["--agent-alias", "text_tools_agent"], env=_env(own)
        )
        async with Client(params, mode="legacy") as client:
            assert len((await client.list_tools()).tools) == 3
            own.stop()
            down = await client.call_tool("text_tools_agent_slugify", {"text": "a b"})
            assert down.is_error
            assert "text_tools_agent_slugify: the Viksa platform is unreachable" in _text(down)
            # Still serving: the tools it knew, and a second call answered the same way.
            assert len((await client.list_tools()).tools) == 3
            again = await client.call_tool("text_tools_agent_slugify", {"text": "a b"})
            assert again.is_error
    finally:
        own.stop()


async def test_viksa_mcp_serve_reads_the_profile_viksa_dev_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After the README's `viksa dev --save-profile`, `viksa-mcp-bridge --agent-alias`
    # said "no Viksa credentials": it reads only VIKSA_* variables. `viksa mcp serve`
    # reads the profile, as `viksa call` does.
    monkeypatch.setenv("VIKSA_CONFIG_DIR", str(tmp_path))
    own = start_server("--memory", "--with-examples", str(EXAMPLES), "--save-profile")
    try:
        saved = tmp_path / "credentials.json"
        deadline = time.monotonic() + _WAIT
        while "local" not in (saved.read_text() if saved.exists() else ""):
            assert time.monotonic() < deadline, "viksa dev saved no profile"
            await anyio.sleep(0.05)
        env = {name: value for name, value in os.environ.items() if "VIKSA_" not in name}
        env["VIKSA_CONFIG_DIR"] = str(tmp_path)
        args = ["mcp", "serve", "--agent-alias", "text_tools_agent", "--refresh-interval", "0"]
        params = StdioServerParameters(command=VIKSA, args=args, env=env)
        async with Client(params, mode="legacy") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert names == {
                "text_tools_agent_sign_message",
                "text_tools_agent_slugify",
                "text_tools_agent_word_stats",
            }
            result = await client.call_tool("text_tools_agent_slugify", {"text": "Hello World"})
            assert result.structured_content == {"slug": "hello-world"}
    finally:
        own.stop()


# -- Streamable HTTP ---------------------------------------------------------------------


@contextmanager
def _http_bridge(args: list[str], env: dict[str, str]) -> Iterator[str]:
    """Run a bridge with ``--http`` on a free port; its URL once it listens."""
    port = free_port()
    process = subprocess.Popen(
        [*args, "--http", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + _WAIT
        while True:
            assert process.poll() is None, "the bridge exited"
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the bridge did not listen"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
        assert process.poll() is None, "the bridge stopped while serving"
    finally:
        stop_process(process)


async def test_http_bridge_serves_the_deployed_agents(server: Server) -> None:
    announcements = Announcements()
    with _http_bridge([BRIDGE, "--all-deployed"], _env(server)) as url:
        async with Client(url, mode="legacy", message_handler=announcements) as client:
            await _check_deployed_examples(client, server, "late_http")
            await announcements.wait("notifications/tools/list_changed")
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert "late_http_word_stats" in names


async def test_http_bridge_with_the_2026_protocol_announces_on_listen(server: Server) -> None:
    with _http_bridge([BRIDGE, "--all-deployed"], _env(server)) as url:
        async with Client(url) as client:
            async with client.listen(tools_list_changed=True) as subscription:
                await _deploy_text_tools(server, "late_listen")
                with anyio.fail_after(_WAIT):
                    event = await subscription.__anext__()
                assert type(event).__name__ == "ToolsListChanged"
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert "late_listen_word_stats" in names


# -- an agent folder (--path) ------------------------------------------------------------

_EXTRA_ENDPOINT = {
    "name": "shout",
    "module": "main",
    "description": "Upper-case a text, or fail on 'boom'",
    "inputs": [{"input_ref": "text", "required": True}],
    "outputs": ["slug"],
    "execution_config": {"timeout_seconds": 1},
}
_EXTRA_CODE = (
    "\n\n@mcp_endpoint(description=\"Upper-case a text, or fail on 'boom'\")\n"
    "async def shout(payload: dict[str, Any]) -> dict[str, Any]:\n"
    '    if payload["text"] == "boom":\n'
    '        raise RuntimeError("it went boom")\n'
    '    if payload["text"] == "slow":\n'
    "        import asyncio\n"
    "        await asyncio.sleep(30)\n"
    '    return {"slug": payload["text"].upper()}\n'
)


@pytest.fixture
def agent_folder(tmp_path: Path) -> Path:
    """A copy of the text tools example, free to edit."""
    folder = tmp_path / "my_tools"
    shutil.copytree(EXAMPLES / "text_tools_agent", folder)
    return folder


def _add_endpoint(folder: Path) -> None:
    manifest = json.loads((folder / "agent.json").read_text())
    manifest["agent_endpoints"].append(_EXTRA_ENDPOINT)
    with (folder / "main.py").open("a") as main:
        main.write(_EXTRA_CODE)
    (folder / "agent.json").write_text(json.dumps(manifest))


async def _check_folder(client: Client, announcements: Announcements, folder: Path) -> None:
    names = {tool.name for tool in (await client.list_tools()).tools}
    assert names == {"my_tools_word_stats", "my_tools_slugify", "my_tools_sign_message"}
    signed = await client.call_tool("my_tools_sign_message", {"message": "hi"})
    assert not signed.is_error, _text(signed)
    assert signed.structured_content is not None
    assert len(signed.structured_content["signature"]) == 64
    assert "local-secret" not in _text(signed)
    invalid = await client.call_tool("my_tools_slugify", {"text": "a", "separator": "+"})
    assert invalid.is_error
    # Patterns are searched by the runner (bounded cost), not by the bridge.
    assert "input 'separator' must match the pattern" in _text(invalid)

    _add_endpoint(folder)
    await announcements.wait("notifications/tools/list_changed")
    shout = await client.call_tool("my_tools_shout", {"text": "hey"})
    assert shout.structured_content == {"slug": "HEY"}
    boom = await client.call_tool("my_tools_shout", {"text": "boom"})
    assert boom.is_error
    assert "it went boom" in _text(boom)
    slow = await client.call_tool("my_tools_shout", {"text": "slow"})
    assert slow.is_error
    assert "my_tools_shout: timed out" in _text(slow)
    # The worker is up again after the failure and the timeout.
    assert not (await client.call_tool("my_tools_word_stats", {"text": "x"})).is_error


async def test_path_bridge_serves_a_folder_and_reloads_it(agent_folder: Path) -> None:
    announcements = Announcements()
    params = StdioServerParameters(
        command=BRIDGE,
        args=["--path", str(agent_folder), "--secret", "signing_key.secret=local-secret"],
        env=dict(os.environ),
    )
    async with Client(params, mode="legacy", message_handler=announcements) as client:
        await _check_folder(client, announcements, agent_folder)


async def test_viksa_mcp_serve_over_http(agent_folder: Path, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.write_text("signing_key.secret=local-secret\n")
    announcements = Announcements()
    args = [VIKSA, "mcp", "serve", str(agent_folder), "--secrets-file", str(secrets)]
    with _http_bridge(args, dict(os.environ)) as url:
        async with Client(url, mode="legacy", message_handler=announcements) as client:
            await _check_folder(client, announcements, agent_folder)


# -- a hostile agent -----------------------------------------------------------------------

_HOSTILE_CODE = """from typing import Any

from viksa_ai.runtime import mcp_endpoint


@mcp_endpoint(description="Echo the name")
async def echo_name(payload: dict[str, Any]) -> dict[str, Any]:
    return {"got": payload["user name"]}
"""


async def test_stdio_bridge_serves_a_hostile_agent(server: Server) -> None:
    # An input named with a space (a property key Anthropic's API refuses) and a pattern
    # that backtracks for minutes on 50 characters: the bridge renames the key, leaves
    # the pattern to the platform's bounded search and stays responsive.
    manifest = {
        "agent_name": "Hostile",
        "agent_description": "An agent whose inputs attack the MCP bridge.",
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": _HOSTILE_CODE, "mime_type": "python"}],
        "inputs": [{"name": "user name", "type": "string", "pattern": "^(a|aa)+$"}],
        "outputs": [{"name": "got", "type": "string"}],
        "agent_endpoints": [
            {
                "name": "echo_name",
                "module": "main",
                "description": "Echo the name",
                "inputs": [{"input_ref": "user name"}],
                "outputs": ["got"],
            }
        ],
    }
    async with _platform_client(server) as platform:
        agent = await platform.builder.agents.create({**manifest, "agent_alias": "hostile"})
        await platform.builder.deploy.build(agent["id"])
        await platform.builder.deploy.deploy(agent["id"])
    params = StdioServerParameters(
        command=BRIDGE, args=["--agent-alias", "hostile"], env=_env(server)
    )
    async with Client(params, mode="legacy") as client:
        [tool] = (await client.list_tools()).tools
        [key] = tool.input_schema["required"]
        assert key.startswith("user_name_")
        assert "'user name'" in tool.input_schema["properties"][key]["description"]
        echoed = await client.call_tool(tool.name, {key: "aaaa"})
        assert echoed.structured_content == {"got": "aaaa"}, _text(echoed)
        with anyio.fail_after(_WAIT):  # a bound: the bridge's own search took minutes
            refused = await client.call_tool(tool.name, {key: "a" * 60 + "!"})
        assert refused.is_error
        assert "input 'user name' cannot be checked" in _text(refused)
        assert len((await client.list_tools()).tools) == 1
