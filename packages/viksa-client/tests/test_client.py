"""Constructors, per-call options, raw responses, webhooks and the caller's http client."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from viksa_ai.client import (
    ClientConfig,
    HttpBackend,
    RequestOptions,
    RetryConfig,
    ViksaAuthenticationError,
    ViksaClient,
    ViksaConfigError,
    ViksaError,
    ViksaNotFoundError,
    ViksaSyncClient,
    ViksaTimeoutError,
    _backends,
)

ENV_NAMES = (
    "VIKSA_API_KEY",
    "VIKSA_ACCESS_TOKEN",
    "VIKSA_REFRESH_TOKEN",
    "VIKSA_EMAIL",
    "VIKSA_PASSWORD",
    "VIKSA_ORG_ID",
    "VIKSA_PROJECT_ID",
    "VIKSA_BASE_URL",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)

    def set_env(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


async def test_from_env_prefers_the_api_key(
    api: respx.MockRouter, env: Callable[..., None]
) -> None:
    env(
        VIKSA_API_KEY="vk_1",
        VIKSA_ACCESS_TOKEN="jwt",
        VIKSA_EMAIL="e@x",
        VIKSA_PASSWORD="pw",
        VIKSA_ORG_ID="o",
        VIKSA_PROJECT_ID="p",
        VIKSA_BASE_URL="https://gw.viksa.test/",
    )
    route = api.get("https://gw.viksa.test/auth/usage").respond(200, json={})
    async with ViksaClient.from_env() as client:
        await client.auth.usage()
    sent = route.calls.last.request.headers
    assert sent["authorization"] == "Bearer vk_1"
    assert (sent["x-tenant-org-id"], sent["x-tenant-project-id"]) == ("o", "p")


async def test_from_env_access_token_with_refresh(
    api: respx.MockRouter, env: Callable[..., None], tokens: Callable[..., dict[str, Any]]
) -> None:
    env(VIKSA_ACCESS_TOKEN="jwt", VIKSA_REFRESH_TOKEN="r1", VIKSA_EMAIL="e@x")
    me = api.get("https://api.viksaai.com/auth/me")
    me.side_effect = [
        httpx.Response(401),
        httpx.Response(200, json={"id": "u", "email": "e", "account_id": "a"}),
    ]
    refresh = api.post("https://api.viksaai.com/auth/refresh").respond(200, json=tokens())
    async with ViksaClient.from_env() as client:
        await client.auth.me()
    assert me.calls[0].request.headers["authorization"] == "Bearer jwt"
    assert json.loads(refresh.calls.last.request.content) == {"refresh_token": "r1"}


def test_from_env_logs_in_with_email_and_password(
    api: respx.MockRouter, env: Callable[..., None], tokens: Callable[..., dict[str, Any]]
) -> None:
    env(VIKSA_EMAIL="e@x", VIKSA_PASSWORD="pw", VIKSA_BASE_URL="https://api.viksa.test")
    login = api.post("/auth/individual/login").respond(200, json=tokens())
    api.get("/auth/usage").respond(200, json={})
    with ViksaSyncClient.from_env() as client:
        client.auth.usage()
    assert json.loads(login.calls.last.request.content) == {"email": "e@x", "password": "pw"}


def test_from_env_errors_name_the_variables(env: Callable[..., None]) -> None:
    with pytest.raises(ViksaConfigError) as info:
        ViksaClient.from_env()
    for name in ("VIKSA_API_KEY", "VIKSA_ACCESS_TOKEN", "VIKSA_EMAIL", "VIKSA_PASSWORD"):
        assert name in str(info.value)
    env(VIKSA_EMAIL="e@x")
    with pytest.raises(ViksaConfigError, match="VIKSA_PASSWORD is not set"):
        ViksaSyncClient.from_env()
    assert issubclass(ViksaConfigError, ViksaError)


async def test_from_api_key_validate_resolves_the_tenant(api: respx.MockRouter) -> None:
    route = api.post("/auth/key/validate/api").respond(
        200, json={"valid": True, "org_id": "o7", "project_id": "p7"}
    )
    client = ViksaClient.from_api_key("vk_1", validate=True, base_url="https://api.viksa.test")
    async with client:
        assert (client.org_id, client.project_id) == ("o7", "p7")
    assert json.loads(route.calls.last.request.content) == {"api_key": "vk_1"}
    assert route.calls.last.request.headers["authorization"] == "Bearer vk_1"


def test_from_api_key_validate_rejects_an_invalid_key(api: respx.MockRouter) -> None:
    api.post("/auth/key/validate/api").respond(200, json={"valid": False, "error": "revoked"})
    with pytest.raises(ViksaAuthenticationError, match="revoked") as info:
        ViksaSyncClient.from_api_key("vk_bad", validate=True, base_url="https://api.viksa.test")
    assert "vk_bad" not in str(info.value)


@pytest.mark.parametrize("make", [ViksaClient.from_api_key, ViksaSyncClient.from_api_key])
def test_a_refusal_echoing_the_key_keeps_it_out_of_the_error(
    api: respx.MockRouter, make: Callable[..., object]
) -> None:
    # The platform's reason was put in the message as it came: "key vk_... was revoked".
    key = "vk_live_echoed_9f8e7d"
    reason = f"key {key} was revoked" + " and more" * 200
    api.post("/auth/key/validate/api").respond(200, json={"valid": False, "error": reason})
    with pytest.raises(ViksaAuthenticationError, match="was revoked") as info:
        make(key, validate=True, base_url="https://api.viksa.test")
    error = info.value
    for text in (str(error), repr(error), *(detail.message for detail in error.details)):
        assert key not in text
        assert len(text) < 1000


async def test_from_api_key_without_validation_sends_nothing(api: respx.MockRouter) -> None:
    route = api.route().respond(200)
    async with ViksaClient.from_api_key("vk_1") as client:
        assert repr(client).startswith(
            "ViksaClient(base_url='https://api.viksaai.com', auth='api_key'"
        )
    assert route.call_count == 0


async def test_caller_http_client_is_used_and_never_closed(api: respx.MockRouter) -> None:
    route = api.get("/auth/usage").respond(200, json={})
    async with httpx.AsyncClient(headers={"X-Proxy-Team": "blue"}) as http:
        async with ViksaClient("t", base_url="https://api.viksa.test", http_client=http) as client:
            assert client.http_client is http
            await client.auth.usage()
        assert not http.is_closed
        sent = route.calls.last.request
        assert sent.headers["x-proxy-team"] == "blue"
        # The SDK's own headers and timeout still apply to the caller's client.
        assert sent.headers["user-agent"].startswith("viksa-client/")
        assert sent.extensions["timeout"]["read"] == 60.0
    with httpx.Client() as sync_http:
        with ViksaSyncClient("t", base_url="https://api.viksa.test", http_client=sync_http):
            pass
        assert not sync_http.is_closed


def test_http_client_of_the_wrong_kind_is_refused() -> None:
    with httpx.Client() as sync_http, pytest.raises(TypeError, match=r"httpx\.AsyncClient"):
        ViksaClient("t", http_client=sync_http)  # type: ignore[arg-type]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ViksaConfigError, match="base_url"):
        ViksaClient("t", base_url="ftp://x")
    with pytest.raises(ViksaConfigError, match="http_backend"):
        ViksaClient("t", http_backend="curl")  # type: ignore[arg-type]
    with pytest.raises(ViksaConfigError, match="async only"):
        ViksaSyncClient("t", http_backend="aiohttp")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",  # httpx.InvalidURL escaped as it is
        "http://host:abc",
        "http://host:99999",
        "http://x\x7fy",
        "https://api.example.com/v1?x=1",  # paths would go after the query
        "https://api.example.com/#top",
    ],
)
def test_a_base_url_that_is_no_usable_url_is_a_config_error(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ViksaConfigError, match=r"^base_url must be an http\(s\) URL"):
        ViksaClient("t", base_url=url)
    with pytest.raises(ViksaConfigError, match=r"^base_url must be"):
        ViksaSyncClient("t", base_url=url)
    monkeypatch.setenv("VIKSA_BASE_URL", url)
    with pytest.raises(ViksaConfigError, match=r"^VIKSA_BASE_URL must be an http\(s\) URL"):
        ViksaClient("t")


def test_from_env_names_the_variable_of_a_bad_base_url(env: Callable[..., None]) -> None:
    env(VIKSA_API_KEY="k", VIKSA_BASE_URL="notaurl")
    for cls in (ViksaClient, ViksaSyncClient):
        with pytest.raises(ViksaConfigError, match=r"^VIKSA_BASE_URL must be an http\(s\) URL"):
            cls.from_env()
    # Read as from_env reads it: surrounding blanks (a pasted export line) are dropped.
    env(VIKSA_BASE_URL=" https://gw.viksa.test/ ")
    assert ViksaClient.from_env().base_url == "https://gw.viksa.test"
    assert ViksaClient("t").base_url == "https://gw.viksa.test"


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "5", True])
def test_a_timeout_that_is_no_positive_number_is_a_config_error(timeout: Any) -> None:
    # 0 or -1 timed every call out at once; "5" failed each call with a TypeError.
    message = r"timeout must be a positive number of seconds, an httpx\.Timeout or None"
    with pytest.raises(ViksaConfigError, match=message):
        ViksaClient("t", timeout=timeout)
    with pytest.raises(ViksaConfigError, match=message):
        ViksaSyncClient("t", timeout=timeout)
    with pytest.raises(ViksaConfigError, match=rf"RequestOptions\.{message}"):
        RequestOptions(timeout=timeout)
    assert RequestOptions(timeout=2).timeout == 2
    assert ViksaClient("t", timeout=httpx.Timeout(3.0)) is not None


async def test_own_client_is_closed_and_a_closed_client_refuses_calls(
    make_client: Callable[..., ViksaClient],
) -> None:
    client = make_client()
    await client.aclose()
    assert client.http_client.is_closed
    with pytest.raises(ViksaError, match="closed"):
        await client.auth.usage()


async def test_a_close_during_a_retry_wait_ends_the_call_with_a_viksa_error(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    make_sync_client: Callable[..., ViksaSyncClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    route = api.get("/auth/usage").respond(503, json={"detail": "busy"})
    client = make_client()
    sync_client = make_sync_client()

    async def close_while_waiting(seconds: float) -> None:
        await client.aclose()

    def close_sync_while_waiting(seconds: float) -> None:
        sync_client.close()

    monkeypatch.setattr(_backends, "async_sleep", close_while_waiting)
    monkeypatch.setattr(_backends, "sync_sleep", close_sync_while_waiting)
    # Not httpx's RuntimeError about sending on a closed client.
    with pytest.raises(ViksaError, match="closed"):
        await client.auth.usage()
    with pytest.raises(ViksaError, match="closed"):
        sync_client.auth.usage()
    assert route.call_count == 2  # one attempt each, no retry after the close


async def test_per_call_headers_query_and_key(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.post("/scheduler/schedule/create").respond(200, json={})
    client = make_client(
        config=ClientConfig(default_headers={"X-Team": "ops"}, user_agent="robot/1")
    )
    await client.scheduler.create(
        {"cron": "@daily"},
        options=RequestOptions(
            extra_headers={"X-Trace": "t-1", "X-Team": "dev"},
            extra_query={"dry_run": "true"},
            idempotency_key="sched-1",
        ),
    )
    sent = route.calls.last.request
    assert sent.headers["x-trace"] == "t-1"
    assert sent.headers["x-team"] == "dev"
    assert sent.headers["user-agent"] == "robot/1"
    assert sent.headers["idempotency-key"] == "sched-1"
    assert dict(sent.url.params) == {"dry_run": "true"}


@pytest.mark.parametrize("own_http_client", [False, True])
async def test_a_header_given_in_another_case_replaces_the_sdks_instead_of_doubling_it(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], own_http_client: bool
) -> None:
    # Headers are case-insensitive: "idempotency-key" in extra_headers was sent next to
    # the automatic "Idempotency-Key", and a server reading the first ignored the
    # caller's key (so a write retried by the caller could be applied twice).
    route = api.post("/scheduler/schedule/create").respond(200, json={})
    defaults = {"x-tenant-org-id": "from-defaults", "user-agent": "robot/2", "accept": "a/b"}
    client = make_client(
        config=ClientConfig(default_headers=defaults),
        org_id="org-1",
        # A caller's client is answered by respx in process, whatever the backend.
        **(
            {"http_client": httpx.AsyncClient(), "base_url": "https://api.viksa.test"}
            if own_http_client
            else {}
        ),
    )
    await client.scheduler.create(
        {"cron": "@daily"},
        options=RequestOptions(extra_headers={"idempotency-key": "mine", "X-TRACE": "t"}),
    )
    sent = route.calls.last.request.headers
    assert sent.get_list("idempotency-key") == ["mine"]
    assert sent.get_list("x-tenant-org-id") == ["org-1"]
    assert sent.get_list("authorization") == ["Bearer tok-access-1"]
    assert sent.get_list("x-trace") == ["t"]
    assert sent.get_list("user-agent") == ["robot/2"]
    assert sent.get_list("accept") == ["a/b"]
    if own_http_client:
        await client.http_client.aclose()


async def test_per_call_timeout(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/usage").mock(side_effect=httpx.ReadTimeout("slow"))
    client = make_client(retry=RetryConfig(max_retries=0))
    with pytest.raises(ViksaTimeoutError):
        await client.auth.usage(options=RequestOptions(timeout=0.1))


def test_per_call_timeout_reaches_httpx(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    route = api.get("/auth/usage").respond(200, json={})
    client = make_sync_client(timeout=30.0)
    client.auth.usage(options=RequestOptions(timeout=2.5))
    client.auth.usage()
    timeouts = [call.request.extensions["timeout"]["read"] for call in route.calls]
    assert timeouts == [2.5, 30.0]


async def test_record_responses_gives_the_raw_response(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/builder/agent/a1").respond(
        200, json={"agent_name": "x"}, headers={"X-Request-Id": "req-1"}
    )
    api.get("/builder/agent/gone").respond(404, headers={"X-Request-Id": "req-2"})
    client = make_client()
    with client.record_responses() as recorded:
        agent = await client.builder.agents.get("a1")
        assert recorded.last.status_code == 200
        assert recorded.request_id == "req-1"
        with pytest.raises(ViksaNotFoundError):
            await client.builder.agents.get("gone")
    assert agent == {"agent_name": "x"}
    assert [r.status_code for r in recorded.responses] == [200, 404]
    await client.builder.agents.get("a1")  # outside the block: not recorded
    assert len(recorded.responses) == 2


async def test_record_responses_is_per_task(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/usage").respond(200, json={})
    client = make_client()

    async def recorded() -> int:
        with client.record_responses() as recorder:
            await client.auth.usage()
            await asyncio.sleep(0)
            await client.auth.usage()
        return len(recorder.responses)

    async def unrecorded() -> None:
        for _ in range(3):
            await client.auth.usage()

    count, _ = await asyncio.gather(recorded(), unrecorded())
    assert count == 2
    with client.record_responses() as empty, pytest.raises(LookupError, match="no call"):
        _ = empty.last


async def test_webhook_routes(api: respx.MockRouter, base_url: str, backend: HttpBackend) -> None:
    invoke = api.post("/chat/webhook/trigger/trig%2F1").respond(200, json={"run": "r1"})
    stream = api.post("/chat/webhook/trigger/trig%2F1/stream").respond(
        200, content=b'data: {"e": 1}\n\ndata: [DONE]\n\n'
    )
    health = api.get("/chat/webhook/trigger/trig%2F1/health").respond(200, json={"ok": True})
    wh = ViksaClient.webhook(
        "trig/1",
        webhook_token="wh-tok",
        base_url=base_url,
        http_backend=backend,
    )
    async with wh:
        assert await wh.invoke({"event": "order.created"}) == {"run": "r1"}
        assert [dict(evt) async for evt in wh.stream({"event": "order.created"})] == [{"e": 1}]
        assert dict(await wh.health()) == {"ok": True}
    assert json.loads(invoke.calls.last.request.content) == {"event": "order.created"}
    assert json.loads(stream.calls.last.request.content) == {"event": "order.created"}
    for route in (invoke, stream, health):
        headers = route.calls.last.request.headers
        assert headers["authorization"] == "Bearer wh-tok"
        assert "x-tenant-org-id" not in headers


def test_webhook_without_token_sends_no_authorization(api: respx.MockRouter) -> None:
    route = api.get("https://api.viksaai.com/chat/webhook/trigger/t/health").respond(200)
    with ViksaSyncClient.webhook("t") as wh:
        assert wh.health() is None
        assert wh.trigger_id == "t"
    assert "authorization" not in route.calls.last.request.headers
    with pytest.raises(ValueError, match="not a valid id"):
        ViksaSyncClient.webhook("..")


async def test_cookies_travel_once_on_every_transport(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], base_url: str
) -> None:
    api.get("/auth/usage").respond(200, json={}, headers={"set-cookie": "sid=abc; Path=/"})
    me = api.get("/auth/me").respond(200, json={"id": "u", "email": "e", "account_id": "a"})
    # A host name, not an IP: aiohttp's own cookie jar ignores IP hosts.
    client = make_client(base_url=base_url.replace("127.0.0.1", "localhost"))
    await client.auth.usage()
    await client.auth.me()
    assert me.calls.last.request.headers.get_list("cookie") == ["sid=abc"]
    # httpx's jar is the only one: once cleared, no transport sends the cookie again.
    client.http_client.cookies.clear()
    await client.auth.me()
    assert "cookie" not in me.calls.last.request.headers


@pytest.mark.parametrize("header", ["set-cookie", "SET-COOKIE"])
def test_cookies_travel_on_the_sync_client_too(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient], header: str
) -> None:
    api.get("/auth/usage").respond(200, json={}, headers={header: "sid=abc; Path=/"})
    me = api.get("/auth/me").respond(200, json={"id": "u", "email": "e", "account_id": "a"})
    client = make_sync_client()
    client.auth.me()  # an answer setting no cookie leaves the store as it was
    assert "cookie" not in me.calls.last.request.headers
    client.auth.usage()
    client.auth.me()
    assert me.calls.last.request.headers.get_list("cookie") == ["sid=abc"]


async def test_clients_built_here_skip_reading_answers_that_set_no_cookie(
    make_client: Callable[..., ViksaClient], make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    # httpx runs every answer through http.cookiejar (urllib wrappers first): the
    # SDK's own clients skip it when no Set-Cookie came. A caller's client is as given.
    stores = [make_client().http_client.cookies, make_sync_client().http_client.cookies]
    assert [type(store) for store in stores] == [_backends._AnswerCookies] * 2
    given = httpx.AsyncClient()
    assert type(make_client(http_client=given).http_client.cookies) is httpx.Cookies
    await given.aclose()


def test_a_client_used_again_after_its_event_loop_ended_says_what_to_do(
    api: respx.MockRouter,
) -> None:
    # Its keep-alive connections died with the first loop: httpx and aiohttp raised a
    # bare "RuntimeError: Event loop is closed" from deep in their pools.
    api.get("/auth/me").respond(200, json={"id": "u", "email": "e", "account_id": "a"})
    client = ViksaClient("t", base_url="https://api.viksa.test")
    assert asyncio.run(client.auth.me()).email == "e"
    with pytest.raises(ViksaConfigError, match=r"used in an event loop that has ended") as info:
        asyncio.run(client.auth.me())
    assert "create the client inside the coroutine that uses it" in str(info.value)
    asyncio.run(client.aclose())


def test_a_client_called_from_a_second_running_loop_says_what_to_do(
    api: respx.MockRouter,
) -> None:
    # The connections of its first loop, still running in another thread, cannot serve
    # this loop: httpx raised a bare "RuntimeError: <asyncio.locks.Event ...> is bound to
    # a different event loop", aiohttp one about a Future attached to a different loop.
    api.get("/auth/me").respond(200, json={"id": "u", "email": "e", "account_id": "a"})
    client = ViksaClient("t", base_url="https://api.viksa.test")
    first_call_done, finish = threading.Event(), threading.Event()

    async def first_loop() -> None:
        await client.auth.me()
        first_call_done.set()
        await asyncio.to_thread(finish.wait, 10)
        await client.aclose()

    thread = threading.Thread(target=asyncio.run, args=(first_loop(),))
    thread.start()
    try:
        assert first_call_done.wait(10)
        with pytest.raises(ViksaConfigError, match=r"in use by another event loop") as info:
            asyncio.run(client.auth.me())
        assert "one client per event loop" in str(info.value)
    finally:
        finish.set()
        thread.join(10)


def test_a_callers_http_client_may_be_used_from_one_loop_after_another(
    api: respx.MockRouter,
) -> None:
    # An in-process client (an ASGI app's, say) is the caller's to manage.
    api.get("/auth/me").respond(200, json={"id": "u", "email": "e", "account_id": "a"})
    client = ViksaClient("t", base_url="https://api.viksa.test", http_client=httpx.AsyncClient())
    for _ in range(2):
        assert asyncio.run(client.auth.me()).email == "e"
