"""Reach the raw ``httpx.Response`` of calls: ``with client.record_responses() as rec``.

The recorder lives in a context variable, so concurrent tasks or threads that did not
enter it are not recorded into it; tasks started inside the block are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["ResponseRecorder", "record", "recording"]


class ResponseRecorder:
    """The final responses of the calls made inside a ``record_responses()`` block.

    One response per call: the answer that was returned or raised, after any retries.
    Stream responses are recorded when the stream opens.
    """

    __slots__ = ("responses",)

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    @property
    def last(self) -> httpx.Response:
        """The most recent response; ``LookupError`` when no call finished yet."""
        if not self.responses:
            raise LookupError("no call has completed inside this record_responses() block")
        return self.responses[-1]

    @property
    def request_id(self) -> str | None:
        """The request id of the most recent response, when the platform sent one."""
        from viksa_ai.client._error_mapping import request_id

        return request_id(self.last.headers)

    def __repr__(self) -> str:
        return f"ResponseRecorder({len(self.responses)} responses)"


_current: ContextVar[tuple[ResponseRecorder, ...]] = ContextVar("viksa_recorders", default=())


@contextmanager
def recording() -> Iterator[ResponseRecorder]:
    """Record every call's final response made in this context (nesting allowed)."""
    recorder = ResponseRecorder()
    token = _current.set((*_current.get(), recorder))
    try:
        yield recorder
    finally:
        _current.reset(token)


def record(response: httpx.Response) -> None:
    """Hand a final response to the active recorders (a no-op outside any block)."""
    recorders = _current.get()
    for recorder in recorders:
        recorder.responses.append(response)
