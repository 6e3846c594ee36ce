"""Tool names: ``{agent_alias}_{endpoint_name}``, safe for every MCP client."""

from __future__ import annotations

import hashlib
import re

__all__ = ["MAX_TOOL_NAME_LENGTH", "make_tool_name", "short_suffix"]

# Cursor refuses tools whose server name + tool name pass 60 characters; a tool name of
# at most 60 keeps every client happy with a short server name.
MAX_TOOL_NAME_LENGTH = 60
_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def make_tool_name(
    agent_alias: str,
    endpoint_name: str,
    *,
    suffix: str | None = None,
    max_length: int = MAX_TOOL_NAME_LENGTH,
) -> str:
    """The MCP tool name of an agent's endpoint.

    Every run of characters outside ``[A-Za-z0-9_]`` becomes one ``_``; the name is cut
    to ``max_length`` characters, keeping ``_{suffix}`` (given to tell apart two tools
    whose names would otherwise collide) whole at its end.
    """
    base = _UNSAFE.sub("_", f"{agent_alias}_{endpoint_name}").strip("_") or "tool"
    tail = "" if not suffix else "_" + _UNSAFE.sub("_", suffix).strip("_")
    if len(tail) >= max_length:
        raise ValueError(f"the suffix {suffix!r} leaves no room in {max_length} characters")
    return base[: max_length - len(tail)].rstrip("_") + tail if tail else base[:max_length]


def short_suffix(*parts: str, length: int = 6) -> str:
    """A short, stable suffix derived from ``parts`` (an agent id and an endpoint name)."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:length]
