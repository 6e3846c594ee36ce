"""FastAPI dependencies: the platform, the authenticated caller and its tenant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from viksa_ai.devtools.platform.services._access import Access, Action, check_grant
from viksa_ai.devtools.platform.services._accounts import Principal
from viksa_ai.devtools.platform.services._errors import (
    bad_request,
    forbidden,
    unauthorized,
)
from viksa_ai.devtools.platform.services._records import Caller

if TYPE_CHECKING:
    from viksa_ai.devtools.platform._platform import Platform

__all__ = [
    "NO_STORE",
    "Page",
    "PageDep",
    "PlatformDep",
    "PrincipalDep",
    "ProjectDep",
    "Tenant",
    "TenantDep",
    "UserDep",
    "allowed",
    "project_of",
]

_bearer = HTTPBearer(auto_error=False, description="An access token or an API key.")
# Dependencies are coroutines on purpose: FastAPI runs plain functions in a worker
# thread, a hop that costs more than the quick store lookups they make.


async def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated["Platform", Depends(_platform)]


async def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


NO_STORE = Depends(_no_store)
"""Route dependency marking an answer that holds credentials ``Cache-Control: no-store``.

HTTP caches must not keep such an answer (RFC 9111; OAuth token answers require it),
and the Idempotency-Key middleware replays it from memory only, never from the database.
"""


async def _principal(
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise unauthorized("Not authenticated: send Authorization: Bearer <token or API key>.")
    return platform.accounts.authenticate(credentials.credentials)


PrincipalDep = Annotated[Principal, Depends(_principal)]


async def _user(principal: PrincipalDep) -> Principal:
    if principal.via != "jwt" or principal.session_id is None:
        raise forbidden(
            "This route needs a user session: log in with email and password.",
            code="user_session_required",
        )
    return principal


UserDep = Annotated[Principal, Depends(_user)]


def allowed(action: Action) -> Any:
    """Dependency: an :class:`Access` for a caller whose credential may take ``action``.

    The one guard of the ``/org``, ``/project`` and key routes: each declares its
    action, the grants live in ``_access``; 403 names the credential needed.
    """

    async def _allowed(platform: PlatformDep, principal: PrincipalDep) -> Access:
        check_grant(principal, action)
        return Access(principal, platform.accounts)

    return Depends(_allowed)


@dataclass(frozen=True)
class Tenant:
    """The caller and the org/project a request acts in (checked to be theirs)."""

    principal: Principal
    org_id: str | None
    project_id: str | None

    @property
    def caller(self) -> Caller:
        """The account and project the services act for; 400 when no project is named."""
        return Caller(account_id=self.principal.account_id, project_id=self.project)

    @property
    def project(self) -> str:
        """The project id; 400 when the request names none."""
        if self.project_id is None:
            raise bad_request(
                "No project selected: send X-Tenant-Project-Id or call switch_project.",
                code="no_project",
            )
        return self.project_id


async def _tenant(
    platform: PlatformDep,
    principal: PrincipalDep,
    x_tenant_org_id: Annotated[str | None, Header()] = None,
    x_tenant_project_id: Annotated[str | None, Header()] = None,
) -> Tenant:
    org_id, project_id = platform.accounts.tenant_of(
        principal, x_tenant_org_id, x_tenant_project_id
    )
    return Tenant(principal=principal, org_id=org_id, project_id=project_id)


TenantDep = Annotated[Tenant, Depends(_tenant)]


async def _project(tenant: TenantDep) -> Tenant:
    tenant.project  # noqa: B018 - raises 400 when no project is selected
    return tenant


ProjectDep = Annotated[Tenant, Depends(_project)]


async def project_of(request: Request) -> tuple[Platform, Tenant]:
    """``PlatformDep`` and ``ProjectDep`` of ``request``, resolved in plain Python.

    For a route's direct handler (see ``direct_route``): the same dependency functions
    in the order FastAPI runs them, so the same 401, 403, 404 and 400 answers, without
    FastAPI's per-request dependency solving.
    """
    platform = await _platform(request)
    principal = await _principal(platform, await _bearer(request))
    headers = request.headers
    tenant = await _tenant(
        platform, principal, headers.get("x-tenant-org-id"), headers.get("x-tenant-project-id")
    )
    return platform, await _project(tenant)


@dataclass(frozen=True)
class Page:
    """``skip``/``limit`` query parameters of a list route."""

    skip: int
    limit: int


async def _page(
    skip: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Page:
    return Page(skip=skip, limit=limit)


PageDep = Annotated[Page, Depends(_page)]
