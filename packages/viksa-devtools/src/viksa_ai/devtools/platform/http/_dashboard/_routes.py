"""The dashboard's routes: its pages, the sign-in, the live feed and the page actions.

Pages are ``GET`` routes answering HTML; actions are ``POST``/``DELETE`` routes under
``/dashboard/api`` answering JSON, each behind :data:`ActionDep` (session + CSRF). None
of them is part of the platform API: they are left out of the OpenAPI document.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timezone
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._spans import RECORDER
from viksa_ai.devtools.platform.http._bodies import JsonBody, OptionalJsonBody, required_id
from viksa_ai.devtools.platform.http._dashboard import _pages
from viksa_ai.devtools.platform.http._dashboard._access import (
    COOKIE,
    FORM_COOKIE,
    ActionDep,
    FeedDep,
    PageDep,
    check_same_site,
    set_cookie,
)
from viksa_ai.devtools.platform.http._dashboard._html import page
from viksa_ai.devtools.platform.http._dashboard._timeline import timeline_section
from viksa_ai.devtools.platform.http._deps import PlatformDep
from viksa_ai.devtools.platform.http._fault_admin import is_local_admin
from viksa_ai.devtools.platform.http._faults import FaultSpecError, parse_fault_spec
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.http._security_headers import PAGE_HEADERS
from viksa_ai.devtools.platform.http._sse import encode_event
from viksa_ai.devtools.platform.services._dashboard import FEEDS_PER_USER, BrowserSession
from viksa_ai.devtools.platform.services._engine import ExecutionFilter, execution_view
from viksa_ai.devtools.platform.services._errors import (
    DomainError,
    TooManyRequestsError,
    bad_request,
    detail_item,
    forbidden,
    unprocessable,
)
from viksa_ai.devtools.platform.services._records import Caller
from viksa_ai.devtools.platform.services._security import new_secret, same_secret
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router", "shell_answer"]

router = PlatformRouter(include_in_schema=False)

_HEARTBEAT_SECONDS = 15.0
_LISTED_EXECUTIONS = 100


def _html(
    body: str, title: str, session: BrowserSession | None, active: str | None
) -> HTMLResponse:
    principal = session.principal if session else None
    document = page(
        title,
        body,
        active=active,
        signed_in=session is not None,
        project=principal.project_id if principal else None,
    )
    return HTMLResponse(document, headers=PAGE_HEADERS)


def shell_answer() -> HTMLResponse:
    """What a page answers to its cookie alone: nothing of the project; the page's script
    asks again with its action token (see ``_access``)."""
    body = _pages.shell_body()
    document = page("Loading", body, active=None, signed_in=False, filled_by_script=True)
    return HTMLResponse(document, headers=PAGE_HEADERS)


def _signed_in(platform: Platform, cookie: str, request: Request) -> HTMLResponse:
    """The answer to a sign-in: the session's cookie, and its action token for the page's
    script to keep (the one answer that holds it), which then opens the dashboard.

    The session the browser held before, if any, ends: its cookie is replaced.
    """
    platform.dashboard.sign_out(request.cookies.get(COOKIE))
    session = platform.dashboard.browser(cookie)
    assert session is not None  # opened just now
    document = page(
        "Signed in",
        _pages.signed_in_body(),
        active=None,
        signed_in=False,
        action_token=session.csrf,
    )
    answer = HTMLResponse(document, headers=PAGE_HEADERS)
    set_cookie(answer, COOKIE, cookie)
    return answer


def _project(session: BrowserSession) -> str:
    project = session.principal.project_id
    if project is None:
        raise bad_request("This user has no project yet: create one first.", code="no_project")
    return project


def _aliases(platform: Platform, project: str) -> dict[str, str]:
    return {v.agent["id"]: v.agent["agent_alias"] for v in platform.overview.agents(project)}


# -- signing in -------------------------------------------------------------------------


@router.get("/dashboard/sign-in", response_model=None)
async def sign_in_page(
    request: Request,
    platform: PlatformDep,
    token: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    """The sign-in form; with ``token`` (the printed one-time link) it signs in at once.

    A signed-in browser gets the form too: one that lost its action token (site data
    cleared) can only get a new one by signing in again.
    """
    if token is not None:
        try:
            cookie = platform.dashboard.redeem_link(token)
        except DomainError as exc:
            return _sign_in_form(exc.message, None, status=401)
        return _signed_in(platform, cookie, request)
    return _sign_in_form(None, None)


def _sign_in_form(
    error: str | None,
    email: str | None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    form_token = new_secret("form")
    body = _pages.sign_in_body(form_token, error, email)
    answer = HTMLResponse(
        page("Sign in", body, active=None, signed_in=False),
        status_code=status,
        headers={**PAGE_HEADERS, **(headers or {})},
    )
    set_cookie(answer, FORM_COOKIE, form_token, max_age=3600)
    return answer


@router.post("/dashboard/sign-in", response_model=None)
async def sign_in(request: Request, platform: PlatformDep) -> HTMLResponse:
    """Check the form's email and password; on success the browser holds a session cookie."""
    check_same_site(request)
    raw = (await request.body())[:8192].decode("utf-8", "replace")
    try:
        form = {k: v[0] for k, v in parse_qs(raw, max_num_fields=10).items()}
    except ValueError:  # more fields than the form has: no browser sent this
        return _sign_in_form("The form could not be read: sign in again.", None, status=400)
    sent, expected = form.get("form_token"), request.cookies.get(FORM_COOKIE)
    email = form.get("email", "")[:320]
    if not same_secret(sent, expected):
        return _sign_in_form("The form expired: sign in again.", email, status=403)
    client = request.client.host if request.client else None
    try:
        cookie = await asyncio.to_thread(
            platform.dashboard.sign_in, email, form.get("password", ""), client=client
        )
    except TooManyRequestsError as exc:
        return _sign_in_form(exc.message, email, status=429, headers=exc.headers)
    except DomainError as exc:
        return _sign_in_form(exc.message, email, status=401)
    answer = _signed_in(platform, cookie, request)
    answer.delete_cookie(FORM_COOKIE, path="/")
    return answer


