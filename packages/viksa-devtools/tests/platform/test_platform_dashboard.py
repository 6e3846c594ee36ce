"""The dashboard over HTTP (no browser): sign-in, cookies, CSRF, pages, offline docs.

The browser tests (``tests-integration/test_dashboard_browser.py``) drive the same
pages in Chromium; these pin the rules a browser cannot show: what is refused and why.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.http._dashboard._access import COOKIE, CSRF_HEADER, FORM_COOKIE
from viksa_ai.devtools.platform.http._serve import banner

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


async def _signed_in(viksa_platform: LocalPlatform, browser: httpx.AsyncClient) -> str:
    """Sign ``browser`` in through a one-time link; the page's CSRF token."""
    token = viksa_platform.platform.dashboard.issue_link(viksa_platform.credentials.email)
    answer = await browser.get("/dashboard/sign-in", params={"token": token})
    assert (answer.status_code, answer.headers["location"]) == (303, "/")
    home = await browser.get("/")
    assert home.status_code == 200
    found = _CSRF.search(home.text)
    assert found is not None
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
    assert first.status_code == 303
    cookie = first.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower()
    browser.cookies.clear()
    again = await browser.get("/dashboard/sign-in", params={"token": token})
    assert again.status_code == 401
    assert "used already" in again.text
    assert COOKIE not in again.headers.get("set-cookie", "")


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
    assert (right.status_code, right.headers["location"]) == (303, "/")
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


async def test_every_action_needs_the_pages_csrf_token_and_its_own_origin(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    csrf = await _signed_in(viksa_platform, browser)
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
    assert viksa_platform.platform.faults.armed() == []
    armed = await browser.post(
        "/dashboard/api/faults", json=body, headers={CSRF_HEADER: csrf, "Origin": _ORIGIN}
    )
    assert armed.status_code == 200, armed.text
    assert [f["status"] for f in viksa_platform.platform.faults.armed()] == [503]
    cleared = await browser.delete("/dashboard/api/faults", headers={CSRF_HEADER: csrf})
    assert (cleared.status_code, viksa_platform.platform.faults.armed()) == (200, [])


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
