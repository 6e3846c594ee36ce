"""The dashboard over HTTP (no browser): sign-in, cookies, CSRF, pages, offline docs.

The browser tests (``tests-integration/test_dashboard_browser.py``) drive the same
pages in Chromium; these pin the rules a browser cannot show: what is refused and why.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import AsyncExitStack, asynccontextmanager
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.http._dashboard._access import COOKIE, CSRF_HEADER, FORM_COOKIE
from viksa_ai.devtools.platform.http._serve import banner
from viksa_ai.devtools.platform.services._dashboard import FEEDS_PER_USER

Manifest = dict[str, Any]
Execute = Callable[..., dict[str, Any]]
_CSRF = re.compile(r'<meta name="viksa-csrf" content="([^"]+)">')
_FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
_ORIGIN = "http://127.0.0.1"


@pytest.fixture
async def browser(viksa_platform: LocalPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client without credentials: it holds cookies, as a browser does."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=viksa_platform.app), base_url=_ORIGIN, timeout=30
    ) as client:
        yield client


async def _signed_in(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, email: str | None = None
) -> str:
    """Sign ``browser`` in through a one-time link (the seeded user's); the action token
    that answer hands over (the page's script keeps it)."""
    token = viksa_platform.platform.dashboard.issue_link(email or viksa_platform.credentials.email)
    answer = await browser.get("/dashboard/sign-in", params={"token": token})
    handed = _handed_token(answer)
    # Sent with every later request, as the pages' script sends it (see _access).
    browser.headers[CSRF_HEADER] = handed
    return handed


def _handed_token(answer: httpx.Response) -> str:
    """The action token a successful sign-in answers (a page the script leaves for ``/``)."""
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    found = _CSRF.search(answer.text)
    assert found is not None, answer.text
    return found[1]


async def test_pages_send_a_stranger_to_the_sign_in_page(browser: httpx.AsyncClient) -> None:
    for path in ("/", "/dashboard/executions", "/dashboard/secrets", "/dashboard/events"):
        answer = await browser.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/dashboard/sign-in")
    form = await browser.get("/dashboard/sign-in")
    assert form.status_code == 200
    assert 'type="password"' in form.text


async def test_the_one_time_link_signs_in_once_with_a_strict_cookie(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    token = viksa_platform.platform.dashboard.issue_link(viksa_platform.credentials.email)
    first = await browser.get("/dashboard/sign-in", params={"token": token})
    _handed_token(first)
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower()
    browser.cookies.clear()
    again = await browser.get("/dashboard/sign-in", params={"token": token})
    assert again.status_code == 401
    assert "used already" in again.text
    assert COOKIE not in again.headers.get("set-cookie", "")


async def test_a_sign_in_link_expires_unused(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from viksa_ai.devtools.platform.services import _dashboard

    token = viksa_platform.platform.dashboard.issue_link(viksa_platform.credentials.email)
    later = time.time() + _dashboard._LINK_TTL_SECONDS + 1
    monkeypatch.setattr(_dashboard, "time", SimpleNamespace(time=lambda: later))
    answer = await browser.get("/dashboard/sign-in", params={"token": token})
    assert answer.status_code == 401
    assert "has expired" in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")


async def test_the_dev_credentials_sign_in_on_the_form(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    form = await browser.get("/dashboard/sign-in")
    assert FORM_COOKIE in form.headers["set-cookie"]
    found = _FORM_TOKEN.search(form.text)
    assert found is not None
    fields = {"email": viksa_platform.credentials.email, "form_token": found[1]}
    wrong = await browser.post("/dashboard/sign-in", data={**fields, "password": "nope"})
    assert wrong.status_code == 401
    assert "Incorrect email or password" in wrong.text
    again = _FORM_TOKEN.search(wrong.text)
    assert again is not None
    right = await browser.post(
        "/dashboard/sign-in",
        data={**fields, "form_token": again[1], "password": viksa_platform.credentials.password},
    )
    _handed_token(right)
    assert (await browser.get("/")).status_code == 200


async def test_a_sign_in_without_the_forms_own_token_is_refused(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    # A page elsewhere can post the form, but cannot read or set the form's cookie.
    fields = {
        "email": viksa_platform.credentials.email,
        "password": viksa_platform.credentials.password,
        "form_token": "guessed",
    }
    answer = await browser.post("/dashboard/sign-in", data=fields)
    assert answer.status_code == 403
    assert COOKIE not in answer.headers.get("set-cookie", "")
    cross = await browser.post(
        "/dashboard/sign-in", data=fields, headers={"Origin": "http://evil.example"}
    )
    assert cross.status_code == 403


async def test_a_sign_in_form_with_too_many_fields_is_refused_not_a_crash(
    browser: httpx.AsyncClient,
) -> None:
    form = await browser.get("/dashboard/sign-in")
    found = _FORM_TOKEN.search(form.text)
    assert found is not None
    fields = {f"field{i}": "x" for i in range(11)}
    answer = await browser.post("/dashboard/sign-in", data={**fields, "form_token": found[1]})
    assert answer.status_code == 400
    assert "The form could not be read" in answer.text
    assert COOKIE not in answer.headers.get("set-cookie", "")


async def test_every_action_needs_the_pages_csrf_token_and_its_own_origin(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    csrf = await _signed_in(viksa_platform, browser)
    del browser.headers[CSRF_HEADER]  # each request below sends what it names
    body = {"spec": "status=503;count=1;path=/builder"}
    missing = await browser.post("/dashboard/api/faults", json=body)
    assert (missing.status_code, missing.json()["detail"]["code"]) == (403, "csrf_failed")
    wrong = await browser.post("/dashboard/api/faults", json=body, headers={CSRF_HEADER: "x"})
    assert wrong.status_code == 403
    cross = await browser.post(
        "/dashboard/api/faults",
        json=body,
        headers={
            CSRF_HEADER: csrf,
            "Origin": "http://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert (cross.status_code, cross.json()["detail"]["code"]) == (403, "cross_site")
    # Another origin of this very host: another scheme, another port, an opaque origin.
    for origin in ("https://127.0.0.1", "http://127.0.0.1:8000", "evil://127.0.0.1", "null"):
        other = await browser.post(
            "/dashboard/api/faults", json=body, headers={CSRF_HEADER: csrf, "Origin": origin}
        )
        assert (other.status_code, other.json()["detail"]["code"]) == (403, "cross_site"), origin
    assert viksa_platform.platform.faults.armed() == []
    armed = await browser.post(
        "/dashboard/api/faults", json=body, headers={CSRF_HEADER: csrf, "Origin": _ORIGIN}
    )
    assert armed.status_code == 200, armed.text
    assert [f["status"] for f in viksa_platform.platform.faults.armed()] == [503]
    cleared = await browser.delete("/dashboard/api/faults", headers={CSRF_HEADER: csrf})
    assert (cleared.status_code, viksa_platform.platform.faults.armed()) == (200, [])


async def test_an_idempotency_key_replays_no_dashboard_answer_to_another_browser(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, deployed: Manifest
) -> None:
    # A key's owner comes from a bearer token; the dashboard signs in by cookie, so a
    # kept answer would be replayed to any browser, and before the session check.
    csrf = await _signed_in(viksa_platform, browser)
    body = {"agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {"text": "mine"}}
    key = {"Idempotency-Key": "run-1"}
    ran = await browser.post("/dashboard/api/run", json=body, headers={CSRF_HEADER: csrf, **key})
    assert ran.json()["status"] == "completed", ran.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=viksa_platform.app), base_url=_ORIGIN, timeout=30
    ) as stranger:
        again = await stranger.post("/dashboard/api/run", json=body, headers=key)
    assert (again.status_code, again.json()["detail"]["code"]) == (401, "not_signed_in")
    assert "mine" not in again.text


async def test_a_csrf_header_of_any_bytes_is_refused_not_a_crash(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    # Header values arrive as latin-1 text: compare_digest refuses a non-ASCII str (500).
    await _signed_in(viksa_platform, browser)
    for sent in (b"\xff", "é".encode(), b"tok\xe2\x80\x8b"):
        answer = await browser.post(
            "/dashboard/api/run", json={}, headers={CSRF_HEADER.encode(): sent}
        )
        assert (answer.status_code, answer.json()["detail"]["code"]) == (403, "csrf_failed")


async def test_an_action_without_a_session_is_401(browser: httpx.AsyncClient) -> None:
    answer = await browser.post("/dashboard/api/run", json={}, headers={CSRF_HEADER: "x"})
    assert (answer.status_code, answer.json()["detail"]["code"]) == (401, "not_signed_in")


async def test_a_fault_for_every_request_spares_the_dashboard(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    await _signed_in(viksa_platform, browser)
    armed = await http.post("/_dev/faults", json={"spec": "status=503;count=5"})
    assert armed.status_code == 201
    for path in ("/", "/dashboard/faults", "/docs"):
        assert (await browser.get(path)).status_code == 200
    assert (await http.get("/builder/agent/list")).status_code == 503


async def test_run_answers_the_record_with_its_inputs_and_traceback(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, deployed: Manifest
) -> None:
    csrf = await _signed_in(viksa_platform, browser)
    headers = {CSRF_HEADER: csrf}
    body = {"agent_id": deployed["id"], "endpoint": "echo.main.fail", "inputs": {}}
    failed = (await browser.post("/dashboard/api/run", json=body, headers=headers)).json()
    assert failed["status"] == "failed"
    assert "RuntimeError: boom" in failed["traceback"]
    assert failed["source"] == "dashboard"
    bad = {**body, "endpoint": "echo.main.echo", "inputs": {"text": 3}}
    refused = await browser.post("/dashboard/api/run", json=bad, headers=headers)
    assert refused.status_code == 422
    page = await browser.get(f"/dashboard/executions/{failed['execution_id']}")
    assert "RuntimeError: boom" in page.text


async def test_secret_values_never_reach_a_page(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, deployed: Manifest
) -> None:
    await _signed_in(viksa_platform, browser)
    page = await browser.get("/dashboard/secrets")
    assert "svc" in page.text
    assert "s3cr3t" not in page.text
    agents = await browser.get("/")
    assert "s3cr3t" not in agents.text


async def test_pages_forbid_inline_script_framing_and_caching(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, deployed: Manifest
) -> None:
    await _signed_in(viksa_platform, browser)
    for path in ("/", "/dashboard/executions", "/dashboard/approvals", "/dashboard/triggers"):
        page = await browser.get(path)
        assert page.status_code == 200, path
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert page.headers["cache-control"] == "no-store"
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None
        assert "https://" not in page.text


async def test_an_endpoints_form_follows_its_declared_inputs(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, deployed: Manifest
) -> None:
    await _signed_in(viksa_platform, browser)
    page = await browser.get(f"/dashboard/agents/{deployed['id']}/endpoints/slow")
    assert page.status_code == 200
    control = re.search(r'<input [^>]*id="input-seconds"[^>]*>', page.text)
    assert control is not None
    for rule in ('data-type="float"', 'type="number"', 'min="0"', 'max="30"', 'step="any"'):
        assert rule in control[0]
    assert '<label for="input-seconds">seconds</label>' in page.text
    missing = await browser.get(f"/dashboard/agents/{deployed['id']}/endpoints/nothing")
    assert missing.status_code == 404


_SECONDS = {"name": "seconds", "type": "float"}


async def _echo_form(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    body: Manifest,
) -> httpx.Response:
    """The run form of the echo endpoint of a new agent ``body`` describes, signed in."""
    created = await http.post("/builder/agent/create", json=body)
    assert created.status_code == 201, created.text
    await _signed_in(viksa_platform, browser)
    return await browser.get(f"/dashboard/agents/{created.json()['id']}/endpoints/echo")


async def test_the_run_form_leaves_an_agents_pattern_to_the_platform(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    manifest: Callable[..., Manifest],
) -> None:
    # The agent wrote the pattern: one built to backtrack (a JavaScript regex has no bound)
    # would freeze the tab as the user types. The page shows it; the platform checks it.
    text = {"name": "text", "type": "string", "pattern": "^(a|aa)+$"}
    page = await _echo_form(viksa_platform, browser, http, manifest(inputs=[text, _SECONDS]))
    control = re.search(r'<(?:input|textarea) [^>]*id="input-text"[^>]*>', page.text)
    assert control is not None
    assert "pattern" not in control[0]
    assert "matches ^(a|aa)+$" in html.unescape(page.text)
    script = (await browser.get("/dashboard/static/dashboard.js")).text
    assert "dataset.pattern" not in script


async def test_a_choice_is_sent_as_the_declared_value_not_as_what_it_looks_like(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    manifest: Callable[..., Manifest],
) -> None:
    # The page JSON-parses a choice's value: the string "1" must not become the number 1.
    allowed = ["1", "true", "null", "[]", "plain", 2]
    text = {"name": "text", "type": "string", "allowed_values": allowed}
    page = await _echo_form(viksa_platform, browser, http, manifest(inputs=[text, _SECONDS]))
    select = re.search(r'<select [^>]*id="input-text".*?</select>', page.text)
    assert select is not None
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select[0])
    sent = [json.loads(html.unescape(value)) for value, _ in options]
    assert sent == allowed
    assert [html.unescape(label) for _, label in options] == [*allowed[:-1], "2"]


async def test_the_executions_page_filters_like_the_api(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    deployed: Manifest,
    execute: Execute,
) -> None:
    await _signed_in(viksa_platform, browser)
    ok = (
        await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="a"))
    ).json()
    bad = (await http.post("/pulse/executor/execute", json=execute(deployed, "fail"))).json()
    page = await browser.get("/dashboard/executions", params={"status": "failed"})
    assert bad["execution_id"] in page.text
    assert ok["execution_id"] not in page.text
    later = await browser.get("/dashboard/executions", params={"since": "2999-01-01T00:00"})
    assert "No execution matches." in later.text
    nonsense = await browser.get("/dashboard/executions", params={"since": "soon"})
    assert nonsense.status_code == 422


async def test_revoking_the_session_signs_the_browser_out(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    await _signed_in(viksa_platform, browser)
    accounts = viksa_platform.platform.accounts
    user = viksa_platform.credentials.user_id
    assert accounts.revoke_all_sessions(user) >= 1
    answer = await browser.get("/")
    assert answer.status_code == 303


async def test_sign_out_ends_the_session(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    csrf = await _signed_in(viksa_platform, browser)
    out = await browser.post("/dashboard/api/sign-out", headers={CSRF_HEADER: csrf})
    assert out.status_code == 200
    assert (await browser.get("/")).status_code == 303


async def test_docs_load_swagger_from_this_server(browser: httpx.AsyncClient) -> None:
    docs = await browser.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', docs.text):
        assert (await browser.get(asset)).status_code == 200, asset
    assert "/docs/assets/swagger-ui-bundle.js" in docs.text
    redoc = await browser.get("/redoc")
    assert (redoc.status_code, redoc.headers["location"]) == (307, "/docs")


async def test_the_docs_pages_are_never_framed(browser: httpx.AsyncClient) -> None:
    for path in ("/docs", "/docs/oauth2-redirect"):
        answer = await browser.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"], path


def test_the_banner_prints_the_dashboard_link_on_a_line_of_its_own(
    viksa_platform: LocalPlatform,
) -> None:
    text = banner(
        "http://127.0.0.1:8765", viksa_platform.credentials, None, [], sign_in_token="vdl_token"
    )
    [line] = [line for line in text.splitlines() if line.startswith("dashboard")]
    assert line.startswith("dashboard http://127.0.0.1:8765/dashboard/sign-in?token=vdl_token")


async def test_the_execution_page_shows_the_runs_spans_as_a_timeline(
    otel_spans: Any, viksa_platform: LocalPlatform, browser: httpx.AsyncClient, deployed: Manifest
) -> None:
    csrf = await _signed_in(viksa_platform, browser)
    body = {"agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {"text": "tl-in"}}
    run = await browser.post("/dashboard/api/run", json=body, headers={CSRF_HEADER: csrf})
    assert run.json()["status"] == "completed", run.text
    page = (await browser.get(f"/dashboard/executions/{run.json()['execution_id']}")).text
    timeline = page[page.index("<h2>Timeline</h2>") : page.index("<h2>A2A envelope</h2>")]
    rows = re.findall(r'<th scope="row" class="depth-\d">(.*?)</th>', timeline)
    names = [re.sub(r"<[^>]+>", "", row) for row in rows]
    assert names == [
        "POST /dashboard/api/run",
        "viksa.validate (in POST /dashboard/api/run)",
        "viksa.run (in POST /dashboard/api/run)",
        "viksa.queue (in viksa.run)",
        "viksa.worker.call echo (in viksa.run)",
    ]
    assert "<code>viksa.endpoint=echo.main.echo</code>" in timeline
    # Inputs, results and secrets stay out of the spans.
    assert "tl-in" not in timeline
    assert "s3cr3t" not in timeline


async def test_an_execution_page_shows_no_span_of_another_account_in_its_trace(
    otel_spans: Any,
    viksa_platform: LocalPlatform,
    http: httpx.AsyncClient,
    browser: httpx.AsyncClient,
    deployed: Manifest,
    manifest: Callable[..., Manifest],
    execute: Execute,
) -> None:
    viksa_platform.platform.accounts.create_user("eve@example.com", "pw-eve-123")
    login = {"email": "eve@example.com", "password": "pw-eve-123"}
    token = (await http.post("/auth/individual/login", json=login)).json()["access_token"]
    eve = {"Authorization": f"Bearer {token}"}
    created = await http.post("/builder/agent/create", json=manifest("evebot"), headers=eve)
    assert created.status_code == 201, created.text
    evebot = created.json()
    for route in ("/builder/builder/", "/builder/deploy/"):
        answer = await http.post(route, json={"agent_id": evebot["id"]}, headers=eve)
        assert answer.status_code == 200, answer.text
    mine = await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="a"))
    assert mine.json()["status"] == "completed", mine.text
    [route] = [s for s in otel_spans.get_finished_spans() if s.name.startswith("POST /pulse")]
    seen = route.get_span_context()
    # Eve joins that trace, naming its recorded route span as her request's parent.
    joined = {"traceparent": f"00-{seen.trace_id:032x}-{seen.span_id:016x}-01"}
    theirs = await http.post(
        "/pulse/executor/execute",
        json=execute(evebot, "echo", text="e"),
        headers={**eve, **joined},
    )
    assert theirs.json()["status"] == "completed", theirs.text
    eves_record = viksa_platform.platform.store.get("execution", theirs.json()["execution_id"])
    assert eves_record is not None
    assert eves_record["trace_id"] == f"{seen.trace_id:032x}"  # one trace, two accounts

    await _signed_in(viksa_platform, browser)
    my_page = (await browser.get(f"/dashboard/executions/{mine.json()['execution_id']}")).text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=viksa_platform.app), base_url=_ORIGIN, timeout=30
    ) as eves_browser:
        await _signed_in(viksa_platform, eves_browser, "eve@example.com")
        path = f"/dashboard/executions/{theirs.json()['execution_id']}"
        eves_page = (await eves_browser.get(path)).text
    assert "<code>viksa.endpoint=echo.main.echo</code>" in my_page
    assert "evebot" not in my_page
    assert "<code>viksa.endpoint=evebot.main.echo</code>" in eves_page
    assert "echo.main.echo" not in eves_page
    assert f'data-span="{seen.span_id:016x}"' not in eves_page


async def test_without_tracing_the_execution_page_says_how_to_turn_it_on(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    deployed: Manifest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from viksa_ai.devtools.platform._spans import SpanRecorder
    from viksa_ai.devtools.platform.http._dashboard import _routes

    # As in a process without the OpenTelemetry SDK: no span processor feeds it.
    monkeypatch.setattr(_routes, "RECORDER", SpanRecorder())
    csrf = await _signed_in(viksa_platform, browser)
    body = {"agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {"text": "x"}}
    run = await browser.post("/dashboard/api/run", json=body, headers={CSRF_HEADER: csrf})
    page = (await browser.get(f"/dashboard/executions/{run.json()['execution_id']}")).text
    assert "Tracing is off" in page
    assert "pip install &quot;viksa-devtools[otel]&quot;" in page


@asynccontextmanager
async def _eves_browser(
    viksa_platform: LocalPlatform, http: httpx.AsyncClient
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A second account (its own org and project) signed in to the dashboard; its CSRF."""
    viksa_platform.platform.accounts.create_user("eve@example.com", "pw-eve-123")
    login = {"email": "eve@example.com", "password": "pw-eve-123"}
    token = (await http.post("/auth/individual/login", json=login)).json()["access_token"]
    eve = {"Authorization": f"Bearer {token}"}
    org = (await http.post("/org/create", json={"name": "eve"}, headers=eve)).json()
    project = await http.post(
        "/project/create", json={"org_id": org["id"], "name": "p"}, headers=eve
    )
    assert project.status_code == 201, project.text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=viksa_platform.app), base_url=_ORIGIN, timeout=30
    ) as client:
        yield client, await _signed_in(viksa_platform, client, "eve@example.com")


async def test_another_account_sees_and_acts_on_none_of_the_projects_records(
    viksa_platform: LocalPlatform,
    http: httpx.AsyncClient,
    deployed: Manifest,
    execute: Execute,
) -> None:
    ran = await http.post("/pulse/executor/execute", json=execute(deployed, "fail"))
    waiting = (
        await http.post("/pulse/executor/execute", json=execute(deployed, "guarded", text="w"))
    ).json()
    assert waiting["status"] == "awaiting_approval", waiting
    trigger = await http.post(
        "/chat/trigger",
        json={"name": "hook-mine", "agent_id": deployed["id"], "endpoint": "echo.main.echo"},
    )
    assert trigger.status_code == 201, trigger.text
    schedule = await http.post(
        "/scheduler/schedule/create",
        json={
            "name": "sched-mine",
            "agent_id": deployed["id"],
            "endpoint": "echo.main.echo",
            "interval_seconds": 3600,
            "inputs": {"text": "t"},
        },
    )
    assert schedule.status_code == 201, schedule.text
    armed = await http.post("/_dev/faults", json={"spec": "status=503;count=9;path=/nowhere"})
    assert armed.status_code == 201, armed.text
    mine = [
        deployed["id"],
        ran.json()["execution_id"],
        waiting["execution_id"],
        waiting["approval_id"],
        trigger.json()["id"],
        "hook-mine",
        "sched-mine",
        "svc",  # the secret's name
        "/nowhere",
    ]
    async with _eves_browser(viksa_platform, http) as (eve, csrf):
        for path in (
            "/",
            "/dashboard/executions",
            f"/dashboard/executions?agent_id={deployed['id']}",
            "/dashboard/approvals",
            "/dashboard/triggers",
            "/dashboard/schedules",
            "/dashboard/secrets",
            "/dashboard/faults",
        ):
            page = await eve.get(path)
            assert page.status_code == 200, path
            assert [m for m in mine if m in page.text] == [], path
        for path in (
            f"/dashboard/executions/{ran.json()['execution_id']}",
            f"/dashboard/agents/{deployed['id']}/endpoints/echo",
        ):
            assert (await eve.get(path)).status_code == 404, path
        headers = {CSRF_HEADER: csrf}
        body = {"agent_id": deployed["id"], "endpoint": "echo.main.echo", "inputs": {"text": "e"}}
        run = await eve.post("/dashboard/api/run", json=body, headers=headers)
        assert run.status_code == 404, run.text
        for decision in ("approve", "reject"):
            path = f"/dashboard/api/approvals/{waiting['approval_id']}/{decision}"
            answer = await eve.post(path, json={"comment": "mine now"}, headers=headers)
            assert answer.status_code in (403, 404), answer.text
    approval = viksa_platform.platform.store.get("approval", waiting["approval_id"])
    assert approval is not None
    assert approval["status"] == "pending"
    assert [f["path"] for f in viksa_platform.platform.faults.armed()] == ["/nowhere"]


LiveFeed = asyncio.Queue[str | None]


def _events_scope(client: httpx.AsyncClient) -> dict[str, Any]:
    """The ASGI scope of ``GET /dashboard/events`` sent with ``client``'s cookie and
    action token (a signed-in client of ``_signed_in``)."""
    cookie = client.cookies.get(COOKIE)
    token = client.headers.get(CSRF_HEADER, "")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/dashboard/events",
        "raw_path": b"/dashboard/events",
        "query_string": urlencode({"csrf_token": token}).encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", f"{COOKIE}={cookie}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def _request_then_disconnect(gone: asyncio.Event) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI ``receive``: an empty request, then the client leaves once ``gone`` is set."""
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    return receive


async def _feed_refused(
    viksa_platform: LocalPlatform, client: httpx.AsyncClient
) -> dict[str, Any] | None:
    """The JSON answer refusing a live feed to ``client``, or None when it was opened
    (then closed at once)."""
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    body = bytearray()
    gone = asyncio.Event()
    receive = _request_then_disconnect(gone)

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start" and not started.done():
            started.set_result(message["status"])
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    served = asyncio.ensure_future(viksa_platform.app(_events_scope(client), receive, send))
    status = await started
    gone.set()
    await served
    if status == 200:
        return None
    answer: dict[str, Any] = {"status": status, **json.loads(body)}
    return answer


@asynccontextmanager
async def _live_feed(
    viksa_platform: LocalPlatform, client: httpx.AsyncClient
) -> AsyncIterator[LiveFeed]:
    """``GET /dashboard/events`` as ``client``, each body chunk handed over as it is sent
    (httpx's ASGI transport would wait for the endless stream to end); None at its end."""
    chunks: asyncio.Queue[str | None] = asyncio.Queue()
    gone = asyncio.Event()
    receive = _request_then_disconnect(gone)

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200, message
        elif message["type"] == "http.response.body":
            if body := bytes(message.get("body", b"")).decode():
                chunks.put_nowait(body)
            if not message.get("more_body", False):
                chunks.put_nowait(None)

    served = asyncio.ensure_future(viksa_platform.app(_events_scope(client), receive, send))
    try:
        assert await chunks.get() == ": connected\n\n"
        yield chunks
    finally:
        gone.set()
        await served


async def test_the_live_feed_ends_when_the_browser_signs_out(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    deployed: Manifest,
    execute: Execute,
) -> None:
    csrf = await _signed_in(viksa_platform, browser)
    async with _live_feed(viksa_platform, browser) as feed:
        out = await browser.post("/dashboard/api/sign-out", headers={CSRF_HEADER: csrf})
        assert out.status_code == 200
        ran = await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="x"))
        assert ran.json()["status"] == "completed", ran.text
        # The execution's notices are not sent to the signed-out browser: its stream ends.
        assert await feed.get() is None


async def test_the_live_feed_carries_only_the_projects_executions(
    viksa_platform: LocalPlatform,
    http: httpx.AsyncClient,
    deployed: Manifest,
    execute: Execute,
) -> None:
    async with _eves_browser(viksa_platform, http) as (eve, _):
        cookie = eve.cookies.get(COOKIE)
        assert cookie is not None
        eves = viksa_platform.platform.dashboard.browser(cookie)
        assert eves is not None
        async with _live_feed(viksa_platform, eve) as feed:
            ran = await http.post(
                "/pulse/executor/execute", json=execute(deployed, "echo", text="x")
            )
            assert ran.json()["status"] == "completed", ran.text
            # Published after both notices of that run: the next event Eve gets.
            viksa_platform.platform.engine.events.publish(
                {
                    "type": "execution",
                    "execution_id": "exe_eves",
                    "project_id": eves.principal.project_id,
                    "status": "running",
                }
            )
            event = await feed.get()
            assert event is not None
            assert "exe_eves" in event
            assert ran.json()["execution_id"] not in event
            assert "project_id" not in event


_MARKUP = "\"'><img src=x onerror=alert(1)></script><script>alert(2)</script>"
_HOSTILE_MAIN = f"""
import sys
from typing import Any, Dict

from ViksaAI import mcp_endpoint

MARKUP = {_MARKUP!r}


@mcp_endpoint(description="Answer markup")
async def shout(payload: Dict[str, Any]):
    print(MARKUP)
    print(MARKUP, file=sys.stderr)
    return {{MARKUP: payload}}


@mcp_endpoint(description="Fail with markup")
async def explode(payload: Dict[str, Any]):
    raise RuntimeError(MARKUP)


@mcp_endpoint(description="Wait for an approval")
async def wait(payload: Dict[str, Any]):
    return payload
"""


async def test_markup_from_agents_and_callers_shows_as_text_on_every_page(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    text = {"name": "text", "type": "string", "description": _MARKUP, "default": _MARKUP}
    choice = {"name": "choice", "type": "string", "allowed_values": [_MARKUP, "plain"]}
    endpoint = {"module": "main", "description": _MARKUP, "outputs": []}
    inputs = [{"input_ref": "text", "required": False}, {"input_ref": "choice", "required": False}]
    manifest = {
        "agent_name": _MARKUP,
        "agent_alias": "markup",
        "agent_description": _MARKUP,
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": _HOSTILE_MAIN, "mime_type": "python"}],
        "requirements": [],
        "inputs": [text, choice],
        "outputs": [{"name": "out", "type": "string", "description": _MARKUP}],
        "agent_endpoints": [
            {**endpoint, "name": "shout", "inputs": inputs, "outputs": ["out"]},
            {**endpoint, "name": "explode", "inputs": []},
            {
                **endpoint,
                "name": "wait",
                "inputs": inputs,
                "execution_config": {"requires_approval": True},
            },
        ],
    }
    created = await http.post("/builder/agent/create", json=manifest)
    assert created.status_code == 201, created.text
    agent = created.json()["id"]
    for route in ("/builder/builder/", "/builder/deploy/"):
        assert (await http.post(route, json={"agent_id": agent})).status_code == 200
    secret = {"name": _MARKUP, "value": "v4lue", "description": _MARKUP}
    assert (await http.post("/builder/secret/create", json=secret)).status_code == 201
    hook = {"name": _MARKUP, "agent_id": agent, "endpoint": "markup.main.shout"}
    trigger = await http.post("/chat/trigger", json=hook)
    assert trigger.status_code == 201, trigger.text
    called = await http.post(
        f"/chat/webhook/trigger/{trigger.json()['id']}",
        json={"text": _MARKUP},
        headers={"Authorization": f"Bearer {trigger.json()['webhook_token']}"},
    )
    assert called.json()["status"] == "completed", called.text
    schedule = {**hook, "interval_seconds": 3600, "inputs": {"choice": _MARKUP}}
    assert (await http.post("/scheduler/schedule/create", json=schedule)).status_code == 201
    armed = await http.post("/_dev/faults", json={"spec": f"status=503;count=1;path=/{_MARKUP}"})
    assert armed.status_code == 201, armed.text
    csrf = await _signed_in(viksa_platform, browser)
    runs = []
    for name, given in (
        ("shout", {"choice": _MARKUP}),
        ("explode", {}),
        ("wait", {"text": _MARKUP}),
    ):
        body = {"agent_id": agent, "endpoint": f"markup.main.{name}", "inputs": given}
        ran = await browser.post("/dashboard/api/run", json=body, headers={CSRF_HEADER: csrf})
        assert ran.status_code == 200, ran.text
        runs.append(ran.json())
    assert [r["status"] for r in runs] == ["completed", "failed", "awaiting_approval"]
    pages = [
        "/",
        "/dashboard/approvals",
        "/dashboard/triggers",
        "/dashboard/schedules",
        "/dashboard/secrets",
        "/dashboard/faults",
        *(f"/dashboard/agents/{agent}/endpoints/{name}" for name in ("shout", "wait")),
        *(f"/dashboard/executions/{r['execution_id']}" for r in runs),
        f"/dashboard/executions/{called.json()['execution_id']}",
    ]
    escaped = "&lt;img src=x onerror=alert(1)&gt;"
    for path in pages:
        page = await browser.get(path)
        assert page.status_code == 200, path
        assert "<img" not in page.text, path
        assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) is None, path
        assert escaped in page.text, path
        assert "v4lue" not in page.text, path
    listing = await browser.get("/dashboard/executions")  # ids and aliases: no free text
    assert listing.text.count('href="/dashboard/executions/') == len(runs) + 1


# Right-to-left override, first-strong isolate, zero-width space, tag "A", line separator.
_HIDDEN = "\u202e\u2068\u200b\U000e0041\u2028"


async def test_an_approval_shows_hidden_and_reordering_characters_of_its_inputs(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    deployed: Manifest,
    execute: Execute,
) -> None:
    # A caller crafts inputs that read as something else than what runs once approved:
    # "pay bob 10" shown, "pay bob 01" (and hidden text) sent.
    text = f"pay bob \u202e10\u202c{_HIDDEN}"
    body = execute(deployed, "guarded", text=text)
    waiting = await http.post("/pulse/executor/execute", json=body)
    assert waiting.json()["status"] == "awaiting_approval", waiting.text
    await _signed_in(viksa_platform, browser)
    pages = ("/dashboard/approvals", f"/dashboard/executions/{waiting.json()['execution_id']}")
    for path in pages:
        page = (await browser.get(path)).text
        assert [c for c in _HIDDEN + "\u202c" if c in page] == [], path
        assert "pay bob \\u202e10\\u202c\\u202e\\u2068\\u200b\\udb40\\udc41\\u2028" in page, path


async def test_one_user_holds_a_bounded_number_of_live_feeds(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, http: httpx.AsyncClient
) -> None:
    # Each feed is an endless answer on a connection of its own: without a bound, one
    # signed-in user could hold every connection the server accepts.
    await _signed_in(viksa_platform, browser)
    async with AsyncExitStack() as feeds:
        for _ in range(FEEDS_PER_USER):
            await feeds.enter_async_context(_live_feed(viksa_platform, browser))
        refused = await _feed_refused(viksa_platform, browser)
        assert refused is not None
        assert (refused["status"], refused["detail"]["code"]) == (429, "too_many_live_feeds")
        async with _eves_browser(viksa_platform, http) as (eve, _):
            assert await _feed_refused(viksa_platform, eve) is None  # counted apart
    assert await _feed_refused(viksa_platform, browser) is None  # closed feeds give room back


async def test_the_approvals_page_says_how_many_wait_and_keeps_each_inputs_short(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    deployed: Manifest,
    execute: Execute,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A webhook's callers can leave any number of approvals, each with inputs as large as
    # a request body: the page once grew with both (40 MB for 200 of 200 kB), and the
    # approvals past the first page were left out without a word.
    from viksa_ai.devtools.platform.services import _overview

    monkeypatch.setattr(_overview, "_LISTED", 2)
    big = "x" * 50_000
    waiting = []
    for n in range(3):
        body = execute(deployed, "guarded", text=f"{n} {big}")
        answer = await http.post("/pulse/executor/execute", json=body)
        assert answer.json()["status"] == "awaiting_approval", answer.text
        waiting.append(answer.json())
    await _signed_in(viksa_platform, browser)
    page = (await browser.get("/dashboard/approvals")).text
    assert "3 approvals are waiting: the oldest 2 are shown." in page
    assert len(page) < 20_000
    for shown in waiting[:2]:
        link = f'<a href="/dashboard/executions/{shown["execution_id"]}">open the execution</a>'
        assert link in page
    assert waiting[2]["approval_id"] not in page
    whole = (await browser.get(f"/dashboard/executions/{waiting[0]['execution_id']}")).text
    assert f"0 {big}" in whole


def _cookie_only(viksa_platform: LocalPlatform, cookie: str) -> httpx.AsyncClient:
    """A client holding a copy of a browser's session cookie and nothing else."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=viksa_platform.app),
        base_url=_ORIGIN,
        cookies={COOKIE: cookie},
        timeout=30,
    )


async def test_a_cookie_alone_reads_no_action_token_so_it_cannot_act(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, deployed: Manifest
) -> None:
    # Cookies are not kept apart by port: a server on any other 127.0.0.1 port that the
    # browser is bounced through (a cross-site page sends it there, that page onwards)
    # receives the dashboard's cookie, and a sandboxed agent may listen there. The action
    # token is answered only by a sign-in and kept by the page's script in storage of
    # this origin alone: with the cookie only, every page reads, no action passes.
    token = await _signed_in(viksa_platform, browser)
    cookie = browser.cookies.get(COOKIE)
    assert cookie is not None
    async with _cookie_only(viksa_platform, cookie) as thief:
        for path in (
            "/",
            "/dashboard/sign-in",
            "/dashboard/executions",
            "/dashboard/approvals",
            "/dashboard/triggers",
            "/dashboard/schedules",
            "/dashboard/secrets",
            "/dashboard/faults",
            f"/dashboard/agents/{deployed['id']}/endpoints/echo",
        ):
            page = await thief.get(path, follow_redirects=True)
            assert page.status_code == 200, path
            assert token not in page.text, path
        body = {"spec": "status=503;count=1;path=/stolen"}
        refused = await thief.post("/dashboard/api/faults", json=body, headers={CSRF_HEADER: ""})
        assert (refused.status_code, refused.json()["detail"]["code"]) == (403, "csrf_failed")
        assert "sign in again" in refused.json()["detail"]["message"]
    assert viksa_platform.platform.faults.armed() == []
    armed = await browser.post("/dashboard/api/faults", json=body, headers={CSRF_HEADER: token})
    assert armed.status_code == 200, armed.text


async def test_a_signed_in_browser_that_lost_its_token_signs_in_again(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    # Its site data cleared but its session cookie kept: without the token it can neither
    # act nor sign out, so the sign-in form must still be offered to it.
    await _signed_in(viksa_platform, browser)
    before = browser.cookies.get(COOKIE)
    form = await browser.get("/dashboard/sign-in")
    assert form.status_code == 200
    found = _FORM_TOKEN.search(form.text)
    assert found is not None
    fields = {
        "email": viksa_platform.credentials.email,
        "password": viksa_platform.credentials.password,
        "form_token": found[1],
    }
    token = _handed_token(await browser.post("/dashboard/sign-in", data=fields))
    armed = await browser.post(
        "/dashboard/api/faults", json={"spec": "status=503;count=1"}, headers={CSRF_HEADER: token}
    )
    assert armed.status_code == 200, armed.text
    # The session it held before is over (a copy of that cookie opens nothing).
    assert viksa_platform.platform.dashboard.browser(before) is None


async def test_a_cookie_alone_reads_nothing_of_the_project(
    viksa_platform: LocalPlatform,
    browser: httpx.AsyncClient,
    http: httpx.AsyncClient,
    deployed: Manifest,
    execute: Execute,
) -> None:
    # What another port's server receives (see above) must not read the project either:
    # the agents' inputs and results may hold what one agent got from the vault. A page
    # asked for without the action token is an empty shell, which the pages' script fills
    # by asking again with the token it keeps.
    ran = await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="x"))
    execution = ran.json()["execution_id"]
    token = await _signed_in(viksa_platform, browser)
    cookie = browser.cookies.get(COOKIE)
    assert cookie is not None
    project = viksa_platform.credentials.project_id
    pages = (
        "/",
        "/dashboard/executions",
        f"/dashboard/executions/{execution}",
        "/dashboard/approvals",
        "/dashboard/secrets",
        "/dashboard/faults",
        f"/dashboard/agents/{deployed['id']}/endpoints/echo",
    )
    async with _cookie_only(viksa_platform, cookie) as thief:
        for path in pages:
            shell = await thief.get(path)
            assert shell.status_code == 200, path
            assert 'name="viksa-shell"' in shell.text, path
            for secret in (project, execution, deployed["id"], "s3cr3t", "svc"):
                assert secret not in shell.text, (path, secret)
        feed = await thief.get("/dashboard/events")
        assert (feed.status_code, feed.json()["detail"]["code"]) == (403, "csrf_failed")
    for path in pages:  # the page's script asks with the token: the page itself
        page = await browser.get(path, headers={CSRF_HEADER: token})
        assert 'name="viksa-shell"' not in page.text, path
        assert project in page.text, path
