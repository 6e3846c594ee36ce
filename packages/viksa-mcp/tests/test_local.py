"""The agent-folder backend (``--path``): what it tells the person running it."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from viksa_ai.devtools.runner import sandbox_status
from viksa_ai.mcp_bridge import BridgeServer
from viksa_ai.mcp_bridge._local import LocalBackend

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.parametrize("bwrap", ["missing", "found"])
def test_the_folder_backend_says_whether_agent_code_is_sandboxed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, bwrap: str
) -> None:
    if bwrap == "missing":
        monkeypatch.setenv("VIKSA_BWRAP", str(tmp_path / "no-such-bwrap"))
        monkeypatch.setenv("VIKSA_UNSHARE", str(tmp_path / "no-such-unshare"))
    with caplog.at_level(logging.INFO, logger="viksa_ai.mcp_bridge"):
        LocalBackend(tmp_path, {})
    # The same line as `viksa dev`'s banner and `viksa run`, never "on" when it is not.
    assert f"agent code runs with sandbox {sandbox_status()[1]}" in caplog.text
    if bwrap == "missing":
        assert "agents run unsandboxed" in caplog.text


_NAP = """

@mcp_endpoint(description="Sleep a while")
async def nap(payload: dict[str, Any]) -> dict[str, Any]:
    import asyncio

    await asyncio.sleep(30)
    return {"slug": "woke"}
"""


def _napping_folder(tmp_path: Path) -> Path:
    """The text tools example with an endpoint ``nap`` that sleeps 30 s."""
    folder = tmp_path / "tools"
    shutil.copytree(EXAMPLES / "text_tools_agent", folder)
    manifest = json.loads((folder / "agent.json").read_text())
    manifest["agent_endpoints"].append(
        {"name": "nap", "module": "main", "description": "Sleep", "outputs": ["slug"]}
    )
    (folder / "agent.json").write_text(json.dumps(manifest))
    with (folder / "main.py").open("a") as main:
        main.write(_NAP)
    return folder


Interrupt = Callable[[BridgeServer, anyio.CancelScope], Awaitable[None]]


async def _nap_and_queue(tmp_path: Path, interrupt: Interrupt) -> dict[str, Any]:
    """Serve the napping folder, call ``nap``, queue ``slugify`` behind it, then
    ``interrupt(bridge, scope of the nap)``: the answers by tool (a cancelled one: none)."""
    backend = LocalBackend(_napping_folder(tmp_path), {})
    bridge = BridgeServer(backend, refresh_interval=0)
    await bridge.refresh()
    answers: dict[str, Any] = {}

    try:
        async with Client(bridge.server, mode="legacy") as client:
            assert not (await client.call_tool("tools_slugify", {"text": "warm up"})).is_error

            async def call(name: str, arguments: dict[str, Any], scope: anyio.CancelScope) -> None:
                with scope:
                    answers[name] = await client.call_tool(name, arguments)

            async with anyio.create_task_group() as group:
                napping = anyio.CancelScope()
                group.start_soon(call, "tools_nap", {}, napping)
                await anyio.sleep(0.5)  # the nap is running in the child
                group.start_soon(call, "tools_slugify", {"text": "A B"}, anyio.CancelScope())
                await anyio.sleep(0.1)  # the slugify waits for the worker
                await interrupt(bridge, napping)
    finally:
        await backend.close()
    return answers


async def test_a_call_after_a_cancelled_one_runs(tmp_path: Path) -> None:
    # The SDK cancels a call (notifications/cancelled) with anyio, which cancels again at
    # every await: the call queued behind it went to the child being killed.
    async def cancel(bridge: BridgeServer, napping: anyio.CancelScope) -> None:
        napping.cancel()

    answers = await _nap_and_queue(tmp_path, cancel)
    assert list(answers) == ["tools_slugify"]
    after = answers["tools_slugify"]
    assert not after.is_error, after.content[0].text
    assert after.structured_content == {"slug": "a-b"}


async def test_a_call_waiting_while_the_folder_reloads_is_a_tool_error(tmp_path: Path) -> None:
    async def reload(bridge: BridgeServer, napping: anyio.CancelScope) -> None:
        (tmp_path / "tools" / "notes.txt").write_text("an edit")
        await bridge.refresh()  # a new worker; the old one is closed

    answers = await _nap_and_queue(tmp_path, reload)
    assert answers["tools_nap"].is_error
    queued = answers["tools_slugify"]
    assert queued.is_error
    assert "the agent folder was reloaded before the call ran; nothing was run" in (
        queued.content[0].text
    )


async def test_a_bug_during_a_reload_is_not_read_as_nothing_ran(tmp_path: Path) -> None:
    # Only a closed worker means "nothing ran": any other RuntimeError (a bug in the
    # runner or the bridge) must surface as itself, not as a reload the user can retry.
    backend = LocalBackend(_napping_folder(tmp_path), {})
    registry = await backend.load()
    real = backend._worker

    class Reloading:
        """A worker the folder's reload replaces while its call is under way."""

        async def call(self, endpoint: str, arguments: dict[str, Any]) -> Any:
            backend._worker = real
            raise RuntimeError("a bug, not a closed worker")

    backend._worker = Reloading()  # type: ignore[assignment]
    try:
        with pytest.raises(RuntimeError, match="a bug, not a closed worker"):
            await backend.call(registry.tools["tools_slugify"], {"text": "A B"})
    finally:
        await backend.close()
