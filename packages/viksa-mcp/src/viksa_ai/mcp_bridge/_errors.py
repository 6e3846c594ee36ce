"""The bridge's errors: each message is safe to show a user (it holds no secret)."""

from __future__ import annotations

__all__ = ["INSTALL_COMMAND", "BridgeConfigError", "PlatformRefusedError", "ToolCallError"]

INSTALL_COMMAND = 'pip install "viksa-ai[mcp]"'


class BridgeConfigError(Exception):
    """The bridge cannot start as configured (flags, variables, the agent folder)."""


class PlatformRefusedError(BridgeConfigError):
    """The platform refused to list the agents (401 or 403): the credentials, or their
    access to the agents asked for, are wrong, and no later try with them can succeed."""


class ToolCallError(Exception):
    """A tool call failed; the message is what the MCP client shows (``isError``)."""
