"""A Server-Sent Events decoder following the WHATWG event-stream rules.

Lines end with CR, LF or CRLF (a CRLF split across two network chunks counts once), a
leading UTF-8 BOM is dropped, lines starting with ``:`` are comments, ``data`` lines of
one event are joined with ``\\n``, and an event is dispatched on a blank line only when it
holds data. ``id`` persists from event to event; ``retry`` is reported on the event whose
block set it. An unfinished event at the end of the stream is discarded.

The bytes are buffered and cut into whole events (blank-line separated blocks) before
any decoding, and each chunk's complete events are decoded from UTF-8 in one call: a
block that is a single ``data: `` line, by far the most common, costs two string
operations. Other blocks go through the line-by-line rules.
"""

from __future__ import annotations

from typing import NamedTuple

from viksa_ai.client._limits import event_too_large

__all__ = ["DONE", "SSEDecoder", "ServerSentEvent"]

DONE = "[DONE]"
"""The data of the event that ends a Viksa stream."""

_BOM = b"\xef\xbb\xbf"


class ServerSentEvent(NamedTuple):
    """One dispatched event: its type (``"message"`` by default), data, last id and retry."""

    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it the bytes of a stream as they arrive; it returns the events completed."""

    __slots__ = ("_buffer", "_head", "_last_id", "_limit", "_skip_lf")

    def __init__(self, max_event_bytes: int | None = None) -> None:
        # Past this many bytes without an event's end the stream is refused: a server
        # that never ends a line must not fill memory.
        self._limit = max_event_bytes
        self._buffer = bytearray()  # an unfinished block, line ends already made LF
        self._head: bytes | None = b""  # bytes held until the BOM question is settled
        self._skip_lf = False
        self._last_id: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one chunk and return the events it completes (often many, or none)."""
        text = self._complete_blocks(chunk)
        if text is None:
            return []
        events: list[ServerSentEvent] = []
        last_id = self._last_id
        for block in text.split("\n\n"):
            if block[:6] == "data: " and "\n" not in block:
                events.append(ServerSentEvent("message", block[6:], last_id))
            else:
                event = self._parse_block(block)
                last_id = self._last_id
                if event is not None:
                    events.append(event)
        return events

    def feed_data(self, chunk: bytes) -> list[str | ServerSentEvent]:
        """Like ``feed``, for readers that want only the data (the JSON streams).

        Each completed event is its data string when its type is ``message``, else the
        whole ``ServerSentEvent`` (so errors can name the type). ``id`` and ``retry``
        are still tracked.
        """
        text = self._complete_blocks(chunk)
        if text is None:
            return []
        blocks = text.split("\n\n")
        if text.count("\n") == 2 * (len(blocks) - 1):  # every block is a single line
            data = [block[6:] for block in blocks if block[:6] == "data: "]
            if len(data) == len(blocks):
                return data  # type: ignore[return-value]  # list is invariant
        items: list[str | ServerSentEvent] = []
        for block in blocks:
            if block[:6] == "data: " and "\n" not in block:
                items.append(block[6:])
                continue
            event = self._parse_block(block)
            if event is not None:
                is_plain = event.event == "message" or event.data == DONE
                items.append(event.data if is_plain else event)
        return items

    def _complete_blocks(self, chunk: bytes) -> str | None:
        """Take a chunk in; return the text of the blocks it completes, if any."""
        if self._head is not None:
            head = self._head + chunk
            if len(head) < len(_BOM) and _BOM.startswith(head):
                self._head = head
                return None
            self._head = None
            chunk = head[len(_BOM) :] if head.startswith(_BOM) else head
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\r" in chunk:
            # A CR that ends the chunk ends a line; an LF opening the next chunk is its pair.
            self._skip_lf = chunk[-1:] == b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer
        # The blank line may straddle the old buffer and the chunk: look from its last byte.
        start = len(buffer) - 1 if buffer else 0
        buffer += chunk
        end = buffer.rfind(b"\n\n", start)
        limit = self._limit
        if end < 0:
            if limit is not None and len(buffer) > limit:
                raise event_too_large(limit)
            return None
        if limit is not None and (len(buffer) - end - 2 > limit or end > limit):
            self._check_blocks(buffer, end, limit)
        # Blocks end on a line end, so no UTF-8 sequence is cut here.
        text = buffer[:end].decode("utf-8", "replace")
        del buffer[: end + 2]
        return text

    @staticmethod
    def _check_blocks(buffer: bytearray, end: int, limit: int) -> None:
        """Raise when one complete block, or the unfinished rest, is over ``limit``."""
        if len(buffer) - end - 2 > limit:
            raise event_too_large(limit)
        if any(len(block) > limit for block in bytes(buffer[:end]).split(b"\n\n")):
            raise event_too_large(limit)

    def _parse_block(self, block: str) -> ServerSentEvent | None:
        """Apply the line rules to one block; the event it dispatches, if any."""
        data: list[str] = []
        event_type = ""
        retry: int | None = None
        for line in block.split("\n"):
            if not line:
                # A blank line inside a block: a stray extra line end dispatches nothing
                # unless data came before it (it cannot, blocks split on blank lines).
                continue
            name, colon, value = line.partition(":")
            if not name and colon:
                continue  # a comment
            if value[:1] == " ":
                value = value[1:]
            if name == "data":
                data.append(value)
            elif name == "event":
                event_type = value
            elif name == "id":
                if "\0" not in value:
                    self._last_id = value
            elif name == "retry" and value.isascii() and value.isdigit():
                retry = _reconnection_time(value, retry)
        if not data:
            return None
        return ServerSentEvent(event_type or "message", "\n".join(data), self._last_id, retry)


def _reconnection_time(digits: str, current: int | None) -> int | None:
    """The ``retry`` field's milliseconds; ``current`` when too long to mean a time.

    ``int()`` refuses more than 4300 digits with a ``ValueError``: a server sending that
    many must not break the stream. Past 18 significant digits (over 30 million years) the
    field is ignored, as an invalid one is.
    """
    significant = digits.lstrip("0")
    if len(significant) > 18:
        return current
    return int(significant or "0")
