"""Caps on what a client buffers of one answer or one stream event.

Counted after decompression, so a small compressed body that inflates to gigabytes
(a decompression bomb) stops at the cap like a large plain one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from viksa_ai.client._errors import ViksaResponseTooLargeError

if TYPE_CHECKING:
    import httpx

__all__ = ["BodyBuffer", "answer_too_large", "event_too_large"]


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB" if size >= 1024 * 1024 else f"{size} bytes"


def answer_too_large(where: str, limit: int) -> ViksaResponseTooLargeError:
    """The error for an answer larger than ``ClientConfig.max_answer_bytes``."""
    return ViksaResponseTooLargeError(
        f"{where}: the answer is larger than the client buffers ({_mib(limit)}); raise "
        "ClientConfig(max_answer_bytes=...) if the platform is expected to send that much",
        limit=limit,
        setting="max_answer_bytes",
    )


def event_too_large(limit: int) -> ViksaResponseTooLargeError:
    """The error for a stream event larger than ``ClientConfig.max_event_bytes``."""
    return ViksaResponseTooLargeError(
        f"a stream event is larger than the client buffers ({_mib(limit)}); raise "
        "ClientConfig(max_event_bytes=...) if the platform is expected to send that much",
        limit=limit,
        setting="max_event_bytes",
    )


class BodyBuffer:
    """The chunks of one answer, up to ``limit`` bytes.

    Past the limit, a success's body raises ``ViksaResponseTooLargeError``; an error
    answer's body (``cut``) is kept up to the limit and the rest left unread, since the
    status says what went wrong.
    """

    __slots__ = ("_chunks", "_cut", "_limit", "_size", "_where")

    def __init__(self, where: str, limit: int, *, cut: bool) -> None:
        self._where = where
        self._limit = limit
        self._cut = cut
        self._chunks: list[bytes] = []
        self._size = 0

    def expect(self, response: httpx.Response) -> None:
        """Refuse at once a body whose declared length is over the limit."""
        declared = response.headers.get("content-length", "")
        if not self._cut and declared.isdigit() and int(declared) > self._limit:
            raise answer_too_large(self._where, self._limit)

    def add(self, chunk: bytes) -> bool:
        """Keep a chunk; False once an error answer's body is full (stop reading)."""
        self._size += len(chunk)
        if self._size <= self._limit:
            self._chunks.append(chunk)
            return True
        if not self._cut:
            raise answer_too_large(self._where, self._limit)
        self._chunks.append(chunk[: len(chunk) - (self._size - self._limit)])
        return False

    def content(self) -> bytes:
        """The body read."""
        chunks = self._chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
