"""Retries: which failures, how long to wait, and when a write may be sent again."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
import respx
from hypothesis import example, given, settings
from hypothesis import strategies as st

from viksa_ai.client import (
    ClientConfig,
    HttpBackend,
    RequestOptions,
    RetryConfig,
    ViksaClient,
    ViksaConfigError,
    ViksaRateLimitError,
    ViksaServerError,
    ViksaSyncClient,
    ViksaTransportError,
    _call,
)
from viksa_ai.client._call import AUTH, BUILDER, Call, json_call
from viksa_ai.client._paths import render_path
from viksa_ai.client._pipeline import make_plan, make_request
from viksa_ai.client._retry import (
    backoff_delay,
    is_timeout,
    may_have_reached_server,
    parse_retry_after,
)
from viksa_ai.models.answers import JSONValue

FAST = RetryConfig(max_retries=3, initial_delay=0.5, max_delay=8.0)


def _keys(route: respx.Route) -> list[str | None]:
    return [call.request.headers.get("idempotency-key") for call in route.calls]


async def test_transient_status_is_retried_then_succeeds(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], sleeps: list[float]
) -> None:
    route = api.get("/auth/usage")
    route.side_effect = [
        httpx.Response(503),
        httpx.Response(502),
        httpx.Response(200, json={"n": 1}),
    ]
    client = make_client(retry=FAST)
    assert dict(await client.auth.usage()) == {"n": 1}
    assert route.call_count == 3
    assert len(sleeps) == 2


async def test_gives_up_after_max_retries(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], sleeps: list[float]
) -> None:
    route = api.get("/auth/usage").respond(504)
    client = make_client(retry=FAST)
    with pytest.raises(ViksaServerError):
        await client.auth.usage()
    assert route.call_count == 4
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        assert 0.0 <= delay <= min(8.0, 0.5 * 2**attempt)


async def test_other_statuses_are_not_retried(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], sleeps: list[float]
) -> None:
    route = api.get("/auth/usage").respond(500)
    client = make_client()
    with pytest.raises(ViksaServerError):
        await client.auth.usage()
    assert route.call_count == 1
    assert sleeps == []


async def test_retry_status_codes_are_configurable(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/auth/usage")
    route.side_effect = [httpx.Response(500), httpx.Response(200, json={})]
    client = make_client(retry=RetryConfig(retry_status_codes={500}))
    assert await client.auth.usage() == {}
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"Retry-After": "0.25"}, 0.25),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, 1.5),
        ({"Retry-After": "8"}, 8.0),  # as long as max_delay: still waited
    ],
)
async def test_server_wait_hints_are_honoured_up_to_max_delay(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    sleeps: list[float],
    headers: dict[str, str],
    expected: float,
) -> None:
    route = api.get("/auth/me")
    route.side_effect = [
        httpx.Response(429, headers=headers),
        httpx.Response(200, json={"id": "u", "email": "e", "account_id": "a"}),
    ]
    client = make_client(retry=FAST)
    await client.auth.me()
    assert sleeps == [expected]


def test_retry_after_http_date() -> None:
    when = datetime.now(timezone.utc) + timedelta(seconds=30)
    seconds = parse_retry_after(httpx.Headers({"Retry-After": format_datetime(when, usegmt=True)}))
    assert seconds is not None
    assert 25.0 < seconds <= 30.0
    past = datetime.now(timezone.utc) - timedelta(seconds=30)
    assert (
        parse_retry_after(httpx.Headers({"Retry-After": format_datetime(past, usegmt=True)})) == 0.0
    )


@pytest.mark.parametrize("value", ["soon", "-3", "nan", "inf", ""])
def test_unusable_retry_after_is_ignored(value: str) -> None:
    assert parse_retry_after(httpx.Headers({"Retry-After": value})) is None


# Well-formed HTTP dates with hostile numbers, and any printable text.
_NUMBER = st.one_of(st.integers(-(10**30), 10**30), st.integers(0, 99)).map(str)
_RETRY_AFTER = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    st.builds(
        "{}, {} {} {}:{}:{} {}".format,
        st.sampled_from(["Mon", "xx", ""]),
        _NUMBER,
        st.sampled_from(["Jan", "Foo"]),
        _NUMBER,
        _NUMBER,
        _NUMBER,
        st.one_of(st.sampled_from(["GMT", "-0000", "+9999", "EST"]), _NUMBER),
    ),
)


@settings(max_examples=300, database=None, derandomize=True)
@given(_RETRY_AFTER)
@example("Mon, 01 Jan 99999999999999999999 00:00:00 GMT")
def test_any_retry_after_is_a_finite_wait_or_ignored(value: str) -> None:
    # A server's header must never raise out of the client (a 20-digit year overflowed).
    for name in ("Retry-After", "retry-after-ms"):
        seconds = parse_retry_after(httpx.Headers({name: value}))
        assert seconds is None or 0.0 <= seconds < float("inf")


def test_backoff_is_full_jitter_exponential_with_a_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    config = RetryConfig(initial_delay=0.5, max_delay=5.0)
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    assert [backoff_delay(config, n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    monkeypatch.setattr(random, "uniform", lambda low, high: low)
    assert backoff_delay(config, 3) == 0.0
    assert backoff_delay(config, 10_000) == 0.0  # no overflow for huge attempt numbers


async def test_deadline_stops_retries_that_would_end_too_late(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], sleeps: list[float]
) -> None:
    route = api.get("/auth/usage").respond(503, headers={"Retry-After": "5"})
    client = make_client(retry=RetryConfig(max_retries=5, max_delay=10, deadline=3.0))
    with pytest.raises(ViksaServerError):
        await client.auth.usage()
    assert route.call_count == 1
    assert sleeps == []


def _timeouts(route: respx.Route) -> dict[str, float | None]:
    timeouts: dict[str, float | None] = route.calls.last.request.extensions["timeout"]
    return timeouts


async def test_deadline_bounds_each_attempt_not_only_the_waits(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    # A server that hangs must not hold a call with a 2 s deadline for the 60 s timeout.
    route = api.get("/auth/usage").respond(200, json={})
    client = make_sync_client(timeout=60.0, retry=RetryConfig(deadline=2.0))
    client.auth.usage()
    assert all(0 < value <= 2.0 for value in _timeouts(route).values() if value is not None)
    assert set(_timeouts(route)) == {"connect", "read", "write", "pool"}
    # Without a deadline the client's timeout is untouched; a per-call one still wins.
    plain = make_sync_client(timeout=60.0)
    plain.auth.usage()
    assert _timeouts(route)["read"] == 60.0
    plain.auth.usage(options=RequestOptions(timeout=1.5, retry=RetryConfig(deadline=30)))
    assert _timeouts(route)["read"] == 1.5


def test_later_attempts_get_only_what_is_left_of_the_deadline() -> None:
    client = ViksaSyncClient("tok", base_url="https://api.viksa.test", timeout=None)
    try:
        settings = client._settings
        call: Call[JSONValue] = json_call("GET", AUTH, "/usage")
        options = RequestOptions(retry=RetryConfig(deadline=10.0))
        plan = make_plan(settings, call, options)
        plan.started -= 9.5  # as if earlier attempts and waits took 9.5 s
        sent = make_request(client._http, plan, settings, client._defaults)
        assert all(0 < value <= 0.5 for value in sent.extensions["timeout"].values())
        # A stream's read timeout also bounds its later events: only opening is cut.
        stream_plan = make_plan(settings, call, options, stream=True)
        stream_plan.started -= 9.5
        opened = make_request(client._http, stream_plan, settings, client._defaults)
        assert opened.extensions["timeout"]["read"] is None
        assert 0 < opened.extensions["timeout"]["connect"] <= 0.5
    finally:
        client.close()


def test_a_plan_renders_its_path_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every call is planned on the request path: the path shown in errors is the one
    # rendered to send (ids encode ? and #), not a second rendering of it.
    rendered: list[str] = []

    def counted(path: str, segments: tuple[str, ...]) -> str:
        rendered.append(path)
        return render_path(path, segments)

    monkeypatch.setattr(_call, "render_path", counted)
    client = ViksaSyncClient("tok", base_url="https://api.viksa.test")
    try:
        call: Call[JSONValue] = json_call("GET", BUILDER, "/agent/{}", "a?b#c")
        plan = make_plan(client._settings, call, None)
    finally:
        client.close()
    assert rendered == ["/agent/{}"]
    assert plan.target == "/builder/agent/a%3Fb%23c"
    assert plan.url.endswith(plan.target)


async def test_connection_errors_are_retried_for_reads(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/auth/usage")
    route.side_effect = [httpx.ReadError("reset"), httpx.Response(200, json={"ok": 1})]
    client = make_client()
    assert dict(await client.auth.usage()) == {"ok": 1}
    assert route.call_count == 2


async def test_connection_errors_can_be_excluded(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/auth/usage").mock(side_effect=httpx.ReadError("reset"))
    client = make_client(retry=RetryConfig(retry_connection_errors=False))
    with pytest.raises(ViksaTransportError):
        await client.auth.usage()
    assert route.call_count == 1


async def test_per_call_retry_override(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/auth/usage").respond(503)
    client = make_client()
    with pytest.raises(ViksaServerError):
        await client.auth.usage(options=RequestOptions(retry=RetryConfig(max_retries=0)))
    assert route.call_count == 1


async def test_writes_carry_one_key_across_retries_and_new_keys_per_call(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.post("/builder/agent/create")
    route.side_effect = [
        httpx.Response(503),
        httpx.ReadError("reset after send"),
        httpx.Response(200, json={"id": "a"}),
        httpx.Response(200, json={"id": "b"}),
    ]
    client = make_client()
    await client.builder.agents.create({"agent_name": "x"})
    await client.builder.agents.create({"agent_name": "y"})
    keys = _keys(route)
    assert len(keys) == 4
    assert keys[0] is not None
    assert keys[0] == keys[1] == keys[2]
    assert keys[3] is not None
    assert keys[3] != keys[0]


@pytest.mark.parametrize(
    "call",
    [
        lambda c, o: c.builder.agents.update("a", {"agent_name": "n"}, options=o),
        lambda c, o: c.builder.agents.set_status("a", enabled=True, options=o),
        lambda c, o: c.builder.agents.delete("a", options=o),
        lambda c, o: c.scheduler.pause("s", options=o),
    ],
    ids=["PUT", "PATCH", "DELETE", "POST"],
)
async def test_every_write_verb_carries_a_key_and_reads_do_not(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    call: Callable[[ViksaClient, RequestOptions | None], object],
) -> None:
    writes = api.route(path__regex=r"^/(builder|scheduler)/").respond(200, json={})
    client = make_client()
    await call(client, None)  # type: ignore[misc]
    assert writes.calls.last.request.headers["idempotency-key"].startswith("viksa-")
    reads = api.get("/auth/usage").respond(200, json={})
    await client.auth.usage()
    assert "idempotency-key" not in reads.calls.last.request.headers


async def test_configured_key_is_used_and_a_per_call_key_wins(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.post("/builder/agent/create").respond(200, json={})
    client = make_client(config=ClientConfig(idempotency_key="create-agent-42"))
    await client.builder.agents.create({"agent_name": "x"})
    await client.builder.agents.create(
        {"agent_name": "x"}, options=RequestOptions(idempotency_key="mine-1")
    )
    assert _keys(route) == ["create-agent-42", "mine-1"]


async def test_per_call_key_is_kept_across_retries(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.post("/builder/agent/create")
    route.side_effect = [httpx.Response(503), httpx.Response(200, json={})]
    client = make_client(config=ClientConfig(auto_idempotency_keys=False))
    await client.builder.agents.create({}, options=RequestOptions(idempotency_key="k-7"))
    assert _keys(route) == ["k-7", "k-7"]


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503), httpx.Response(429), httpx.ReadError("reset after send")],
    ids=["503", "429", "read-error"],
)
async def test_write_without_key_is_not_retried_once_it_may_have_arrived(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    failure: httpx.Response | Exception,
) -> None:
    route = api.post("/builder/agent/create")
    route.side_effect = [failure, httpx.Response(200, json={})]
    client = make_client(config=ClientConfig(auto_idempotency_keys=False))
    with pytest.raises((ViksaServerError, ViksaRateLimitError, ViksaTransportError)):
        await client.builder.agents.create({"agent_name": "x"})
    assert route.call_count == 1
    assert "idempotency-key" not in route.calls.last.request.headers


def test_write_without_key_is_retried_when_the_connection_failed(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    route = api.post("/builder/agent/create")
    route.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, json={"id": "a"})]
    client = make_sync_client(config=ClientConfig(auto_idempotency_keys=False))
    assert client.builder.agents.create({"agent_name": "x"}) == {"id": "a"}
    assert route.call_count == 2


async def test_refused_connection_is_retried_for_a_keyless_write_on_every_backend(
    backend: HttpBackend, sleeps: list[float]
) -> None:
    # Nothing listens on port 9: the request never leaves, so even a keyless write is safe.
    async with ViksaClient(
        "t",
        base_url="http://127.0.0.1:9",
        http_backend=backend,
        config=ClientConfig(auto_idempotency_keys=False, retry=RetryConfig(max_retries=2)),
    ) as client:
        with pytest.raises(ViksaTransportError):
            await client.builder.agents.create({"agent_name": "x"})
    assert len(sleeps) == 2


def test_aiohttp_errors_are_judged_by_their_own_class() -> None:
    aiohttp = pytest.importorskip("aiohttp")
    # httpx-aiohttp maps a disconnect after sending to ConnectTimeout; the cause tells.
    disconnect = httpx.ConnectTimeout("disconnected")
    disconnect.__cause__ = aiohttp.ServerDisconnectedError()
    assert may_have_reached_server(disconnect)
    assert not is_timeout(disconnect)
    read_timeout = httpx.ReadTimeout("slow")
    read_timeout.__cause__ = aiohttp.SocketTimeoutError()
    assert is_timeout(read_timeout)
    assert not may_have_reached_server(httpx.ConnectError("refused"))
    assert not may_have_reached_server(httpx.PoolTimeout("pool"))
    assert may_have_reached_server(httpx.RemoteProtocolError("eof"))


async def test_streams_are_retried_before_the_first_event(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/chat/execution/c1/stream")
    route.side_effect = [
        httpx.Response(503),
        httpx.Response(200, content=b'data: {"a": 1}\n\ndata: [DONE]\n\n'),
    ]
    client = make_client()
    assert [dict(event) async for event in client.chat.stream_execution("c1")] == [{"a": 1}]
    assert route.call_count == 2


def test_retry_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryConfig(max_retries=-1)
    with pytest.raises(ValueError, match="deadline"):
        RetryConfig(deadline=0)
    assert RetryConfig(retry_status_codes=(500,)).retry_status_codes == frozenset({500})


@pytest.mark.parametrize(
    "settings",
    [
        {"max_delay": float("nan")},
        {"max_delay": float("inf")},
        {"initial_delay": float("inf")},
        {"initial_delay": float("nan")},
        {"deadline": float("nan")},
        {"deadline": float("inf")},
    ],
)
def test_retry_config_refuses_waits_that_are_not_finite(settings: dict[str, float]) -> None:
    # NaN passed the `< 0` checks: a retry then slept forever on the async client and
    # raised a bare ValueError from time.sleep on the sync one; inf slept forever.
    with pytest.raises(ValueError, match="finite") as caught:
        RetryConfig(**settings)  # type: ignore[arg-type]
    assert isinstance(caught.value, ViksaConfigError)


async def test_keyless_delete_is_sent_once_when_the_connection_drops(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    # aiohttp would silently re-send an idempotent verb after a drop; the SDK turns it off.
    route = api.delete("/builder/agent/a").mock(side_effect=httpx.ReadError("dropped"))
    client = make_client(config=ClientConfig(auto_idempotency_keys=False))
    with pytest.raises(ViksaTransportError):
        await client.builder.agents.delete("a")
    assert route.call_count == 1
