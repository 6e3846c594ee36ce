"""Who may arm, list and clear run-wide faults (``/_dev/faults``), and where they apply.

A run-wide fault makes other people's requests fail, so only the local admin may touch
them: the dev user ``viksa dev`` seeds (a user token or one of its API keys, never a
worker key), or whoever holds the fault token printed in the start banner (sent as
``X-Viksa-Fault-Token``). Anyone else gets 403.

A fault armed this way applies to the caller's project only (the project of the
credential, or the one named by ``X-Tenant-Project-Id``), unless the admin asks for
``all``; listing and clearing see the same scope. A request's project for matching is
the one its own credential acts in; requests without credentials (login) only meet
faults armed for all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Header
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from viksa_ai.devtools.platform.http._deps import PlatformDep
from viksa_ai.devtools.platform.services._errors import (
    DomainError,
    detail_item,
    forbidden,
    unauthorized,
    unprocessable,
)
from viksa_ai.devtools.platform.services._security import same_secret

if TYPE_CHECKING:
    from viksa_ai.devtools.platform._platform import Platform
    from viksa_ai.devtools.platform.services._accounts import Accounts, Principal

__all__ = [
    "FAULT_TOKEN_HEADER",
    "FaultAdmin",
    "FaultAdminDep",
    "is_local_admin",
    "request_project",
]

FAULT_TOKEN_HEADER = "X-Viksa-Fault-Token"  # noqa: S105 - a header name
_bearer = HTTPBearer(auto_error=False, description="The dev user's token or API key.")


@dataclass(frozen=True)
class FaultAdmin:
    """The local admin calling ``/_dev/faults``, and the project it acts in (if any)."""

    project_id: str | None

    def scope(self, everything: bool) -> str | None:
        """The project a call reaches (None: every project); 422 when none is known."""
        if everything:
            return None
        if self.project_id is None:
            raise unprocessable(
                [
                    detail_item(
                        ["body", "all"],
                        "name a project (X-Tenant-Project-Id) or ask for all projects",
                        "missing",
                    )
                ]
            )
        return self.project_id


async def _fault_admin(
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_viksa_fault_token: Annotated[str | None, Header()] = None,
    x_tenant_org_id: Annotated[str | None, Header()] = None,
    x_tenant_project_id: Annotated[str | None, Header()] = None,
) -> FaultAdmin:
    if x_viksa_fault_token is not None:
        if not same_secret(x_viksa_fault_token, platform.fault_token):
            raise forbidden("The fault token is not this platform's.", code="not_fault_admin")
        return FaultAdmin(project_id=x_tenant_project_id or None)
    if credentials is None:
        raise unauthorized(
            "Run-wide faults need the dev user's credentials or the fault token "
            f"({FAULT_TOKEN_HEADER}) printed when viksa dev starts."
        )
    principal = platform.accounts.authenticate(credentials.credentials)
    if not is_local_admin(platform, principal):
        raise forbidden(
            "Only the local admin may arm, list or clear run-wide faults: the dev user "
            f"(a user token or API key, not a worker key) or the {FAULT_TOKEN_HEADER} "
            "printed when viksa dev starts.",
            code="not_fault_admin",
        )
    _, project = platform.accounts.tenant_of(principal, x_tenant_org_id, x_tenant_project_id)
    return FaultAdmin(project_id=project)


FaultAdminDep = Annotated[FaultAdmin, Depends(_fault_admin)]


def is_local_admin(platform: Platform, principal: Principal) -> bool:
    """Whether ``principal`` is the dev user ``viksa dev`` seeds (never by a worker key)."""
    admin = platform.accounts.user_by_email(platform.config.seed_email)
    return principal.via != "worker_key" and admin is not None and principal.user_id == admin["id"]


def request_project(accounts: Accounts, headers: Mapping[bytes, bytes]) -> str | None:
    """The project a request's own credential acts in, or None (no or a bad credential)."""
    auth = headers.get(b"authorization", b"")
    if auth[:7].lower() != b"bearer ":
        return None
    org = headers.get(b"x-tenant-org-id")
    project = headers.get(b"x-tenant-project-id")
    try:
        principal = accounts.authenticate(auth[7:].decode("latin-1").strip())
        return accounts.tenant_of(
            principal,
            None if org is None else org.decode("latin-1"),
            None if project is None else project.decode("latin-1"),
        )[1]
    except DomainError:
        return None
