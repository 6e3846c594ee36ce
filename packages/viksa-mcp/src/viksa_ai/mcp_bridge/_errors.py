"""The bridge's errors: each message is safe to show a user (it holds no secret)."""

from __future__ import annotations

__all__ = ["INSTALL_COMMAND", "BridgeConfigError", "ToolCallError"]

INSTALL_COMMAND = 'pip install "viksa-ai[mcp]"'


class BridgeConfigError(Exception):
    """The bridge cannot start as configured (flags, variables, the agent folder)."""


class ToolCallError(Exception):
    """A tool call failed; the message is what the MCP client shows (``isError``)."""
