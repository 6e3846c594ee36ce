"""The dashboard in a real headless Chromium, against a real ``viksa dev`` process.

Needs the system Chromium (Debian's ``chromium`` package, which ``.ci/run`` installs)
and the ``playwright`` package of the dev group; no browser build is ever downloaded.
Every request the page makes is checked to stay on 127.0.0.1, and a screenshot of each
page is written under ``tmp/artifacts/dashboard/`` of the repository.
"""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx
import pytest
from _live_server import REPO, Server, start_server

EXAMPLES = REPO / "examples"
ARTIFACTS = REPO / "tmp" / "artifacts" / "dashboard"
CHROMIUM = Path("/usr/bin/chromium")
_CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Bounds of waits for a page to change (a hang fails the test; no speed is measured).
_WAIT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="no /usr/bin/chromium: install Debian's chromium package (.ci/run does)",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright (dev dependency group) is not installed"
)

# A test agent beside the examples: one endpoint that fails, one that needs approval.
_AGENT_MAIN = """
from typing import Any, Dict

from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Fail with an exception")
async def explode(payload: Dict[str, Any]):
    raise RuntimeError("the reactor overheated")


@mcp_endpoint(description="Say hello once a person allowed it")
async def guarded(payload: Dict[str, Any]):
    return {"hello": payload.get("name")}
"""


def _agent_manifest() -> dict[str, Any]:
    endpoint = {"module": "main", "outputs": []}
    return {
        "agent_name": "Browser test agent",
        "agent_alias": "browser_probe",
        "agent_description": "Endpoints that fail or wait, for the dashboard's browser tests",
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": _AGENT_MAIN, "mime_type": "python"}],
        "requirements": [],
        "inputs": [{"name": "name", "type": "string"}],
        "outputs": [],
        "agent_endpoints": [
            {**endpoint, "name": "explode", "description": "fails", "inputs": []},
            {
                **endpoint,
                "name": "guarded",
                "description": "needs an approval",
                "inputs": [{"input_ref": "name"}],
                "execution_config": {"requires_approval": True},
            },
        ],
    }


@dataclass
class Served:
    """A running ``viksa dev``, its one-time dashboard link and an API client."""

    server: Server
    sign_in_link: str
    api: httpx.Client = field(init=False)
    probe_id: str = ""

    def __post_init__(self) -> None:
        self.api = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.server.env['VIKSA_API_KEY']}"},
            timeout=60,
        )

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def email(self) -> str:
        return self.server.email

    @property
    def password(self) -> str:
        return self.server.password

    def agent_id(self, alias: str) -> str:
        found = self.api.get("/builder/agent/list", params={"search": alias}).json()
        return str(next(a["id"] for a in found["agents"] if a["agent_alias"] == alias))

    def run_text_tool(self, endpoint: str, text: str) -> str:
        """Execute an endpoint of the text tools example through the API; its execution id."""
        body = {
            "agent_id": self.agent_id("text_tools_agent"),
            "agent_type": "cloud",
            "endpoint": f"text_tools_agent.main.{endpoint}",
            "inputs": {"text": text},
        }
        answer = self.api.post("/pulse/executor/execute", json=body)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["execution_id"])

    def stop(self) -> None:
        self.api.close()
        self.server.stop()


def _start() -> Served:
    server = start_server("--memory", "--with-examples", str(EXAMPLES))
    if server.dashboard_link is None:
        server.stop()
        pytest.fail("viksa dev printed no dashboard line:\n" + server.banner)
    return Served(server, server.dashboard_link)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """``viksa dev`` with the examples and the probe agent deployed, in memory."""
    server = _start()
    try:
        created = server.api.post("/builder/agent/create", json=_agent_manifest())
        assert created.status_code == 201, created.text
        server.probe_id = created.json()["id"]
        for route in ("/builder/builder/", "/builder/deploy/"):
            answer = server.api.post(route, json={"agent_id": server.probe_id})
            assert answer.status_code == 200, answer.text
        yield server
    finally:
        server.stop()


