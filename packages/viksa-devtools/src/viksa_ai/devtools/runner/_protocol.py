"""The framed channel between the runner and its child process (stdlib only).

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON
holding one object. Length prefixes (rather than newline-delimited JSON) let a
frame carry any text, and a reader always knows how much to wait for.

The child imports this module, so it must stay free of third-party imports.
"""

from __future__ import annotations

import json
import math
import struct
from typing import IO, Any

__all__ = [
    "CGROUP_OPTION",
    "DISK_OPTION",
    "FILES_OPTION",
    "HEADER",
    "KIND_AUTH",
    "KIND_DISK_LIMIT",
    "KIND_ENDPOINT",
    "KIND_IMPORT",
    "KIND_MEMORY_LIMIT",
    "KIND_NOT_FOUND",
    "KIND_OUTPUT_LIMIT",
    "KIND_RESULT_LIMIT",
    "MAX_ERROR_CHARS",
    "MAX_FRAME_BYTES",
    "MAX_READY_BYTES",
    "MEMORY_OPTION",
    "FrameTooLargeError",
    "ProtocolError",
    "check_reply",
    "decode_body",
    "encode_frame",
    "frame_length",
    "read_frame",
]

HEADER = struct.Struct(">I")
# The ``kind`` of an error reply; each names the RunnerError the runner raises for it.
KIND_AUTH = "auth_not_configured"
KIND_ENDPOINT = "endpoint_error"
KIND_IMPORT = "agent_import_error"
KIND_NOT_FOUND = "endpoint_not_found"
KIND_MEMORY_LIMIT = "memory_limit"
KIND_OUTPUT_LIMIT = "output_limit"
KIND_RESULT_LIMIT = "result_limit"
KIND_DISK_LIMIT = "disk_limit"
# The child's leading options: its address space cap (``--memory=BYTES``), the largest
# file it may write (``--disk=BYTES``), how many files it may hold open
# (``--files=COUNT``), and the ``cgroup.procs`` file of the cgroup it
# joins before anything else (``--cgroup=PATH``).
MEMORY_OPTION = "--memory="
DISK_OPTION = "--disk="
FILES_OPTION = "--files="
CGROUP_OPTION = "--cgroup="
# A bound on one frame guards the parent against a corrupted channel asking it to
# buffer gigabytes; endpoint inputs and results are far below this.
MAX_FRAME_BYTES = 256 * 1024 * 1024
# The child cuts an error's message and its traceback to this many characters each.
MAX_ERROR_CHARS = 64 * 1024
# The most a ``ready`` frame holds: an import error's message and traceback, each
# MAX_ERROR_CHARS characters of up to six bytes as JSON, and a few short fields.
MAX_READY_BYTES = 2 * 6 * MAX_ERROR_CHARS + 64 * 1024


# Bound when this module is imported, before the child imports any agent code: agent code
# shares the child's process and may rebind json.dumps or json.loads (to a faster
# library's, returning bytes, say), which must not change how frames are read or written.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_DECODE = json.JSONDecoder().decode


class ProtocolError(Exception):
    """The channel carried something that is not a frame of this protocol."""


class FrameTooLargeError(ProtocolError):
    """A frame header announced more than the reader accepts."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"frame of {length} bytes announced, more than {limit}")
        self.length = length
        self.limit = limit


def encode_frame(message: dict[str, Any]) -> bytes:
    """Serialise ``message`` as one frame (header and body)."""
    body = _ENCODE(message).encode()
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME_BYTES}")
    return HEADER.pack(len(body)) + body


def frame_length(header: bytes, limit: int = MAX_FRAME_BYTES) -> int:
    """The body length announced by a frame ``header``; at most ``limit`` (and the bound)."""
    (length,) = HEADER.unpack(header)
    limit = min(limit, MAX_FRAME_BYTES)
    if length > limit:
        raise FrameTooLargeError(length, limit)
    return int(length)


def decode_body(body: bytes) -> dict[str, Any]:
    """Parse a frame body; it must hold a JSON object."""
    try:
        # UTF-8 by this protocol: a body that is not is a ValueError, as a bad JSON one.
        message = _DECODE(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        # RecursionError: an agent that raised its own recursion limit sent a value nested
        # deeper than ours allows; it must not escape as a traceback.
        raise ProtocolError(f"frame body is not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame body is not a JSON object")
    return message


# The fields of a reply (``ready`` or ``result``) the runner reads, and of its error.
_REPLY_TEXT_FIELDS = ("output",)
_ERROR_TEXT_FIELDS = ("kind", "type", "message", "traceback", "method_id", "param_name")


def check_reply(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` if each field the runner reads from a reply has its type, else
    :class:`ProtocolError`: agent code shares the child's process and can write frames
    of its own on the channel, so a reply is checked like any input."""
    if not isinstance(message.get("ok"), bool):
        raise ProtocolError("a reply's ok is not true or false")
    duration = message.get("duration_ms")
    if duration is not None and (
        isinstance(duration, bool)
        or not isinstance(duration, (int, float))
        or not math.isfinite(duration)
    ):
        raise ProtocolError("a reply's duration_ms is not a finite number")
    for name in _REPLY_TEXT_FIELDS:
        if not isinstance(message.get(name), (str, type(None))):
            raise ProtocolError(f"a reply's {name} is not text")
    error = message.get("error")
    if error is None and not message["ok"]:
        raise ProtocolError("a failed reply has no error")
    if error is not None:
        if not isinstance(error, dict):
            raise ProtocolError("a reply's error is not an object")
        for name in _ERROR_TEXT_FIELDS:
            if not isinstance(error.get(name), (str, type(None))):
                raise ProtocolError(f"a reply's error.{name} is not text")
    return message


def read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    """Read one frame from a blocking binary stream; ``None`` at a clean end of stream."""
    header = _read_exactly(stream, HEADER.size)
    if header is None:
        return None
    body = _read_exactly(stream, frame_length(header))
    if body is None:
        raise ProtocolError("stream ended inside a frame")
    return decode_body(body)


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if remaining == size:
                return None
            raise ProtocolError("stream ended inside a frame")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