@router.post("/dashboard/api/sign-out", response_model=None)
async def sign_out(request: Request, platform: PlatformDep, _: ActionDep) -> dict[str, Any]:
    """End the browser's session (the accounts session behind it too)."""
    platform.dashboard.sign_out(request.cookies.get(COOKIE))
    return {"signed_out": True}


# -- pages -------------------------------------------------------------------------------


@router.get("/", response_model=None)
async def agents_page(platform: PlatformDep, session: PageDep) -> HTMLResponse:
    """The agents of the project: state, deployment and endpoints."""
    views = platform.overview.agents(_project(session))
    return _html(_pages.agents_body(views), "Agents", session, "agents")


@router.get("/dashboard/agents/{agent_id}/endpoints/{name}", response_model=None)
async def run_page(
    agent_id: str, name: str, platform: PlatformDep, session: PageDep
) -> HTMLResponse:
    """The run form of one endpoint."""
    view = platform.overview.agent(_project(session), agent_id)
    endpoint = view.endpoint(name)
    return _html(_pages.run_body(view, endpoint), f"Run {endpoint['name']}", session, "agents")


@router.get("/dashboard/executions", response_model=None)
async def executions_page(
    platform: PlatformDep,
    session: PageDep,
    agent_id: Annotated[str | None, Query(max_length=256)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """Executions, newest first, filtered by agent, status and start time."""
    project = _project(session)
    which = ExecutionFilter(agent_id=agent_id or None, status=status or None, since=_since(since))
    records, total = platform.engine.list_executions(
        project, which, skip=0, limit=_LISTED_EXECUTIONS
    )
    body = _pages.executions_body(
        records,
        total,
        agents=_aliases(platform, project),
        agent_id=agent_id,
        status=status,
        since=since,
    )
    return _html(body, "Executions", session, "executions")


def _since(value: str | None) -> float | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise unprocessable(
            [detail_item(["query", "since"], "since is a date and time", "datetime_parsing")]
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


@router.get("/dashboard/executions/{execution_id}", response_model=None)
async def execution_page(
    execution_id: str, platform: PlatformDep, session: PageDep
) -> HTMLResponse:
    """One execution in full."""
    project = _project(session)
    record = platform.engine.get_execution(project, execution_id)
    alias = _aliases(platform, project).get(record["agent_id"]) or str(record["agent_id"])
    body = _pages.execution_body(record, alias, timeline=timeline_section(record, RECORDER))
    return _html(body, f"Execution {execution_id}", session, "executions")


@router.get("/dashboard/approvals", response_model=None)
async def approvals_page(platform: PlatformDep, session: PageDep) -> HTMLResponse:
    """Approvals waiting for a decision."""
    project = _project(session)
    pending, total = platform.overview.pending_approvals(project)
    body = _pages.approvals_body(pending, total, _aliases(platform, project))
    return _html(body, "Approvals", session, "approvals")


@router.get("/dashboard/triggers", response_model=None)
async def triggers_page(platform: PlatformDep, session: PageDep) -> HTMLResponse:
    """Webhook triggers and their deliveries."""
    project = _project(session)
    body = _pages.triggers_body(
        platform.overview.triggers(project), platform.overview.deliveries(project)
    )
    return _html(body, "Triggers", session, "triggers")


@router.get("/dashboard/schedules", response_model=None)
async def schedules_page(platform: PlatformDep, session: PageDep) -> HTMLResponse:
    """Schedules with their next run."""
    project = _project(session)
    body = _pages.schedules_body(platform.overview.schedules(project), _aliases(platform, project))
    return _html(body, "Schedules", session, "schedules")


@router.get("/dashboard/secrets", response_model=None)
async def secrets_page(platform: PlatformDep, session: PageDep) -> HTMLResponse:
    """Secrets by name."""
    body = _pages.secrets_body(platform.overview.secret_names(_project(session)))
    return _html(body, "Secrets", session, "secrets")


@router.get("/dashboard/faults", response_model=None)
async def faults_page(platform: PlatformDep, session: PageDep) -> HTMLResponse:
    """The faults in force, editable."""
    armed = platform.faults.armed(_project(session))
    return _html(_pages.faults_body(armed), "Faults", session, "faults")


# -- live updates ------------------------------------------------------------------------


@router.get("/dashboard/events", response_model=None)
async def events(request: Request, platform: PlatformDep, session: FeedDep) -> StreamingResponse:
    """Server-Sent Events: a notice for each change of an execution of the project.

    The stream ends once its browser is signed out, its session revoked or moved to
    another project: the session is checked again before each event and heartbeat. A
    user holds at most ``FEEDS_PER_USER`` feeds at once (429 past it).
    """
    project = _project(session)
    cookie = request.cookies.get(COOKIE)
    if platform.dashboard.feeds_full(session):
        raise TooManyRequestsError(_too_many_feeds())

    async def stream() -> AsyncIterator[str]:
        with (
            platform.dashboard.live_feed(session) as admitted,
            platform.engine.events.subscribe() as notices,
        ):
            if not admitted:  # others opened in the meantime
                return
            yield ": connected\n\n"
            while True:
                try:
                    notice = await asyncio.wait_for(notices.get(), _HEARTBEAT_SECONDS)
                except asyncio.TimeoutError:
                    notice = None
                if notice is not None and notice.get("project_id") != project:
                    continue
                current = platform.dashboard.browser(cookie)
                if current is None or current.principal.project_id != project:
                    return  # signed out, revoked, or switched to another project
                if notice is None:
                    yield ": still here\n\n"
                else:
                    shown = {k: v for k, v in notice.items() if k != "project_id"}
                    yield f"event: {notice['type']}\n{encode_event(shown)}"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _too_many_feeds() -> dict[str, Any]:
    return {
        "message": f"This user has {FEEDS_PER_USER} live dashboard pages open already: "
        "close some tabs.",
        "code": "too_many_live_feeds",
        "field": None,
    }


# -- actions -----------------------------------------------------------------------------


@router.post("/dashboard/api/run", response_model=None)
async def run(body: JsonBody, platform: PlatformDep, session: ActionDep) -> Doc:
    """Run an endpoint with the form's inputs; the execution record in full."""
    inputs = body.get("inputs")
    if not isinstance(inputs, dict):
        raise unprocessable([detail_item(["body", "inputs"], "inputs is an object", "dict_type")])
    record = await platform.engine.run_endpoint(
        _project(session),
        required_id(body, "agent_id"),
        required_id(body, "endpoint"),
        inputs,
        source="dashboard",
    )
    return {
        **execution_view(record),
        "inputs": record["inputs"],
        "traceback": record.get("traceback"),
    }


@router.post("/dashboard/api/approvals/{approval_id}/{decision}", response_model=None)
async def decide(
    approval_id: str,
    decision: Literal["approve", "reject"],
    platform: PlatformDep,
    session: ActionDep,
    body: OptionalJsonBody = None,
) -> Doc:
    """Approve (the execution runs now) or reject a waiting approval."""
    caller = Caller(account_id=session.principal.account_id, project_id=_project(session))
    approval = platform.engine.approval(caller, approval_id)
    comment = (body or {}).get("comment")
    return await platform.engine.decide(
        approval,
        approve=decision == "approve",
        comment=comment if isinstance(comment, str) and comment else None,
        by=session.principal.user_id,
    )


@router.post("/dashboard/api/faults", response_model=None)
async def arm_fault(body: JsonBody, platform: PlatformDep, session: ActionDep) -> dict[str, Any]:
    """Arm a fault for the project's requests (the ``X-Viksa-Fault`` syntax); admin only."""
    project = _fault_scope(platform, session)
    spec = body.get("spec")
    try:
        parsed = parse_fault_spec(spec if isinstance(spec, str) else "")
    except FaultSpecError as exc:
        raise unprocessable([detail_item(["body", "spec"], str(exc), "value_error")]) from exc
    platform.faults.arm(parsed, project=project)
    return {"faults": platform.faults.armed(project)}


@router.delete("/dashboard/api/faults", response_model=None)
async def clear_faults(platform: PlatformDep, session: ActionDep) -> dict[str, Any]:
    """Disarm the faults of the project; admin only."""
    project = _fault_scope(platform, session)
    platform.faults.clear(project)
    return {"faults": platform.faults.armed(project)}


def _fault_scope(platform: Platform, session: BrowserSession) -> str:
    """The project whose faults the page changes: the local admin's only (as /_dev/faults)."""
    if not is_local_admin(platform, session.principal):
        raise forbidden(
            "Only the local admin (the dev user viksa dev seeds) may arm or clear faults.",
            code="not_fault_admin",
        )
    return _project(session)
