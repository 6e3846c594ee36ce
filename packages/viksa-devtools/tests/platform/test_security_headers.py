"""Security headers: every answer on the dashboard's paths carries them, whatever answered
(a page, an action's error, a redirect, a static file, Starlette's 500), and every API
answer says ``nosniff`` without any other change."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.http import _dashboard
from viksa_ai.devtools.platform.http._app import create_app
from viksa_ai.devtools.platform.http._dashboard._access import CSRF_HEADER
from viksa_ai.devtools.platform.http._serve import guard_hosts

_STATIC = Path(_dashboard.__file__).parent / "static"
_CSRF = re.compile(r'<meta name="viksa-csrf" content="([^"]+)">')


@pytest.fixture
async def browser(viksa_platform: LocalPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client; the app's own errors answered as a server answers them."""
    transport = httpx.ASGITransport(app=viksa_platform.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", timeout=30
    ) as client:
        yield client


async def _sign_in(viksa_platform: LocalPlatform, browser: httpx.AsyncClient) -> None:
    token = viksa_platform.platform.dashboard.issue_link(viksa_platform.credentials.email)
    answer = await browser.get("/dashboard/sign-in", params={"token": token})
    found = _CSRF.search(answer.text)
    assert found is not None, answer.text
    browser.headers[CSRF_HEADER] = found[1]


def _assert_dashboard_headers(answer: httpx.Response) -> None:
    where = f"{answer.request.method} {answer.request.url.path} -> {answer.status_code}"
    assert answer.headers.get("x-content-type-options") == "nosniff", where
    assert answer.headers.get("x-frame-options") == "DENY", where
    assert answer.headers.get("referrer-policy") == "same-origin", where
    policy = answer.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in policy, where
    if answer.headers.get("content-type", "").startswith("text/html"):
        assert "script-src 'self'" in policy, where  # a page's own policy, kept
    else:
        assert policy.startswith("default-src 'none'"), where


def test_the_dashboard_ships_static_files() -> None:
    assert {"dashboard.css", "dashboard.js"} <= {p.name for p in _STATIC.iterdir()}


@pytest.mark.parametrize("name", sorted(p.name for p in _STATIC.iterdir() if p.is_file()))
async def test_every_static_file_carries_the_security_headers(
    browser: httpx.AsyncClient, name: str
) -> None:
    answer = await browser.get(f"/dashboard/static/{name}")
    assert answer.status_code == 200
    _assert_dashboard_headers(answer)
    missing = await browser.get("/dashboard/static/no-such-file.js")
    assert missing.status_code == 404
    _assert_dashboard_headers(missing)


async def test_redirects_and_the_sign_in_page_carry_them(browser: httpx.AsyncClient) -> None:
    for path in ("/", "/dashboard/executions", "/dashboard/events"):
        answer = await browser.get(path)
        assert answer.status_code == 303
        _assert_dashboard_headers(answer)
    _assert_dashboard_headers(await browser.get("/dashboard/sign-in"))
    unknown = await browser.get("/dashboard/no-such-page")
    assert unknown.status_code == 404
    _assert_dashboard_headers(unknown)


async def test_json_errors_of_the_dashboard_carry_them(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    unsigned = await browser.post("/dashboard/api/sign-out")
    assert unsigned.status_code == 401
    _assert_dashboard_headers(unsigned)
    await _sign_in(viksa_platform, browser)
    wrong_token = await browser.post("/dashboard/api/run", headers={CSRF_HEADER: "x"}, json={})
    assert wrong_token.status_code == 403
    _assert_dashboard_headers(wrong_token)
    invalid = await browser.post("/dashboard/api/run", json={"inputs": 3})
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "inputs"]
    _assert_dashboard_headers(invalid)
    bad_since = await browser.get("/dashboard/executions", params={"since": "soon"})
    assert bad_since.status_code == 422
    _assert_dashboard_headers(bad_since)
    page = await browser.get("/dashboard/executions")
    assert page.status_code == 200
    _assert_dashboard_headers(page)


async def test_a_full_live_feed_429_carries_them(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _sign_in(viksa_platform, browser)
    monkeypatch.setattr(viksa_platform.platform.dashboard, "feeds_full", lambda _: True)
    token = browser.headers[CSRF_HEADER]
    answer = await browser.get("/dashboard/events", params={"csrf_token": token})
    assert answer.status_code == 429
    _assert_dashboard_headers(answer)


async def test_an_internal_error_on_the_dashboard_carries_them(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(cookie: str | None) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(viksa_platform.platform.dashboard, "browser", broken)
    answer = await browser.get("/dashboard/secrets", headers={"X-Request-Id": "req-500-1"})
    assert answer.status_code == 500
    assert answer.json() == {"detail": "Internal error in the local platform (RuntimeError)."}
    _assert_dashboard_headers(answer)
    # The id a user quotes when reporting the error (it was missing from 500s).
    assert answer.headers["x-request-id"] == "req-500-1"


async def test_api_answers_say_nosniff_and_keep_their_shape(
    viksa_platform: LocalPlatform, browser: httpx.AsyncClient
) -> None:
    unknown = await browser.get("/builder/agent/agt_missing")
    assert unknown.status_code == 401
    assert unknown.json()["detail"]["code"] == "not_authenticated"
    key = {"Authorization": f"Bearer {viksa_platform.credentials.api_key}"}
    missing = await browser.get("/builder/agent/agt_missing", headers=key)
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}
    ok = await browser.get("/auth/me", headers=key)
    for answer in (unknown, missing, ok):
        assert answer.headers["x-content-type-options"] == "nosniff"
        # The dashboard's policies are the dashboard's alone.
        assert "content-security-policy" not in answer.headers
        assert "x-frame-options" not in answer.headers


async def test_the_host_guards_refusal_says_nosniff() -> None:
    app = create_app()
    guarded = guard_hosts(app, "127.0.0.1")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded), base_url="http://127.0.0.1"
    ) as http:
        api = await http.get("/openapi.json", headers={"Host": "evil.example"})
        page = await http.get("/", headers={"Host": "evil.example"})
    await app.state.platform.aclose()
    assert (api.status_code, page.status_code) == (400, 400)
    assert api.headers["x-content-type-options"] == "nosniff"
    _assert_dashboard_headers(page)