@dataclass
class Browser:
    """A signed-in browser context and every request host it tried to reach."""

    context: Any
    hosts: list[str]
    foreign: list[str]


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    """Chromium signed in through the printed one-time link; foreign requests refused."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=_CHROMIUM_ARGS, headless=True
        )
        context = chromium.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(_WAIT_MS)
        watched = Browser(context, [], [])

        def guard(route: Any) -> None:
            host = urlsplit(route.request.url).hostname or ""
            watched.hosts.append(host)
            if host == "127.0.0.1" or route.request.url.startswith("data:"):
                route.continue_()
            else:
                watched.foreign.append(route.request.url)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        page.goto(served.sign_in_link)
        page.wait_for_url(served.base_url + "/")  # the script keeps the token, opens /
        page.close()
        try:
            yield watched
        finally:
            context.close()
            chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Any]:
    """A fresh tab of the signed-in browser; no request of it may leave 127.0.0.1."""
    tab = browser.context.new_page()
    try:
        yield tab
    finally:
        tab.close()
    assert browser.foreign == []


def _shot(page: Any, name: str) -> None:
    # A dashboard page's body arrives from its script (see _access): the picture after.
    if page.locator('script[src="/dashboard/static/dashboard.js"]').count():
        page.locator("html[data-ready]").wait_for(state="attached")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_the_agents_page_lists_the_deployed_examples(served: Served, page: Any) -> None:
    page.goto(served.base_url + "/")
    heading = page.get_by_role("heading", level=1)
    sync_api.expect(heading).to_have_text("Agents")
    for alias in ("aviation_agent", "text_tools_agent", "browser_probe"):
        sync_api.expect(page.locator("section.card h2", has_text=alias)).to_be_visible()
    endpoint = page.locator("code", has_text="text_tools_agent.main.word_stats")
    sync_api.expect(endpoint).to_be_visible()
    _shot(page, "agents")


def test_word_stats_runs_from_its_form(served: Served, page: Any) -> None:
    page.goto(served.base_url + "/")
    page.get_by_role("link", name="Run text_tools_agent.main.word_stats").click()
    sync_api.expect(page.get_by_role("heading", level=1)).to_have_text("Run word_stats")
    # Checked before sending: a too-large ``top`` is refused on the page, naming the bound.
    page.get_by_label("text").fill("the cat and the hat and the bat")
    page.get_by_label("top").fill("99")
    page.get_by_role("button", name="Run").click()
    sync_api.expect(page.locator("#input-top-error")).to_have_text("At most 50.")
    sync_api.expect(page.get_by_label("top")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("top").fill("2")
    page.get_by_role("button", name="Run").click()
    result = page.locator("#run-result")
    sync_api.expect(result.locator(".badge")).to_have_text("completed")
    sync_api.expect(result.locator("pre")).to_contain_text('"words": 8')
    sync_api.expect(result.locator("pre")).to_contain_text('"word": "the"')
    _shot(page, "run-word-stats")


def test_a_failing_run_shows_its_traceback(served: Served, page: Any) -> None:
    page.goto(f"{served.base_url}/dashboard/agents/{served.probe_id}/endpoints/explode")
    page.get_by_role("button", name="Run").click()
    result = page.locator("#run-result")
    sync_api.expect(result.locator(".badge")).to_have_text("failed")
    traceback = result.get_by_label("Traceback")
    sync_api.expect(traceback).to_contain_text("RuntimeError: the reactor overheated")
    sync_api.expect(traceback).to_contain_text("Traceback")
    _shot(page, "run-failed")
    # The execution's own page shows the same traceback.
    result.get_by_role("link").click()
    sync_api.expect(page.get_by_label("Traceback")).to_contain_text("the reactor overheated")
    _shot(page, "execution-failed")


def test_an_execution_started_through_the_api_appears_live(served: Served, page: Any) -> None:
    page.goto(served.base_url + "/dashboard/executions")
    sync_api.expect(page.locator("#live-state")).to_contain_text("live")
    page.evaluate("window.__notReloaded = true")
    execution_id = served.run_text_tool("slugify", "Live from the API")
    row = page.locator("#executions tr", has_text=execution_id)
    sync_api.expect(row).to_be_visible()
    sync_api.expect(row.locator(".badge")).to_have_text("completed")
    assert page.evaluate("window.__notReloaded") is True
    _shot(page, "executions")


def test_an_approval_approved_from_the_page_completes_the_execution(
    served: Served, page: Any
) -> None:
    body = {
        "agent_id": served.probe_id,
        "agent_type": "cloud",
        "endpoint": "browser_probe.main.guarded",
        "inputs": {"name": "Ada"},
    }
    waiting = served.api.post("/pulse/executor/execute", json=body)
    assert waiting.status_code == 202, waiting.text
    approval_id = waiting.json()["approval_id"]
    execution_id = waiting.json()["execution_id"]
    page.goto(served.base_url + "/dashboard/approvals")
    decision = page.locator(f'[data-approval-id="{approval_id}"]')
    _shot(page, "approvals")
    decision.get_by_label("Comment").fill("looks right")
    decision.get_by_role("button", name="Approve").click()
    sync_api.expect(page.locator("#toast")).to_contain_text("execution completed")
    sync_api.expect(decision).to_contain_text("execution completed")  # in place, at first
    page.mouse.move(0, 0)
    sync_api.expect(decision).to_have_count(0)  # the list refreshed without it
    final = served.api.get(f"/pulse/executor/execution/{execution_id}").json()
    assert (final["status"], final["response"]) == ("completed", {"hello": "Ada"})


def test_every_page_renders_with_no_request_leaving_the_machine(
    served: Served, browser: Browser, page: Any
) -> None:
    served.api.post("/builder/secret/create", json={"name": "browser_secret", "value": "hush-42"})
    for path, name, title in (
        ("/dashboard/triggers", "triggers", "Triggers"),
        ("/dashboard/schedules", "schedules", "Schedules"),
        ("/dashboard/secrets", "secrets", "Secrets"),
        ("/dashboard/faults", "faults", "Faults"),
    ):
        page.goto(served.base_url + path)
        sync_api.expect(page.get_by_role("heading", level=1)).to_have_text(title)
        _shot(page, name)
    page.goto(served.base_url + "/dashboard/secrets")
    sync_api.expect(page.get_by_text("browser_secret")).to_be_visible()
    assert "hush-42" not in page.content()
    page.goto(served.base_url + "/docs")
    sync_api.expect(page.get_by_text("/pulse/executor/executions")).to_be_visible()
    _shot(page, "docs")
    assert browser.hosts
    assert set(browser.hosts) == {"127.0.0.1"}


def test_a_fault_is_armed_and_cleared_from_its_page(served: Served, page: Any) -> None:
    page.goto(served.base_url + "/dashboard/faults")
    page.get_by_label("Arm a fault").fill("status=503;count=1;path=/builder/secret")
    page.get_by_role("button", name="Arm", exact=True).click()
    sync_api.expect(page.locator("#faults")).to_contain_text("status=503")
    armed = served.api.get("/_dev/faults").json()["faults"]
    assert [f["status"] for f in armed] == [503]
    page.get_by_label("Arm a fault").fill("status=99")
    page.get_by_role("button", name="Arm", exact=True).click()
    sync_api.expect(page.locator("#fault-spec-error")).not_to_be_empty()
    page.get_by_role("button", name="Clear all faults").click()
    sync_api.expect(page.locator("#faults")).to_contain_text("No fault is armed.")
    assert served.api.get("/_dev/faults").json()["faults"] == []


def test_the_dev_credentials_sign_in_on_the_sign_in_page(served: Served, browser: Browser) -> None:
    context = browser.context.browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(served.base_url + "/")
        assert tab.url == served.base_url + "/dashboard/sign-in"
        tab.get_by_label("Email").fill(served.email)
        tab.get_by_label("Password").fill("not the password")
        tab.get_by_role("button", name="Sign in").click()
        sync_api.expect(tab.get_by_role("alert")).to_contain_text("Incorrect email or password")
        _shot(tab, "sign-in")
        tab.get_by_label("Password").fill(served.password)
        tab.get_by_role("button", name="Sign in").click()
        sync_api.expect(tab.get_by_role("heading", level=1)).to_have_text("Agents")
        # The printed link was spent by the first browser: it signs nobody in again.
        tab.goto(served.sign_in_link)
        sync_api.expect(tab.get_by_role("alert")).to_contain_text("used already")
    finally:
        context.close()


def test_an_executions_page_shows_its_spans_as_a_timeline(served: Served, page: Any) -> None:
    # viksa dev runs in this workspace's interpreter, which has the OpenTelemetry SDK.
    execution_id = served.run_text_tool("word_stats", "a timeline of spans")
    page.goto(f"{served.base_url}/dashboard/executions/{execution_id}")
    timeline = page.get_by_role("table", name=re.compile(r"^This run: trace [0-9a-f]{32}, "))
    sync_api.expect(timeline).to_be_visible()
    # A row per span, named by it and (for assistive technology) its parent; cells:
    # start offset, duration, status, attributes, bar.
    for name in (
        "viksa.validate (in POST /pulse/executor/execute)",
        "viksa.run (in POST /pulse/executor/execute)",
        "viksa.queue (in viksa.run)",
        "viksa.worker.call word_stats (in viksa.run)",
    ):
        row = timeline.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name))
        sync_api.expect(row).to_have_count(1)
        sync_api.expect(row.get_by_role("cell").nth(1)).to_have_text(re.compile(r"^\d+\.\d ms$"))
        sync_api.expect(row.locator(".badge")).to_have_text("ok")
    worker = timeline.get_by_role("rowheader", name=re.compile("^viksa.worker.call"))
    sync_api.expect(worker).to_have_class(re.compile(r"\bdepth-2\b"))
    sync_api.expect(timeline).not_to_contain_text("a timeline of spans")  # no input value
    _shot(page, "execution-timeline")


_MARKUP = "<img src=x onerror=alert(1)><script>alert(2)</script>"
_FORM_PROBE_MAIN = f"""
from typing import Any, Dict

