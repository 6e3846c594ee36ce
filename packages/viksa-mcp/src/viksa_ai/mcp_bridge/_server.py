"""The MCP server: the official SDK's low-level ``Server`` over a changing tool registry.

Tools change at run time (an agent is deployed, a folder is edited), so the bridge
answers ``tools/list`` and ``tools/call`` from its current :class:`BridgeRegistry`
rather than registering functions. Every call is checked against the tool's
``inputSchema`` before it is sent, and whatever goes wrong becomes a tool result with
``isError`` and a readable message: the server itself never stops for a failed call.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import anyio
import mcp.types as types
from mcp.server import NotificationOptions, Server, ServerRequestContext
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.subscriptions import (
    InMemorySubscriptionBus,
    ListenHandler,
    ResourcesListChanged,
    ToolsListChanged,
)
from mcp.server.transport_security import TransportSecuritySettings

from viksa_ai.mcp_bridge._errors import BridgeConfigError, PlatformRefusedError, ToolCallError
from viksa_ai.mcp_bridge._registry import BridgeRegistry, ViksaToolSpec
from viksa_ai.mcp_bridge._schema import listed_schema, schema_errors
from viksa_ai.mcp_bridge._stdio import ParseErrorAnswering
from viksa_ai.mcp_bridge._text import MAX_TITLE_CHARS, cut_text, is_wire_text, wire_text

__all__ = ["Backend", "BridgeServer", "exposure_warning"]

_log = logging.getLogger("viksa_ai.mcp_bridge")
MAPPINGS_URI = "viksa://mappings"
# Sessions over Streamable HTTP come and go; the oldest beyond this are forgotten.
_MAX_SESSIONS = 256
# The Host names the SDK's own DNS-rebinding guard allows (Server.streamable_http_app).
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


class Backend(Protocol):
    """Where tools come from and calls go: the platform, or an agent folder."""

    def describe(self) -> str: ...

    async def load(self) -> BridgeRegistry: ...

    async def call(self, spec: ViksaToolSpec, arguments: dict[str, Any]) -> Any: ...

    async def close(self) -> None: ...


class _Server(Server[Any]):
    """The SDK's server, announcing that the tool and resource lists change.

    Streamable HTTP sessions build their initialization options without arguments,
    so the announcement is made the default here.
    """

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True, resources_changed=True),
            experimental_capabilities,
            extensions,
        )


def _text_result(text: str, *, error: bool) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=wire_text(text))], is_error=error
    )


class BridgeServer:
    """Viksa agents as MCP tools: the registry, the SDK server and the refresh loop.

    ``refresh_interval`` (seconds, 0 disables) reloads the tools from ``backend``;
    ``watch`` (a callable telling whether the source changed, polled every
    ``watch_interval`` seconds) reloads them as soon as it says so. Clients are told
    of a changed tool list with ``notifications/tools/list_changed`` (2025 protocol
    sessions) or on their ``subscriptions/listen`` stream (2026 protocol).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        name: str = "viksa",
        version: str = "",
        refresh_interval: float = 60.0,
        watch: Callable[[], bool] | None = None,
        watch_interval: float = 0.5,
    ) -> None:
        self.backend = backend
        self.registry = BridgeRegistry()
        self.refresh_interval = refresh_interval
        self._watch = watch
        self._watch_interval = watch_interval
        self._bus = InMemorySubscriptionBus()
        # One session per 2025-protocol connection (from its `initialize`), told of
        # changes on the connection's own stream; one that cannot be told drops out.
        self._sessions: deque[ServerSession] = deque(maxlen=_MAX_SESSIONS)
        self._refreshing = anyio.Lock()
        self.server = _Server(
            name,
            version=version,
            title="Viksa AI agents",
            instructions=self.registry.instructions(),
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_read_resource=self._read_resource,
            on_subscriptions_listen=ListenHandler(self._bus),
        )
        self.server.middleware.append(self._remember_session)

    # -- the registry --------------------------------------------------------------------

    async def refresh(self, *, strict: bool = False) -> bool:
        """Reload the tools; True when the list a client sees changed.

        A failure (platform down, a folder that does not load) keeps the current tools
        and is logged: the server goes on serving them. With ``strict`` (the bridge's
        first load), a :class:`PlatformRefusedError` is raised instead: credentials the
        platform refuses will not work on a later try.
        """
        async with self._refreshing:
            try:
                registry = await self.backend.load()
            except (BridgeConfigError, ToolCallError) as exc:
                if strict and isinstance(exc, PlatformRefusedError):
                    raise
                _log.error("could not load the tools of %s: %s", self.backend.describe(), exc)
                return False
            except Exception as exc:  # the platform's errors and anything else: keep serving
                _log.warning(
                    "could not load the tools of %s (%s): %s",
                    self.backend.describe(),
                    type(exc).__name__,
                    exc,
                )
                return False
            old = self.registry
            self.registry = registry
            self.server.instructions = registry.instructions()
            tools_changed = registry.fingerprint() != old.fingerprint()
            resources_changed = self._resource_uris(registry) != self._resource_uris(old)
        if tools_changed:
            _log.info("tools now: %s", ", ".join(registry.names()) or "none")
            await self._notify(ToolsListChanged(), "send_tool_list_changed")
        if resources_changed:
            await self._notify(ResourcesListChanged(), "send_resource_list_changed")
        return tools_changed

    async def _notify(self, event: Any, method: str) -> None:
        await self._bus.publish(event)
        for session in list(self._sessions):
            try:
                await getattr(session, method)()
            except Exception as exc:  # a client gone away: forget it
                _log.debug("dropping a session that cannot be notified: %s", exc)
                with contextlib.suppress(ValueError):
                    self._sessions.remove(session)

    async def _remember_session(
        self,
        ctx: ServerRequestContext[Any, Any],
        call_next: Callable[[ServerRequestContext[Any, Any]], Awaitable[Any]],
    ) -> Any:
        result = await call_next(ctx)
        # 2026-protocol clients listen with `subscriptions/listen` instead.
        if ctx.method == "initialize":
            self._sessions.append(ctx.session)
        return result

    async def run_refresh_loop(self) -> None:
        """Refresh every ``refresh_interval`` seconds and on every change ``watch`` sees."""
        if self.refresh_interval <= 0 and self._watch is None:
            return
        next_refresh = anyio.current_time() + self.refresh_interval
        while True:
            step = self._watch_interval if self._watch is not None else self.refresh_interval
            if self.refresh_interval > 0:
                step = min(step, max(next_refresh - anyio.current_time(), 0.0))
            await anyio.sleep(step)
            due = self.refresh_interval > 0 and anyio.current_time() >= next_refresh
            watched = False
            if self._watch is not None:
                try:
                    watched = self._watch()
                except OSError as exc:
                    _log.warning("could not watch %s: %s", self.backend.describe(), exc)
            if due or watched:
                await self.refresh()
            if due:
                next_refresh = anyio.current_time() + self.refresh_interval

    # -- tools ---------------------------------------------------------------------------

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        registry = self.registry
        return types.ListToolsResult(
            tools=[
                types.Tool(
                    name=spec.name,
                    title=cut_text(f"{spec.agent_alias}: {spec.endpoint_name}", MAX_TITLE_CHARS),
                    description=spec.description,
                    input_schema=dict(listed_schema(spec.input_schema)),
                    output_schema=spec.output_schema,
                )
                for spec in (registry.tools[name] for name in registry.names())
            ]
        )

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        try:
            return await self.call_tool(params.name, params.arguments)
        except Exception as exc:  # never let one call take the server down
            _log.error("tool %s failed inside the bridge (%s)", params.name, type(exc).__name__)
            return _text_result(
                f"{params.name}: the bridge failed to run it ({type(exc).__name__}); "
                "see the server's log",
                error=True,
            )

    async def call_tool(self, name: str, arguments: dict[str, Any] | None) -> types.CallToolResult:
        """Check and run one call; the MCP result (``isError`` when it failed)."""
        spec = self.registry.get(name)
        if spec is None:
            return _text_result(
                f"unknown tool {name!r}: the tool list may have changed, list the tools again",
                error=True,
            )
        arguments = dict(arguments or {})
        problems = schema_errors(spec.input_schema, arguments)
        if problems:
            return _text_result(
                f"{name}: invalid arguments, nothing was sent: " + "; ".join(problems), error=True
            )
        try:
            value = await self.backend.call(spec, spec.agent_arguments(arguments))
        except ToolCallError as exc:
            _log.info("%s", exc)
            return _text_result(str(exc), error=True)
        return self._result(spec, value)

    def _result(self, spec: ViksaToolSpec, value: Any) -> types.CallToolResult:
        try:
            text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
        except (TypeError, ValueError):
            text = str(value)
        if not is_wire_text(text):
            return _text_result(
                f"{spec.name}: the endpoint's result holds text that is not valid Unicode (a "
                f"lone surrogate), which MCP cannot carry:\n{text}",
                error=True,
            )
        if spec.output_schema is None:
            structured = value if isinstance(value, dict) else None
            return types.CallToolResult(
                content=[types.TextContent(type="text", text=text)],
                structured_content=structured,
            )
        if not isinstance(value, dict):
            return _text_result(
                f"{spec.name}: the endpoint returned a {type(value).__name__}, not the object "
                f"of its declared outputs:\n{text}",
                error=True,
            )
        problems = schema_errors(spec.output_schema, value)
        if problems:
            return _text_result(
                f"{spec.name}: the endpoint's result does not match its declared outputs ("
                + "; ".join(problems)
                + f"):\n{text}",
                error=True,
            )
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)], structured_content=value
        )

    # -- resources -----------------------------------------------------------------------

    @staticmethod
    def _resource_uris(registry: BridgeRegistry) -> list[str]:
        uris = [info.guidelines_uri for info in registry.agents.values() if info.guidelines]
        return [*uris, MAPPINGS_URI]

    async def _list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        registry = self.registry
        resources = [
            types.Resource(
                name=f"{info.agent_alias}_guidelines",
                title=f"Guidelines of {info.agent_name}",
                uri=info.guidelines_uri,
                description=f"How to use the tools of {info.agent_name} (its ai_guidelines)",
                mime_type="text/markdown",
            )
            for info in registry.agents.values()
            if info.guidelines
        ]
        resources.append(
            types.Resource(
                name="mappings",
                title="Agent mappings",
                uri=MAPPINGS_URI,
                description="How the agents' endpoints map to runnable paths",
                mime_type="application/json",
            )
        )
        return types.ListResourcesResult(resources=resources)

    async def _read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        from mcp.shared.exceptions import MCPError

        uri = str(params.uri)
        registry = self.registry
        if uri == MAPPINGS_URI:
            text = json.dumps(registry.mappings, indent=2, default=str)
            mime = "application/json"
        else:
            found = [
                info
                for info in registry.agents.values()
                if info.guidelines and info.guidelines_uri == uri
            ]
            if not found:
                raise MCPError(types.INVALID_PARAMS, f"no resource {uri}: list the resources")
            text, mime = found[0].guidelines, "text/markdown"
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)]
        )

    # -- transports ----------------------------------------------------------------------

    async def serve_stdio(self) -> None:
        """Serve one client over stdin/stdout until it closes them."""
        from mcp.server.stdio import stdio_server

        async with anyio.create_task_group() as group:
            group.start_soon(self.run_refresh_loop)
            async with stdio_server() as (read_stream, write_stream):
                await self.server.run(
                    ParseErrorAnswering(read_stream, write_stream),
                    write_stream,
                    self.server.create_initialization_options(),
                )
            group.cancel_scope.cancel()

    async def serve_http(self, host: str = "127.0.0.1", port: int = 8000) -> None:
        """Serve Streamable HTTP at ``http://host:port/mcp`` until cancelled."""
        import uvicorn

        app = self.server.streamable_http_app(host=host, transport_security=_rebinding_guard(host))
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="on", log_config=None
        )
        server = uvicorn.Server(config)
        # Bound here, so a port in use is one message: uvicorn would log it and raise
        # SystemExit inside the task group.
        sock = _listen(host, port)
        exposed = exposure_warning(host)
        if exposed:
            _log.warning("%s", exposed)
        with sock:
            async with anyio.create_task_group() as group:
                group.start_soon(self.run_refresh_loop)
                _log.info("serving MCP over Streamable HTTP at http://%s:%d/mcp", host, port)
                await server.serve(sockets=[sock])
                group.cancel_scope.cancel()


