"""Tokens: adoption after login / refresh / switch, and the single-flight 401 refresh."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from viksa_ai.client import (
    HttpBackend,
    RequestOptions,
    RetryConfig,
    ViksaAuthenticationError,
    ViksaClient,
    ViksaConfigError,
    ViksaDecodeError,
    ViksaError,
    ViksaRateLimitError,
    ViksaServerError,
    ViksaSyncClient,
    ViksaTimeoutError,
    ViksaTransportError,
    _backends,
)
from viksa_ai.models.auth import TokenResponse

OLD = "Bearer tok-access-1"
NEW = "Bearer tok-access-2"
ME = {"id": "u1", "email": "me@example.com", "account_id": "a1"}
# Only a bound for a hang in the tests of calls that wait for each other's refresh (they
# end as soon as each step is done): generous, a loaded machine can stall a thread.
_STEP_BOUND = 30.0


def _me_route(api: respx.MockRouter) -> respx.Route:
    """/auth/me answers 401 to the old token and 200 to the new one."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") == NEW:
            return httpx.Response(200, json=ME)
        return httpx.Response(401, json={"detail": "token expired"})

    return api.get("/auth/me").mock(side_effect=answer)


async def test_401_refreshes_once_and_replays(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    me = _me_route(api)
    refresh = api.post("/auth/refresh").respond(200, json=tokens())
    client = make_client(refresh_token="tok-refresh-1")
    user = await client.auth.me()
    assert user.email == "me@example.com"
    assert refresh.call_count == 1
    sent = refresh.calls.last.request
    assert json.loads(sent.content) == {"refresh_token": "tok-refresh-1"}
    assert "authorization" not in sent.headers
    assert [call.request.headers["authorization"] for call in me.calls] == [OLD, NEW]
    # Later calls use the new token straight away.
    await client.auth.me()
    assert me.call_count == 3
    assert refresh.call_count == 1


async def test_concurrent_401s_cause_exactly_one_refresh(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    me = _me_route(api)

    async def slow_refresh(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.02)  # keep the refresh in flight while the others fail
        return httpx.Response(200, json=tokens())

    refresh = api.post("/auth/refresh").mock(side_effect=slow_refresh)
    client = make_client(refresh_token="tok-refresh-1")
    users = await asyncio.gather(*(client.auth.me() for _ in range(20)))
    assert len(users) == 20
    assert refresh.call_count == 1
    headers = [call.request.headers["authorization"] for call in me.calls]
    assert headers.count(OLD) == 20  # every call failed once ...
    assert headers.count(NEW) == 20  # ... and was replayed once


def test_concurrent_401s_in_threads_cause_exactly_one_refresh(
    api: respx.MockRouter,
    make_sync_client: Callable[..., ViksaSyncClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    me = _me_route(api)
    everyone_failed = threading.Barrier(8, timeout=10)

    def failing_me(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") == NEW:
            return httpx.Response(200, json=ME)
        everyone_failed.wait()  # all threads hold an expired token at the same time
        return httpx.Response(401)

    me.mock(side_effect=failing_me)

    def slow_refresh(request: httpx.Request) -> httpx.Response:
        time.sleep(0.02)
        return httpx.Response(200, json=tokens())

    refresh = api.post("/auth/refresh").mock(side_effect=slow_refresh)
    client = make_sync_client(refresh_token="tok-refresh-1")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            client.auth.me()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert errors == []
    assert refresh.call_count == 1
    assert me.call_count == 16


def test_a_refresh_without_a_thread_of_its_own_runs_in_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flight = _backends.SingleFlight()
    ran_in: list[threading.Thread] = []

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    with monkeypatch.context() as patched:
        patched.setattr(threading.Thread, "start", no_thread)
        flight.join(lambda: ran_in.append(threading.current_thread()))
    # The next job gets a thread again: no flight was left behind that never lands.
    flight.join(lambda: ran_in.append(threading.current_thread()))
    assert ran_in[0] is threading.current_thread()
    assert ran_in[1] is not threading.current_thread()


def test_every_caller_of_a_failed_flight_gets_the_jobs_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    callers = 4
    waiting = threading.Semaphore(0)

    class _CountedFlight(_backends._Flight):
        __slots__ = ()

        def __init__(self) -> None:
            super().__init__()
            wait = self.done.wait

            def counted_wait(timeout: float | None = None) -> bool:
                waiting.release()
                return wait(timeout)

            self.done.wait = counted_wait  # type: ignore[method-assign]

    monkeypatch.setattr(_backends, "_Flight", _CountedFlight)
    flight = _backends.SingleFlight()

    def job() -> None:
        for _ in range(callers):  # every caller waits for this run before it fails
            assert waiting.acquire(timeout=10)
        raise ValueError("refresh failed")

    depths: list[int] = []

    def call() -> None:
        try:
            flight.join(job)
        except ValueError as exc:
            depths.append(len(traceback.extract_tb(exc.__traceback__)))

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    # Without a reset each caller's traceback would carry the frames of those before it.
    assert len(depths) == callers
    assert len(set(depths)) == 1


async def test_failed_refresh_raises_once_for_everyone_without_looping(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    me = _me_route(api)
    refresh = api.post("/auth/refresh").respond(401, json={"detail": "refresh token revoked"})
    client = make_client(refresh_token="tok-refresh-1")
    results = await asyncio.gather(*(client.auth.me() for _ in range(5)), return_exceptions=True)
    assert all(isinstance(result, ViksaAuthenticationError) for result in results)
    assert refresh.call_count == 1
    assert me.call_count == 5
    error = results[0]
    assert isinstance(error, ViksaAuthenticationError)
    assert error.details[0].code == "refresh_failed"
    assert "log in again" in str(error)
    assert "tok-refresh-1" not in str(error)


async def test_refreshes_are_logged_at_info_without_secrets(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _me_route(api)
    api.post("/auth/refresh").respond(200, json=tokens())
    client = make_client(refresh_token="tok-refresh-1")
    with caplog.at_level(logging.INFO, logger="viksa_ai"):
        await client.auth.me()
    assert "refreshing it" in caplog.text
    for secret in ("tok-access-1", "tok-access-2", "tok-refresh-1", "tok-refresh-2"):
        assert secret not in caplog.text


async def test_a_refresh_that_lost_the_race_replays_with_the_token_that_won(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    me = _me_route(api)
    client = make_client(refresh_token="tok-refresh-1")

    def refresh(request: httpx.Request) -> httpx.Response:
        # Meanwhile a blocking twin (its own lock) refreshed the shared token: the
        # platform now refuses the refresh token this request carries.
        client._settings.credentials.adopt(TokenResponse.model_validate(tokens()))
        return httpx.Response(401, json={"detail": "refresh token already used"})

    api.post("/auth/refresh").mock(side_effect=refresh)
    user = await client.auth.me()
    assert user.email == "me@example.com"
    assert [call.request.headers["authorization"] for call in me.calls] == [OLD, NEW]
    assert client._settings.credentials.failed_generation is None


async def test_replay_failing_again_is_not_refreshed_again(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    me = api.get("/auth/me").respond(401, json={"detail": "no"})
    refresh = api.post("/auth/refresh").respond(200, json=tokens())
    client = make_client(refresh_token="tok-refresh-1")
    with pytest.raises(ViksaAuthenticationError, match="-> 401: no"):
        await client.auth.me()
    assert me.call_count == 2
    assert refresh.call_count == 1


async def test_api_key_clients_never_refresh(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    me = api.get("/auth/me").respond(401)
    refresh = api.post("/auth/refresh").respond(200, json={})
    client = make_client(api_key="vk_live_1")
    with pytest.raises(ViksaAuthenticationError):
        await client.auth.me()
    assert me.calls.last.request.headers["authorization"] == "Bearer vk_live_1"
    assert me.call_count == 1
    assert refresh.call_count == 0


async def test_without_refresh_token_401_is_raised(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    api.get("/auth/me").respond(401)
    client = make_client()
    with pytest.raises(ViksaAuthenticationError):
        await client.auth.me()
    with pytest.raises(ViksaConfigError, match="refresh token"):
        await client.auth.refresh()


def test_api_key_and_refresh_token_do_not_mix() -> None:
    with pytest.raises(ViksaConfigError):
        ViksaClient(api_key="vk", refresh_token="r")
    with pytest.raises(ViksaConfigError):
        ViksaClient("tok", api_key="vk")


async def test_login_adopts_tokens_and_tenant(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    api.post("/auth/individual/login").respond(
        200, json=tokens(org_id="org-9", project_id="proj-9")
    )
    me = api.get("/auth/me").respond(200, json=ME)
    client = make_client(access_token=None)
    result = await client.auth.login("me@example.com", "pw")
    assert result.access_token == "tok-access-2"
    assert (client.org_id, client.project_id) == ("org-9", "proj-9")
    await client.auth.me()
    sent = me.calls.last.request.headers
    assert sent["authorization"] == NEW
    assert sent["x-tenant-org-id"] == "org-9"
    assert sent["x-tenant-project-id"] == "proj-9"


async def test_switches_adopt_tokens_and_tenant(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    api.post("/auth/switch-org").respond(200, json=tokens(org_id="org-2"))
    api.post("/auth/switch-project").respond(
        200, json=tokens(access="tok-access-3", project_id="proj-3")
    )
    me = api.get("/auth/me").respond(200, json=ME)
    client = make_client(org_id="org-1", project_id="proj-1")
    await client.auth.switch_org("org-2")
    # proj-1 belongs to org-1: it must not travel with org-2 (the answer named no project).
    assert (client.org_id, client.project_id) == ("org-2", None)
    await client.auth.switch_project("proj-3")
    await client.auth.me()
    sent = me.calls.last.request.headers
    assert sent["authorization"] == "Bearer tok-access-3"
    assert (sent["x-tenant-org-id"], sent["x-tenant-project-id"]) == ("org-2", "proj-3")


async def test_switch_with_an_expired_token_refreshes_then_switches(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") == NEW:
            return httpx.Response(200, json=tokens(access="tok-access-3", org_id="org-2"))
        return httpx.Response(401, json={"detail": "token expired"})

    switch = api.post("/auth/switch-org").mock(side_effect=answer)
    refresh = api.post("/auth/refresh").respond(200, json=tokens())
    client = make_client(org_id="org-1", refresh_token="tok-refresh-1")
    await client.auth.switch_org("org-2")
    assert refresh.call_count == 1
    assert [call.request.headers["authorization"] for call in switch.calls] == [OLD, NEW]
    assert client.org_id == "org-2"
    assert client._settings.credentials.authorization == "Bearer tok-access-3"


async def test_switches_move_to_the_tenant_asked_for_when_the_answer_names_none(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    # An org without projects: the platform answers org_id and project_id as null.
    api.post("/auth/switch-org").respond(200, json=tokens(org_id=None, project_id=None))
    api.post("/auth/switch-project").respond(200, json=tokens(access="tok-access-3"))
    me = api.get("/auth/me").respond(200, json=ME)
    client = make_client(org_id="org-1", project_id="proj-1")
    await client.auth.switch_org("org-2")
    await client.auth.me()
    sent = me.calls.last.request.headers
    assert sent["x-tenant-org-id"] == "org-2"
    assert "x-tenant-project-id" not in sent  # the token's own project, not org-1's
    await client.auth.switch_project("proj-7")
    await client.auth.me()
    sent = me.calls.last.request.headers
    assert (sent["x-tenant-org-id"], sent["x-tenant-project-id"]) == ("org-2", "proj-7")
    assert (client.org_id, client.project_id) == ("org-2", "proj-7")


async def test_refresh_and_login_keep_the_ids_their_answer_leaves_out(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    api.post("/auth/refresh").respond(200, json=tokens())
    api.post("/auth/individual/login").respond(200, json=tokens(project_id="proj-2"))
    client = make_client(org_id="org-1", project_id="proj-1", refresh_token="tok-refresh-1")
    await client.auth.refresh()
    assert (client.org_id, client.project_id) == ("org-1", "proj-1")
    await client.auth.login("me@example.com", "pw")
    assert (client.org_id, client.project_id) == ("org-1", "proj-2")


async def test_login_on_an_api_key_client_makes_later_calls_as_the_user(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    api.post("/auth/individual/login").respond(200, json=tokens())
    me = api.get("/auth/me").respond(200, json=ME)
    client = make_client(api_key="vk_1")
    await client.auth.me()
    await client.auth.login("me@example.com", "pw")
    await client.auth.me()
    assert [call.request.headers["authorization"] for call in me.calls] == ["Bearer vk_1", NEW]
    assert "auth='jwt'" in repr(client)


async def test_refresh_adopts_the_new_refresh_token(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    refresh = api.post("/auth/refresh")
    refresh.side_effect = [
        httpx.Response(200, json=tokens(refresh="tok-refresh-2")),
        httpx.Response(200, json=tokens(access="tok-access-3", refresh="tok-refresh-3")),
    ]
    client = make_client(refresh_token="tok-refresh-1")
    await client.auth.refresh()
    await client.auth.refresh()
    bodies = [json.loads(call.request.content) for call in refresh.calls]
    assert bodies == [{"refresh_token": "tok-refresh-1"}, {"refresh_token": "tok-refresh-2"}]


async def test_from_login(
    api: respx.MockRouter,
    base_url: str,
    backend: HttpBackend,
    tokens: Callable[..., dict[str, Any]],
) -> None:
    login = api.post("/auth/individual/login").respond(200, json=tokens(org_id="o"))
    me = api.get("/auth/me").respond(200, json=ME)
    client = await ViksaClient.from_login(
        "me@example.com",
        "pw",
        base_url=base_url,
        http_backend=backend,
    )
    async with client:
        await client.auth.me()
    assert json.loads(login.calls.last.request.content) == {
        "email": "me@example.com",
        "password": "pw",
    }
    assert me.calls.last.request.headers["authorization"] == NEW


async def test_from_login_failure_closes_and_raises(
    api: respx.MockRouter, base_url: str, backend: HttpBackend
) -> None:
    api.post("/auth/individual/login").respond(401, json={"detail": "bad credentials"})
    with pytest.raises(ViksaAuthenticationError, match="bad credentials"):
        await ViksaClient.from_login(
            "me@example.com",
            "wrong",
            base_url=base_url,
            http_backend=backend,
        )


async def test_login_sync_tokens_serve_the_async_client(
    api: respx.MockRouter, tokens: Callable[..., dict[str, Any]]
) -> None:
    api.post("/auth/individual/login").respond(200, json=tokens(project_id="p"))
    me = api.get("/auth/me").respond(200, json=ME)
    client = ViksaClient.from_login_sync("me@example.com", "pw", base_url="https://api.viksa.test")
    try:
        await client.auth.me()
        assert client.auth.me_sync().email == "me@example.com"
    finally:
        await client.aclose()
    assert [call.request.headers["authorization"] for call in me.calls] == [NEW, NEW]
    assert me.calls.last.request.headers["x-tenant-project-id"] == "p"


@pytest.mark.parametrize(
    ("failure", "raised"),
    [
        (httpx.ConnectError("connection refused"), ViksaTransportError),
        (httpx.Response(503, json={"detail": "down"}), ViksaServerError),
        (httpx.Response(500, json={"detail": "boom"}), ViksaServerError),
        (httpx.Response(429, json={"detail": "slow down"}), ViksaRateLimitError),
    ],
)
async def test_a_transient_refresh_failure_is_raised_and_the_next_401_refreshes_again(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
    failure: Exception | httpx.Response,
    raised: type[ViksaError],
) -> None:
    me = _me_route(api)
    refresh = api.post("/auth/refresh")
    refresh.side_effect = [failure, httpx.Response(200, json=tokens())]
    client = make_client(refresh_token="tok-refresh-1", retry=RetryConfig(max_retries=0))
    with pytest.raises(raised) as caught:
        await client.auth.me()
    assert not isinstance(caught.value, ViksaAuthenticationError)  # no "log in again"
    assert client._settings.credentials.failed_generation is None
    user = await client.auth.me()
    assert user.email == "me@example.com"
    assert refresh.call_count == 2
    assert [call.request.headers["authorization"] for call in me.calls] == [OLD, OLD, NEW]


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_a_refused_refresh_token_is_not_sent_again(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], status: int
) -> None:
    me = _me_route(api)
    refresh = api.post("/auth/refresh").respond(status, json={"detail": "refresh token revoked"})
    client = make_client(refresh_token="tok-refresh-1")
    with pytest.raises(ViksaAuthenticationError, match="refresh token revoked"):
        await client.auth.me()
    with pytest.raises(ViksaAuthenticationError, match="an earlier refresh of the same token"):
        await client.auth.me()
    assert refresh.call_count == 1
    assert me.call_count == 2


def _refusing_me(api: respx.MockRouter, second_refused: threading.Event) -> respx.Route:
    """``_me_route`` that also sets ``second_refused`` when it refuses a second call."""
    refused = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal refused
        if request.headers.get("authorization") == NEW:
            return httpx.Response(200, json=ME)
        refused += 1
        if refused == 2:
            second_refused.set()
        return httpx.Response(401, json={"detail": "token expired"})

    return api.get("/auth/me").mock(side_effect=answer)


def _rotating_refresh(
    api: respx.MockRouter,
    tokens: Callable[..., dict[str, Any]],
    started: threading.Event,
    release: threading.Event,
    *,
    blocking: bool = False,
) -> respx.Route:
    """/auth/refresh of a rotating server: each refresh token works once.

    The first refresh consumes its token on arrival, then holds its answer until
    ``release`` is set. For async clients it waits in a worker thread, so that the loop
    answering (the test's, or the aiohttp bridge's) keeps serving other requests;
    ``blocking`` answers the sync client, whose transport cannot await.
    """
    used: set[str] = set()

    def consume(request: httpx.Request) -> httpx.Response | None:
        token = json.loads(request.content)["refresh_token"]
        if token in used:
            return httpx.Response(401, json={"detail": "refresh token already used"})
        used.add(token)
        started.set()
        return None

    async def answer(request: httpx.Request) -> httpx.Response:
        refused = consume(request)
        if refused is not None:
            return refused
        assert await asyncio.to_thread(release.wait, _STEP_BOUND)
        return httpx.Response(200, json=tokens())

    def answer_sync(request: httpx.Request) -> httpx.Response:
        refused = consume(request)
        if refused is not None:
            return refused
        assert release.wait(_STEP_BOUND)
        return httpx.Response(200, json=tokens())

    route = api.post("/auth/refresh")
    route.side_effect = answer_sync if blocking else answer
    return route


async def test_cancelling_the_call_that_started_the_refresh_does_not_cancel_it(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    started, release, second_refused = threading.Event(), threading.Event(), threading.Event()
    me = _refusing_me(api, second_refused)
    refresh = _rotating_refresh(api, tokens, started, release)
    client = make_client(refresh_token="tok-refresh-1")
    first = asyncio.create_task(client.auth.me())
    assert await asyncio.to_thread(started.wait, _STEP_BOUND)  # the first call's refresh flies
    second = asyncio.create_task(client.auth.me())
    assert await asyncio.to_thread(second_refused.wait, _STEP_BOUND)  # it waits for that refresh
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first  # ends at once, while the refresh is still held
    release.set()
    user = await second
    assert user.email == "me@example.com"
    assert refresh.call_count == 1  # the refresh token was sent once
    assert [call.request.headers["authorization"] for call in me.calls] == [OLD, OLD, NEW]
    assert client._settings.credentials.refresh_token == "tok-refresh-2"


class _Interrupted(BaseException):
    """Stands for the KeyboardInterrupt a user's Ctrl-C raises in the main thread."""


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs POSIX signals")
def test_interrupting_the_thread_that_started_the_refresh_does_not_stop_it(
    api: respx.MockRouter,
    make_sync_client: Callable[..., ViksaSyncClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    assert threading.current_thread() is threading.main_thread()  # signals land here
    started, release, second_refused = threading.Event(), threading.Event(), threading.Event()
    me = _refusing_me(api, second_refused)
    refresh = _rotating_refresh(api, tokens, started, release, blocking=True)
    client = make_sync_client(refresh_token="tok-refresh-1")
    results: list[Any] = []

    def second_call() -> None:
        assert started.wait(_STEP_BOUND)
        try:
            results.append(client.auth.me())
        except BaseException as exc:  # reported by the assertions below
            results.append(exc)

    interrupted = threading.Event()

    def interrupter() -> None:
        # The main thread waits for the refresh it started until release is set. A signal
        # that lands just before the main thread blocks in a lock is handled only once
        # the lock is acquired (CPython checks for signals after a wait, not before), so
        # the signal is sent again until the main thread has taken it, as a user presses
        # Ctrl-C again.
        if not second_refused.wait(_STEP_BOUND):
            return
        while not interrupted.is_set():
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)
            interrupted.wait(0.05)

    def interrupt(signum: int, frame: object) -> None:
        if not interrupted.is_set():  # once: a late signal must not hit the test itself
            interrupted.set()
            raise _Interrupted

    previous = signal.signal(signal.SIGUSR1, interrupt)
    second = threading.Thread(target=second_call)
    killer = threading.Thread(target=interrupter)
    try:
        second.start()
        killer.start()
        with pytest.raises(_Interrupted):
            client.auth.me()  # starts the refresh, then waits for it until interrupted
    finally:
        interrupted.set()  # ends the interrupter, whatever happened
        release.set()
        killer.join(_STEP_BOUND)
        second.join(_STEP_BOUND)
        signal.signal(signal.SIGUSR1, previous)
    # A failure shows the whole story: which call failed, where, after which requests.
    story = [
        "".join(traceback.format_exception(result)) if isinstance(result, BaseException) else result
        for result in results
    ] + [f"{call.request.method} {call.request.url.path}" for call in api.calls]
    assert [type(result).__name__ for result in results] == ["UserResponse"], story
    assert refresh.call_count == 1
    assert [call.request.headers["authorization"] for call in me.calls] == [OLD, OLD, NEW]


@pytest.mark.parametrize("access", ["tok-new\nline-9", "tok-caf\u00e9-9", "", " tok-9 "])
async def test_a_token_answer_that_cannot_be_sent_is_refused_and_not_adopted(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
    access: str,
) -> None:
    # A refresh (or login) answering an access token that cannot travel in a header was
    # adopted: every later call then failed before it was sent ("could not be sent:
    # Illegal header value"), and no 401 ever came to refresh it again.
    me = _me_route(api)
    refresh = api.post("/auth/refresh")
    refresh.side_effect = [
        httpx.Response(200, json=tokens(access)),
        httpx.Response(200, json=tokens()),
    ]
    login = api.post("/auth/individual/login").respond(200, json=tokens(access))
    client = make_client(refresh_token="tok-refresh-1", retry=RetryConfig(max_retries=0))
    with pytest.raises(ViksaDecodeError, match="access token") as caught:
        await client.auth.me()
    assert access.strip() not in str(caught.value) or not access.strip()
    assert caught.value.raw == ""
    credentials = client._settings.credentials
    assert credentials.authorization == OLD  # the old tokens are kept
    assert credentials.refresh_token == "tok-refresh-1"
    user = await client.auth.me()  # the next 401 refreshes again
    assert user.email == "me@example.com"
    assert [call.request.headers["authorization"] for call in me.calls] == [OLD, OLD, NEW]
    with pytest.raises(ViksaDecodeError, match="access token"):
        await client.auth.login("me@example.com", "pw")
    assert login.called
    assert client._settings.credentials.authorization == NEW


def _held_refresh(
    api: respx.MockRouter, tokens: Callable[..., dict[str, Any]], *, blocking: bool = False
) -> tuple[respx.Route, respx.Route, threading.Event]:
    """``_refusing_me`` and a ``_rotating_refresh`` held until the event returned is set."""
    release = threading.Event()
    me = _refusing_me(api, threading.Event())
    return (
        me,
        _rotating_refresh(api, tokens, threading.Event(), release, blocking=blocking),
        release,
    )


_DEADLINE = RequestOptions(retry=RetryConfig(deadline=0.2))


async def test_a_call_waits_for_a_refresh_no_longer_than_its_deadline(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    # The refresh a 401 started was waited for without bound: a call with a 1 s deadline
    # whose refresh took 3 s raised after 3 s. It now raises at its deadline; the refresh
    # goes on, and its tokens serve the next calls.
    me, refresh, release = _held_refresh(api, tokens)
    client = make_client(refresh_token="tok-refresh-1")
    with pytest.raises(ViksaTimeoutError, match="deadline"):
        await client.auth.me(options=_DEADLINE)  # the refresh is held until release
    release.set()
    assert (await client.auth.me()).email == "me@example.com"
    assert (refresh.call_count, me.calls.last.request.headers["authorization"]) == (1, NEW)


def test_a_sync_call_waits_for_a_refresh_no_longer_than_its_deadline(
    api: respx.MockRouter,
    make_sync_client: Callable[..., ViksaSyncClient],
    tokens: Callable[..., dict[str, Any]],
) -> None:
    me, refresh, release = _held_refresh(api, tokens, blocking=True)
    client = make_sync_client(refresh_token="tok-refresh-1")
    with pytest.raises(ViksaTimeoutError, match="deadline"):
        client.auth.me(options=_DEADLINE)
    release.set()
    assert client.auth.me().email == "me@example.com"
    assert (refresh.call_count, me.calls.last.request.headers["authorization"]) == (1, NEW)