from ViksaAI import mcp_endpoint

MARKUP = {_MARKUP!r}


@mcp_endpoint(description="Answer what it was sent, and markup")
async def shout(payload: Dict[str, Any]):
    print(MARKUP)
    return {{"sent": payload, "markup": MARKUP}}


@mcp_endpoint(description="Fail with markup")
async def explode(payload: Dict[str, Any]):
    raise RuntimeError(MARKUP)
"""


def test_a_run_form_sends_what_it_shows_and_shows_markup_as_text(served: Served, page: Any) -> None:
    endpoint = {"module": "main", "description": _MARKUP, "outputs": []}
    manifest = {
        "agent_name": _MARKUP,
        "agent_alias": "form_probe",
        "agent_description": _MARKUP,
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": _FORM_PROBE_MAIN, "mime_type": "python"}],
        "requirements": [],
        # Names and values a page's script could mistake: a prototype's name, JSON look-alikes.
        "inputs": [
            {"name": "__proto__", "type": "string"},
            {"name": "pick", "type": "string", "allowed_values": ["1", "true", "plain"]},
        ],
        "outputs": [],
        "agent_endpoints": [
            {
                **endpoint,
                "name": "shout",
                "inputs": [{"input_ref": "__proto__"}, {"input_ref": "pick"}],
            },
            {**endpoint, "name": "explode", "inputs": []},
        ],
    }
    created = served.api.post("/builder/agent/create", json=manifest)
    assert created.status_code == 201, created.text
    agent = created.json()["id"]
    for route in ("/builder/builder/", "/builder/deploy/"):
        assert served.api.post(route, json={"agent_id": agent}).status_code == 200
    dialogs: list[str] = []

    def seen(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", seen)

    page.goto(f"{served.base_url}/dashboard/agents/{agent}/endpoints/shout")
    page.get_by_label("__proto__").fill("a prototype's name")
    page.get_by_label("pick").select_option(label="1")
    page.get_by_role("button", name="Run").click()
    result = page.locator("#run-result")
    sync_api.expect(result.locator(".badge")).to_have_text("completed")
    answer = result.get_by_label("Result")
    sync_api.expect(answer).to_contain_text('"__proto__": "a prototype\'s name"')
    sync_api.expect(answer).to_contain_text('"pick": "1"')
    sync_api.expect(answer).to_contain_text(_MARKUP)
    sync_api.expect(result.get_by_label("Output")).to_contain_text(_MARKUP)

    page.goto(f"{served.base_url}/dashboard/agents/{agent}/endpoints/explode")
    page.get_by_role("button", name="Run").click()
    sync_api.expect(result.locator(".badge")).to_have_text("failed")
    sync_api.expect(result.locator(".error-text")).to_contain_text(_MARKUP)
    sync_api.expect(result.get_by_label("Traceback")).to_contain_text(_MARKUP)
    page.goto(served.base_url + "/")
    sync_api.expect(page.locator("section.card h2", has_text="form_probe")).to_contain_text(_MARKUP)
    for path in ("/", f"/dashboard/agents/{agent}/endpoints/shout"):
        page.goto(served.base_url + path)
        assert page.locator("main img, main script").count() == 0, path
    assert dialogs == []


_ECHO_MAIN = """
from typing import Any, Dict

