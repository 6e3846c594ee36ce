"""Stdio: a line that is not JSON gets a JSON-RPC parse error, and the bridge serves on."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from anyio.abc import Process
from mcp.shared.message import SessionMessage

from viksa_ai.mcp_bridge._stdio import ParseErrorAnswering

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "text_tools_agent"
PARSE_ERROR = {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "Parse error"}}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


class _Lines:
    """The bridge's stdout, read line by line."""

    def __init__(self, process: Process) -> None:
        assert process.stdout is not None
        self._stdout = process.stdout
        self._buffer = b""

    async def next(self) -> Any:
        while b"\n" not in self._buffer:
            self._buffer += await self._stdout.receive()
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


async def test_a_line_that_is_not_json_is_answered_and_the_bridge_serves_on() -> None:
    # The SDK dropped such a line: the client waited for its timeout.
    command = [sys.executable, "-m", "viksa_ai.mcp_bridge.cli", "--path", str(EXAMPLE)]
    command += ["--refresh-interval", "0", "--log-level", "ERROR"]
    async with await anyio.open_process(command) as process:
        assert process.stdin is not None
        lines = _Lines(process)

        async def send(text: str) -> None:
            assert process.stdin is not None
            await process.stdin.send(text.encode() + b"\n")

        with anyio.fail_after(60):
            await send("this is not JSON")
            assert await lines.next() == PARSE_ERROR
            await send("")  # a blank line: skipped, no answer
            await send(json.dumps(INITIALIZE))
            answer = await lines.next()
            assert answer["id"] == 1
            assert "result" in answer
            await send('{"jsonrpc": "2.0", "method": "notifications/initialized"}')
            await send('{"jsonrpc": "2.0", "id": 2, "method": "ping"')  # cut short
            assert await lines.next() == PARSE_ERROR
            await send('{"jsonrpc": "2.0", "id": 3, "method": "ping"}')
            assert await lines.next() == {"jsonrpc": "2.0", "id": 3, "result": {}}
            await process.stdin.aclose()
            assert await process.wait() == 0


async def test_ctrl_c_ends_a_serving_bridge_with_130_and_no_traceback() -> None:
    # It exited 0, where `viksa` (and the shell's convention, 128 + SIGINT) says 130.
    command = [sys.executable, "-m", "viksa_ai.mcp_bridge.cli", "--path", str(EXAMPLE)]
    command += ["--refresh-interval", "0"]
    async with await anyio.open_process(command) as process:
        assert process.stdin is not None
        assert process.stderr is not None
        lines = _Lines(process)
        with anyio.fail_after(60):
            await process.stdin.send(json.dumps(INITIALIZE).encode() + b"\n")
            assert (await lines.next())["id"] == 1  # serving
            process.send_signal(signal.SIGINT)
            # The SDK reads stdin in a thread no cancel reaches: the bridge ends once
            # stdin closes too (a client that goes away closes it; at a terminal, Ctrl-D).
            await process.stdin.aclose()
            code = await process.wait()
            err = b""
            async for chunk in process.stderr:
                err += chunk
    assert code == 130
    assert b"Traceback" not in err


def _error_of(line: str) -> Exception:
    try:
        types.jsonrpc_message_adapter.validate_json(line, by_name=False)
    except Exception as exc:  # the SDK's transport sends this very error into the stream
        return exc
    raise AssertionError(f"{line!r} parsed")


@pytest.mark.parametrize(
    ("line", "answered"),
    [
        ("not json\n", True),
        ('{"jsonrpc": "2.0", "id": 1\n', True),
        ("\ufffd\n", True),  # undecodable bytes, as the transport replaces them
        ("\n", False),
        (" \t\n", False),
    ],
)
async def test_only_a_line_that_is_not_json_is_answered(line: str, answered: bool) -> None:
    send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](10)
    answers_in, answers = anyio.create_memory_object_stream[SessionMessage](10)
    ping = SessionMessage(types.JSONRPCRequest(jsonrpc="2.0", id=7, method="ping"))
    not_a_message = _error_of('{"a": 1}\n')
    for item in (_error_of(line), not_a_message, ping):
        await send.send(item)
    await send.aclose()
    async with ParseErrorAnswering(receive, answers_in) as reading:
        # JSON that is no message still reaches the server (it may be a reply to it).
        assert [item async for item in reading] == [not_a_message, ping]
    answers_in.close()
    async with answers:
        # Dumped as the transport writes it to stdout.
        sent = [
            json.loads(message.message.model_dump_json(by_alias=True, exclude_unset=True))
            async for message in answers
        ]
    assert sent == ([PARSE_ERROR] if answered else [])