def exposure_warning(host: str) -> str | None:
    """What serving on ``host`` exposes, when it is not a loopback address (else None).

    Anyone who reaches the port calls the agents with this bridge's credentials: the
    transport has no authentication, and the DNS-rebinding guard is on only on loopback.
    """
    if _binds_loopback(host):
        return None
    return (
        f"serving on {host}, not a loopback address: whoever reaches this port calls the "
        "agents with this bridge's credentials (Streamable HTTP has no authentication); "
        "serve on 127.0.0.1 unless this is what you want"
    )


def _binds_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address as the system reads it.

    Numeric forms are read by ``getaddrinfo`` (the call that binds the server), so
    ``127.1``, ``0x7f.1`` and ``2130706433`` are 127.0.0.1, as they are to ``bind``;
    ``::ffff:127.0.0.1`` is the IPv4 loopback mapped into IPv6. Any other name warns:
    it may resolve to anything.
    """
    name = host.strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        found = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
        address = ipaddress.ip_address(found[0][4][0])
    except (OSError, UnicodeError, ValueError):
        return False  # a name, or not an address at all
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _rebinding_guard(host: str) -> TransportSecuritySettings | None:
    """The SDK's DNS-rebinding guard for any loopback spelling of ``host`` (else None).

    The SDK turns it on only for ``127.0.0.1``, ``localhost`` and ``::1``: on ``127.1``
    or ``127.0.0.2`` a web page could rebind its name to the bridge and call the agents.
    ``host`` as typed is allowed too, so the URL a user serves at keeps working.
    """
    if not _binds_loopback(host):
        return None
    typed = f"[{host.strip('[]')}]" if ":" in host else host
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{name}:*" for name in (*_LOOPBACK_HOSTS, typed)],
        allowed_origins=[f"http://{name}:*" for name in (*_LOOPBACK_HOSTS, typed)],
    )


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a ``BridgeConfigError`` saying what to change."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family)
    except OSError as exc:
        raise BridgeConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pass another --port "
            "(or --host)"
        ) from None
