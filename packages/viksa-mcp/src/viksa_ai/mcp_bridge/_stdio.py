"""The stdio transport's read side, answering a line that is not JSON (JSON-RPC -32700).

The SDK's stdio transport puts the error of a line it cannot parse into the read stream,
where the server drops it (logged at debug level): the client got no answer and waited
for its timeout. JSON-RPC 2.0 answers such a line with a parse error whose ``id`` is
null; this wrapper does, and the server goes on reading.
"""

from __future__ import annotations

import contextvars
import logging
from types import TracebackType
from typing import Protocol

import anyio
import mcp.types as types
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

__all__ = ["ParseErrorAnswering"]

_log = logging.getLogger("viksa_ai.mcp_bridge")


class _Receiving(Protocol):
    async def receive(self) -> SessionMessage | Exception: ...

    async def aclose(self) -> None: ...


class _Sending(Protocol):
    async def send(self, item: SessionMessage, /) -> None: ...


def _unparsed_line(item: SessionMessage | Exception) -> str | None:
    """The line of an item that is the error of a line not JSON at all, else None.

    Not for JSON that is no message: that error reaches the server as before.
    """
    if isinstance(item, ValidationError):
        for error in item.errors():
            if error["type"] == "json_invalid":
                return str(error.get("input", ""))
    return None


def _parse_error() -> SessionMessage:
    error = types.ErrorData(code=types.PARSE_ERROR, message="Parse error")
    return SessionMessage(types.JSONRPCError(jsonrpc="2.0", id=None, error=error))


class ParseErrorAnswering:
    """The SDK's stdio read stream, answering each line that is not JSON on ``answers``.

    Valid JSON that is no JSON-RPC message still reaches the server as the SDK sent it
    (it may be a reply to the server, which JSON-RPC never answers). A blank line is
    skipped without an answer. The line itself is never logged: it may hold a secret.
    """

    def __init__(self, messages: _Receiving, answers: _Sending) -> None:
        self._messages = messages
        self._answers = answers

    @property
    def last_context(self) -> contextvars.Context | None:
        """The sender's context of the last item, as the SDK's own stream keeps it."""
        context: contextvars.Context | None = getattr(self._messages, "last_context", None)
        return context

    async def receive(self) -> SessionMessage | Exception:
        """The next message, or error of a line that is JSON but no message."""
        while True:
            item = await self._messages.receive()
            line = _unparsed_line(item)
            if line is None:
                return item
            if line.strip():
                _log.warning("a line on stdin is not JSON: answered a JSON-RPC parse error")
                await self._answers.send(_parse_error())

    def __aiter__(self) -> ParseErrorAnswering:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Close the SDK's stream."""
        await self._messages.aclose()

    async def __aenter__(self) -> ParseErrorAnswering:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()
