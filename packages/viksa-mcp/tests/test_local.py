"""The agent-folder backend (``--path``): what it tells the person running it."""

from __future__ import annotations

import json
import logging
import shutil
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


async def test_a_call_after_a_cancelled_one_runs(tmp_path: Path) -> None:
    # The SDK cancels a call (notifications/cancelled) with anyio, which cancels again at
    # every await: the call queued behind it went to the child being killed.
    backend = LocalBackend(_napping_folder(tmp_path), {})
    bridge = BridgeServer(backend, refresh_interval=0)
    await bridge.refresh()
    results: list[Any] = []
    try:
        async with Client(bridge.server, mode="legacy") as client:
            assert not (await client.call_tool("tools_slugify", {"text": "warm up"})).is_error
            async with anyio.create_task_group() as group:
                napping = anyio.CancelScope()

                async def nap() -> None:
                    with napping:
                        await client.call_tool("tools_nap", {})

                async def queued() -> None:
                    results.append(await client.call_tool("tools_slugify", {"text": "A B"}))

                group.start_soon(nap)
                await anyio.sleep(0.5)  # the nap is running in the child
                group.start_soon(queued)
                await anyio.sleep(0.1)  # the slugify waits for the worker
                napping.cancel()
    finally:
        await backend.close()
    [after] = results
    assert not after.is_error, after.content[0].text
    assert after.structured_content == {"slug": "a-b"}


async def test_a_call_waiting_while_the_folder_reloads_is_a_tool_error(tmp_path: Path) -> None:
    backend = LocalBackend(_napping_folder(tmp_path), {})
    bridge = BridgeServer(backend, refresh_interval=0)
    await bridge.refresh()
    results: list[Any] = []
    try:
        async with Client(bridge.server, mode="legacy") as client:
            assert not (await client.call_tool("tools_slugify", {"text": "warm up"})).is_error

            async def call(name: str, arguments: dict[str, Any]) -> None:
                results.append(await client.call_tool(name, arguments))

            async with anyio.create_task_group() as group:
                group.start_soon(call, "tools_nap", {})
                await anyio.sleep(0.5)  # the nap is running in the child
                group.start_soon(call, "tools_slugify", {"text": "A B"})
                await anyio.sleep(0.1)  # the slugify waits for the worker
                (tmp_path / "tools" / "notes.txt").write_text("an edit")
                await bridge.refresh()  # a new worker; the old one is closed
    finally:
        await backend.close()
    texts = sorted(result.content[0].text for result in results)
    assert all(result.is_error for result in results), texts
    assert "the agent folder was reloaded before the call ran; nothing was run" in texts[1]
    assert "failed inside the bridge" not in "".join(texts)