from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Answer what it was sent")
async def echo(payload: Dict[str, Any]):
    print(payload.get("text"))
    return {"sent": payload}
"""
# Right-to-left override, zero-width space, tag "A": "pay bob 10" to a reader, not to code.
_SPOOF = "pay bob \u202e10\u202c\u200b\U000e0041"


def test_a_run_result_shows_the_characters_a_reader_cannot_see(served: Served, page: Any) -> None:
    endpoint = {"module": "main", "description": "echo", "outputs": []}
    manifest = {
        "agent_name": "Hidden text probe",
        "agent_alias": "hidden_probe",
        "agent_description": "Answers what it was sent",
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": _ECHO_MAIN, "mime_type": "python"}],
        "requirements": [],
        "inputs": [{"name": "text", "type": "string"}],
        "outputs": [],
        "agent_endpoints": [{**endpoint, "name": "echo", "inputs": [{"input_ref": "text"}]}],
    }
    created = served.api.post("/builder/agent/create", json=manifest)
    assert created.status_code == 201, created.text
    agent = created.json()["id"]
    for route in ("/builder/builder/", "/builder/deploy/"):
        assert served.api.post(route, json={"agent_id": agent}).status_code == 200
    page.goto(f"{served.base_url}/dashboard/agents/{agent}/endpoints/echo")
    page.get_by_label("text").fill(_SPOOF)
    page.get_by_role("button", name="Run").click()
    result = page.locator("#run-result")
    sync_api.expect(result.locator(".badge")).to_have_text("completed")
    shown = "pay bob \\u202e10\\u202c\\u200b\\udb40\\udc41"
    for label in ("Result", "Output"):
        sync_api.expect(result.get_by_label(label)).to_contain_text(shown)
        text = result.get_by_label(label).inner_text()
        assert [c for c in "\u202e\u202c\u200b\U000e0041" if c in text] == [], label


class _CookieCatcher(http.server.BaseHTTPRequestHandler):
    """A server on another port of 127.0.0.1 (a sandboxed agent may run one)."""

    cookies: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.cookies.append(self.headers.get("Cookie") or "")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


def test_a_server_on_another_port_gets_the_cookie_but_cannot_act(served: Served, page: Any) -> None:
    # Chromium sends the dashboard's cookie to every port of 127.0.0.1 (cookies know no
    # ports): with it alone, the server there gets empty shells and no action passes;
    # the action token stays with this origin's script.
    catcher = http.server.HTTPServer(("127.0.0.1", 0), _CookieCatcher)
    threading.Thread(target=catcher.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{catcher.server_address[1]}/")
    finally:
        catcher.shutdown()
        catcher.server_close()
    caught = dict(
        part.strip().split("=", 1) for c in _CookieCatcher.cookies for part in c.split(";") if c
    )
    assert "viksa_dashboard" in caught
    page.goto(served.base_url + "/dashboard/faults")
    token = page.evaluate("window.localStorage.getItem('viksa-dashboard-csrf')")
    assert token
    with httpx.Client(base_url=served.base_url, cookies=caught, timeout=30) as thief:
        for path in ("/", "/dashboard/faults", "/dashboard/approvals", "/dashboard/sign-in"):
            seen = thief.get(path, follow_redirects=True)
            assert seen.status_code == 200, path
            assert token not in seen.text, path
            assert served.server.env["VIKSA_PROJECT_ID"] not in seen.text, path
        refused = thief.post("/dashboard/api/faults", json={"spec": "status=503;count=1"})
        assert (refused.status_code, refused.json()["detail"]["code"]) == (403, "csrf_failed")
    # The page itself still acts: it sends the token it keeps.
    page.get_by_label("Arm a fault").fill("status=503;count=1;path=/nowhere")
    page.get_by_role("button", name="Arm").click()
    sync_api.expect(page.locator("#faults")).to_contain_text("path=/nowhere")
    page.get_by_role("button", name="Clear all faults").click()
    sync_api.expect(page.locator("#faults")).to_contain_text("No fault is armed.")
    # A browser without the token (its site data cleared) is asked to sign in again.
    page.evaluate("window.localStorage.clear()")
    try:
        page.reload()
        sync_api.expect(page.get_by_role("link", name="Sign in again")).to_be_visible()
        project = served.server.env["VIKSA_PROJECT_ID"]
        sync_api.expect(page.locator("main")).not_to_contain_text(project)
    finally:  # the other tests' tabs share this browser's storage
        page.evaluate("token => window.localStorage.setItem('viksa-dashboard-csrf', token)", token)


def test_the_approvals_list_never_moves_under_the_pointer(served: Served, page: Any) -> None:
    # A live update that removes a row moves the rows below it up: the Approve button under
    # the pointer would then be another request's as the user clicks.
    def wait_for_approval(name: str) -> dict[str, Any]:
        body = {
            "agent_id": served.probe_id,
            "agent_type": "cloud",
            "endpoint": "browser_probe.main.guarded",
            "inputs": {"name": name},
        }
        answer = served.api.post("/pulse/executor/execute", json=body)
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    older, newer = wait_for_approval("older"), wait_for_approval("newer")
    page.goto(served.base_url + "/dashboard/approvals")
    sync_api.expect(page.locator("#live-state")).to_have_text("live")
    approve = page.locator(f'[data-approval-id="{newer["approval_id"]}"]').get_by_role(
        "button", name="Approve"
    )
    approve.hover()
    where = approve.bounding_box()
    decided = served.api.post(
        f"/chat/approvals/{older['approval_id']}/decision", json={"decision": "reject"}
    )
    assert decided.status_code == 200, decided.text
    listing = page.locator("#approvals")
    sync_api.expect(listing).to_have_attribute("data-stale", "true")  # the update waits
    sync_api.expect(page.locator(f'[data-approval-id="{older["approval_id"]}"]')).to_have_count(1)
    assert approve.bounding_box() == where
    page.mouse.move(0, 0)  # the pointer leaves: the list updates
    sync_api.expect(page.locator(f'[data-approval-id="{older["approval_id"]}"]')).to_have_count(0)
    sync_api.expect(listing).not_to_have_attribute("data-stale", "true")
    served.api.post(f"/chat/approvals/{newer['approval_id']}/decision", json={"decision": "reject"})
