"""Viksa AI agents as MCP tools: the bridge of ``viksa-mcp-bridge``.

Each enabled endpoint of an agent becomes one MCP tool named
``{agent_alias}_{endpoint_name}``, its ``inputSchema`` and ``outputSchema`` made from
the agent's declared inputs and outputs. Calls run on the platform
(``POST /pulse/executor/execute``) or, for an agent folder, in the local runner.

- :func:`load_tool_registry`: the tools of deployed agents, read with a ``ViksaClient``.
- :func:`build_registry` / :func:`agent_doc_to_tools`: tools from agent documents.
- :class:`BridgeRegistry`, :class:`ViksaToolSpec`, :func:`make_tool_name`.
- :class:`BridgeServer`: the MCP server (the official ``mcp`` SDK) over a registry.

Names are imported on first use. Without the ``mcp`` package this package does not
import, and says how to install it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import TYPE_CHECKING, Any

from viksa_ai.mcp_bridge._errors import INSTALL_COMMAND

if TYPE_CHECKING:
    from viksa_ai.mcp_bridge._errors import BridgeConfigError, PlatformRefusedError, ToolCallError
    from viksa_ai.mcp_bridge._names import make_tool_name
    from viksa_ai.mcp_bridge._platform import AgentSelection, PlatformBackend, load_tool_registry
    from viksa_ai.mcp_bridge._registry import (
        BridgeRegistry,
        ViksaToolSpec,
        agent_doc_to_tools,
        build_registry,
    )
    from viksa_ai.mcp_bridge._server import BridgeServer

__version__ = "0.3.0"

_MISSING_MCP = (
    "viksa_ai.mcp_bridge needs the official MCP SDK (the mcp package), which is not "
    f"installed: {INSTALL_COMMAND}"
)

if importlib.util.find_spec("mcp") is None:
    if os.path.basename(sys.argv[0] if sys.argv else "").startswith("viksa-mcp-bridge"):
        # Run as the console script: one line for the user, not an import traceback.
        print(f"viksa-mcp-bridge: {_MISSING_MCP}", file=sys.stderr)
        raise SystemExit(2)
    raise ImportError(_MISSING_MCP, name="mcp")

_EXPORTS = {
    "BridgeConfigError": "_errors",
    "PlatformRefusedError": "_errors",
    "ToolCallError": "_errors",
    "make_tool_name": "_names",
    "AgentSelection": "_platform",
    "PlatformBackend": "_platform",
    "load_tool_registry": "_platform",
    "BridgeRegistry": "_registry",
    "ViksaToolSpec": "_registry",
    "agent_doc_to_tools": "_registry",
    "build_registry": "_registry",
    "BridgeServer": "_server",
}

__all__ = [
    "INSTALL_COMMAND",
    "AgentSelection",
    "BridgeConfigError",
    "BridgeRegistry",
    "BridgeServer",
    "PlatformBackend",
    "PlatformRefusedError",
    "ToolCallError",
    "ViksaToolSpec",
    "__version__",
    "agent_doc_to_tools",
    "build_registry",
    "load_tool_registry",
    "make_tool_name",
]

# Hidden from type checkers: they see the imports above, so a misspelt name is an error.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        """Import a public name from its module on first use (PEP 562)."""
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}", name=name)
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
