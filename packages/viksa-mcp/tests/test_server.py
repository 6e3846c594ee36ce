"""The MCP server over a registry, with the SDK's own client in process (both protocol eras)."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.server.transport_security import TransportSecurityMiddleware
from starlette.requests import Request

from viksa_ai.mcp_bridge import BridgeServer, PlatformRefusedError, ToolCallError
from viksa_ai.mcp_bridge._server import MAPPINGS_URI, _rebinding_guard, exposure_warning

MakeDoc = Callable[..., dict[str, Any]]


# "legacy": the 2025 initialize handshake (Cursor, Claude Desktop); "auto": 2026 when served.
ERAS = ["legacy", "auto"]


async def _bridge(backend: Any) -> BridgeServer:
    bridge = BridgeServer(backend, refresh_interval=0)
    await bridge.refresh()
    return bridge


def _text(result: Any) -> str:
    return str(result.content[0].text)


@pytest.mark.parametrize("mode", ERAS)
async def test_tools_are_listed_with_their_schemas(backend: Any, mode: str) -> None:
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert sorted(tools) == [
            "text_tools_sign_message",
            "text_tools_slugify",
            "text_tools_word_stats",
        ]
        word_stats = tools["text_tools_word_stats"]
        assert word_stats.input_schema["required"] == ["text"]
        assert word_stats.output_schema is not None
        assert word_stats.output_schema["properties"]["words"] == {
            "type": "integer",
            "description": "Number of words",
        }
        assert client.instructions is not None
        assert "Count words with word_stats." in client.instructions


@pytest.mark.parametrize("mode", ERAS)
async def test_a_call_answers_structured_content(backend: Any, mode: str) -> None:
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode=mode) as client:
        result = await client.call_tool("text_tools_word_stats", {"text": "a b a"})
        assert not result.is_error
        assert result.structured_content == {"words": 3, "unique": 2, "top": [], "run_id": None}
        assert json.loads(_text(result)) == result.structured_content
    assert backend.calls == [("text_tools_word_stats", {"text": "a b a"})]


async def test_invalid_arguments_are_refused_before_sending(backend: Any) -> None:
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode="legacy") as client:
        result = await client.call_tool("text_tools_word_stats", {"text": "", "top": "many"})
        assert result.is_error
        assert "invalid arguments, nothing was sent" in _text(result)
        assert "text: '' should be non-empty" in _text(result)
        assert "top: 'many' is not of type 'integer'" in _text(result)
        unknown = await client.call_tool("nope", {})
        assert unknown.is_error
        assert "unknown tool 'nope'" in _text(unknown)
    assert backend.calls == []


async def test_failures_are_tool_errors_and_the_server_goes_on(backend: Any) -> None:
    backend.answers["slugify"] = RuntimeError("a bug in the backend")
    backend.answers["word_stats"] = {"words": "three"}
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode="legacy") as client:
        failed = await client.call_tool("text_tools_sign_message", {"message": "m"})
        assert failed.is_error
        assert _text(failed) == "text_tools_sign_message: the endpoint failed: no key"
        crashed = await client.call_tool("text_tools_slugify", {"text": "A B"})
        assert crashed.is_error
        assert "the bridge failed to run it (RuntimeError)" in _text(crashed)
        assert "a bug" not in _text(crashed)  # the exception text may hold anything
        mismatch = await client.call_tool("text_tools_word_stats", {"text": "x"})
        assert mismatch.is_error
        assert "does not match its declared outputs" in _text(mismatch)
        assert len((await client.list_tools()).tools) == 3


async def test_a_result_without_declared_outputs_is_plain_text(backend: Any) -> None:
    backend.docs[0]["agent_endpoints"][1]["outputs"] = []
    backend.answers["slugify"] = "a-b"
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode="legacy") as client:
        result = await client.call_tool("text_tools_slugify", {"text": "A B"})
        assert (result.is_error, _text(result), result.structured_content) == (False, '"a-b"', None)


async def test_guidelines_and_mappings_are_resources(backend: Any) -> None:
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode="legacy") as client:
        uris = [str(r.uri) for r in (await client.list_resources()).resources]
        assert uris == ["viksa://agent/agt1/guidelines", MAPPINGS_URI]
        guidelines = await client.read_resource("viksa://agent/agt1/guidelines")
        assert guidelines.contents[0].text == "Count words with word_stats."  # type: ignore[union-attr]
        mappings = await client.read_resource(MAPPINGS_URI)
        assert json.loads(mappings.contents[0].text) == [{"agent_id": "agt1"}]  # type: ignore[union-attr]


async def test_a_changed_tool_list_is_announced_to_a_2025_session(
    backend: Any, make_doc: MakeDoc
) -> None:
    bridge = await _bridge(backend)
    announced = anyio.Event()

    async def on_message(message: IncomingMessage) -> None:
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            announced.set()

    async with Client(bridge.server, mode="legacy", message_handler=on_message) as client:
        caps = client.server_capabilities
        assert caps.tools is not None
        assert caps.tools.list_changed
        assert not await bridge.refresh()  # nothing changed: nothing said
        backend.docs.append(make_doc("agt2", "more_tools"))
        assert await bridge.refresh()
        with anyio.fail_after(10):
            await announced.wait()
        assert len((await client.list_tools()).tools) == 6


async def test_a_changed_tool_list_reaches_a_2026_listener(backend: Any, make_doc: MakeDoc) -> None:
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode="auto") as client:
        async with client.listen(tools_list_changed=True) as subscription:
            backend.docs.append(make_doc("agt2", "more_tools"))
            assert await bridge.refresh()
            with anyio.fail_after(10):
                event = await subscription.__anext__()
            assert type(event).__name__ == "ToolsListChanged"
        assert len((await client.list_tools()).tools) == 6


async def test_a_failed_refresh_keeps_the_tools(backend: Any) -> None:
    bridge = await _bridge(backend)
    backend.load_error = ConnectionError("platform down")
    assert not await bridge.refresh()
    assert len(bridge.registry.tools) == 3


async def test_a_strict_refresh_raises_a_refusal_and_only_a_refusal(backend: Any) -> None:
    bridge = await _bridge(backend)
    backend.load_error = PlatformRefusedError("the Viksa platform refused to list them")
    assert not await bridge.refresh()  # a later refresh: logged, the tools stay
    assert len(bridge.registry.tools) == 3
    with pytest.raises(PlatformRefusedError):
        await bridge.refresh(strict=True)
    backend.load_error = ConnectionError("platform down")
    assert not await bridge.refresh(strict=True)  # it may be up at the next refresh


async def test_the_refresh_loop_picks_up_a_watched_change(backend: Any) -> None:
    answers = iter([False, False, True])
    loaded = anyio.Event()
    load = backend.load

    async def load_and_tell() -> Any:
        registry = await load()
        loaded.set()
        return registry

    backend.load = load_and_tell
    bridge = BridgeServer(
        backend, refresh_interval=0, watch=lambda: next(answers, False), watch_interval=0.01
    )
    async with anyio.create_task_group() as group:
        group.start_soon(bridge.run_refresh_loop)
        with anyio.fail_after(10):
            await loaded.wait()  # only the third look says "changed"
        assert next(answers, None) is None
        group.cancel_scope.cancel()
    assert len(bridge.registry.tools) == 3


async def test_a_port_in_use_is_a_config_error_not_a_traceback(backend: Any) -> None:
    # uvicorn would log the bind error and raise SystemExit(3) inside the task group.
    import socket

    from viksa_ai.mcp_bridge._errors import BridgeConfigError

    bridge = await _bridge(backend)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BridgeConfigError, match=rf"cannot listen on 127\.0\.0\.1:{port}: "):
            await bridge.serve_http("127.0.0.1", port)


async def test_a_renamed_argument_reaches_the_agent_by_its_name(backend: Any) -> None:
    doc = backend.docs[0]
    doc["inputs"][0]["name"] = "the text"  # word_stats' `text`, a name Claude refuses
    doc["agent_endpoints"][0]["inputs"][0]["input_ref"] = "the text"
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode="legacy") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        [key] = tools["text_tools_word_stats"].input_schema["required"]
        assert key.startswith("the_text_")
        result = await client.call_tool("text_tools_word_stats", {key: "a b a"})
        assert not result.is_error, _text(result)
    assert backend.calls == [("text_tools_word_stats", {"the text": "a b a"})]


async def test_a_guidelines_uri_is_a_valid_uri_whatever_the_agent_id(backend: Any) -> None:
    # A folder's agent is `local-{folder name}`; a platform id could hold anything.
    backend.docs[0]["id"] = "local-my agent/x?y#z"
    bridge = await _bridge(backend)
    async with Client(bridge.server, mode="legacy") as client:
        [uri] = [
            str(r.uri) for r in (await client.list_resources()).resources if "agent" in str(r.uri)
        ]
        assert uri == "viksa://agent/local-my%20agent%2Fx%3Fy%23z/guidelines"
        parts = urlsplit(uri)
        assert (parts.netloc, parts.query, parts.fragment) == ("agent", "", "")
        read = await client.read_resource(uri)
        assert read.contents[0].text == "Count words with word_stats."  # type: ignore[union-attr]


async def test_a_lone_surrogate_in_a_result_or_error_cannot_end_the_bridge(backend: Any) -> None:
    # JSON's "\ud800" decodes to a str that UTF-8 cannot encode: the SDK's stdio writer
    # raised on it and the bridge process ended (exit 1).
    backend.answers["slugify"] = {"slug": "bad \ud800 text"}
    backend.answers["sign_message"] = ToolCallError("text_tools_sign_message: failed \udfff")
    bridge = await _bridge(backend)
    results = [
        await bridge.call_tool("text_tools_slugify", {"text": "a"}),
        await bridge.call_tool("text_tools_sign_message", {"message": "m"}),
    ]
    for result in results:
        assert result.is_error
        wire = result.model_dump_json(by_alias=True, exclude_unset=True)  # what stdio writes
        assert "\\\\ud800" in wire or "\\\\udfff" in wire
    assert "is not valid Unicode (a lone surrogate)" in _text(results[0])


async def test_an_integer_given_as_a_whole_float_is_sent_as_an_integer(backend: Any) -> None:
    # JSON Schema takes 5.0 as an integer; the platform and the runner refuse it ("must
    # be an integer, got a number"), after the bridge said it was valid.
    bridge = await _bridge(backend)
    result = await bridge.call_tool("text_tools_word_stats", {"text": "a", "top": 5.0})
    assert not result.is_error
    [(_, sent)] = backend.calls
    assert sent == {"text": "a", "top": 5}
    assert type(sent["top"]) is int
    refused = await bridge.call_tool("text_tools_word_stats", {"text": "a", "top": 5.5})
    assert refused.is_error


@pytest.mark.parametrize(
    ("host", "exposed"),
    [
        ("127.0.0.1", False),
        ("127.0.0.2", False),
        ("::1", False),
        ("[::1]", False),
        ("localhost", False),
        ("LocalHost", False),
        # Short and based forms bind 127.0.0.1 (getaddrinfo reads them as inet_aton does).
        ("127.1", False),
        ("0x7f.1", False),
        ("0177.0.0.1", False),
        ("2130706433", False),
        ("127.255.255.254", False),
        # The IPv4 loopback mapped into IPv6.
        ("::ffff:127.0.0.1", False),
        ("::ffff:7f00:2", False),
        ("0.0.0.0", True),
        ("0", True),
        ("::", True),
        ("::ffff:0.0.0.0", True),
        ("::ffff:192.168.1.20", True),
        ("192.168.1.20", True),
        ("128.0.0.1", True),
        ("0x80.1", True),
        ("bridge.example.com", True),
        ("localhost.example.com", True),
        ("127.0.0.1.example.com", True),
        ("", True),
    ],
)
def test_serving_beyond_loopback_says_what_it_exposes(host: str, exposed: bool) -> None:
    # --http has no authentication: on another address, anyone reaching the port calls
    # the agents with the bridge's credentials (and the SDK's rebinding guard is off).
    warning = exposure_warning(host)
    assert (warning is not None) is exposed
    if warning is not None:
        assert "no authentication" in warning
        assert host in warning


_PROPERTY = settings(database=None, derandomize=True, max_examples=300)


_LOOPBACK_V4 = st.integers(min_value=127 << 24, max_value=(128 << 24) - 1)
_ANY_V4 = st.integers(min_value=0, max_value=2**32 - 1)


@_PROPERTY
@given(st.one_of(_LOOPBACK_V4, _ANY_V4))
def test_an_ipv4_address_is_quiet_exactly_on_loopback(number: int) -> None:
    address = ipaddress.IPv4Address(number)
    loopback = address in ipaddress.IPv4Network("127.0.0.0/8")
    # Dotted, as one decimal number (inet_aton reads it), and mapped into IPv6.
    for host in (str(address), str(number), f"::ffff:{address}"):
        assert (exposure_warning(host) is None) is loopback, host


@_PROPERTY
@given(
    st.one_of(
        st.just(1),
        _LOOPBACK_V4.map(lambda n: 0xFFFF << 32 | n),  # mapped IPv4 loopback
        _ANY_V4.map(lambda n: 0xFFFF << 32 | n),  # any mapped IPv4
        st.integers(min_value=0, max_value=2**128 - 1),
    )
)
def test_an_ipv6_address_is_quiet_exactly_on_loopback(number: int) -> None:
    address = ipaddress.IPv6Address(number)
    mapped = address.ipv4_mapped
    loopback = address == ipaddress.IPv6Address(1) or (mapped is not None and mapped.is_loopback)
    assert (exposure_warning(str(address)) is None) is loopback


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.1", "127.1:8000"),
        ("127.0.0.2", "127.0.0.2:8000"),
        ("::ffff:127.0.0.1", "[::ffff:127.0.0.1]:8000"),
        ("127.0.0.1", "localhost:8000"),
    ],
)
async def test_every_loopback_spelling_keeps_the_rebinding_guard(host: str, allowed: str) -> None:
    # The SDK guards only 127.0.0.1, localhost and ::1: quiet on 127.1 must not mean
    # a web page can rebind its name to the bridge.
    guard = _rebinding_guard(host)
    assert guard is not None
    middleware = TransportSecurityMiddleware(guard)

    async def answer(host_header: str) -> int | None:
        scope = {"type": "http", "method": "GET", "headers": [(b"host", host_header.encode())]}
        refused = await middleware.validate_request(Request(scope))
        return None if refused is None else refused.status_code

    assert await answer(allowed) is None
    assert await answer("127.0.0.1:8000") is None
    assert await answer("attacker.example:8000") == 421


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "bridge.example.com"])
def test_off_loopback_the_guard_is_the_sdks_choice(host: str) -> None:
    assert _rebinding_guard(host) is None
