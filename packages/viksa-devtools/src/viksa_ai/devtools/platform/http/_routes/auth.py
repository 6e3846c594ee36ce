"""``/auth``: login, tokens, sessions and keys."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Annotated, Any

import anyio
from fastapi import Request

from viksa_ai.devtools.platform.http._bodies import JsonBody, parse_body
from viksa_ai.devtools.platform.http._deps import (
    NO_STORE,
    PageDep,
    PlatformDep,
    PrincipalDep,
    Tenant,
    TenantDep,
    UserDep,
    allowed,
)
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.http._throttled import throttled
from viksa_ai.devtools.platform.services._access import Access
from viksa_ai.devtools.platform.services._accounts import Principal
from viksa_ai.devtools.platform.store._store import Doc
from viksa_ai.models.auth import (
    ApiKeyRequest,
    KeyValidationRequest,
    LoginRequest,
    RefreshRequest,
    SwitchOrgRequest,
    SwitchProjectRequest,
)

__all__ = ["router"]

router = PlatformRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/individual/login", dependencies=[NO_STORE], responses=throttled("sign-in", "this account")
)
async def login(raw: JsonBody, request: Request, platform: PlatformDep) -> Doc:
    """Exchange email and password for an access and a refresh token (429 after too many
    attempts on the email or from the address, with ``Retry-After``)."""
    body = parse_body(LoginRequest, raw)
    client = request.client.host if request.client else None
    # scrypt is slow by design: keep it off the event loop.
    return await anyio.to_thread.run_sync(
        functools.partial(platform.accounts.login, body.email, body.password, client=client)
    )


@router.post("/refresh", dependencies=[NO_STORE])
async def refresh(raw: JsonBody, platform: PlatformDep) -> Doc:
    """Rotate a refresh token into new tokens."""
    body = parse_body(RefreshRequest, raw)
    return platform.accounts.refresh(body.refresh_token)


@router.get("/me")
async def me(platform: PlatformDep, principal: PrincipalDep) -> Doc:
    """The calling user."""
    return platform.accounts.public_user(platform.accounts.user_of(principal), principal)


@router.post("/switch-org", dependencies=[NO_STORE])
async def switch_org(raw: JsonBody, platform: PlatformDep, user: UserDep) -> Doc:
    """New tokens for the caller in another of their orgs."""
    body = parse_body(SwitchOrgRequest, raw)
    return platform.accounts.switch(user, body.org_id, None)


@router.post("/switch-project", dependencies=[NO_STORE])
async def switch_project(raw: JsonBody, platform: PlatformDep, user: UserDep) -> Doc:
    """New tokens for the caller in another of their projects."""
    body = parse_body(SwitchProjectRequest, raw)
    project = platform.accounts.owned_project(user.account_id, body.project_id)
    return platform.accounts.switch(user, project["org_id"], project["id"])


@router.post("/logout")
async def logout(platform: PlatformDep, user: UserDep) -> dict[str, Any]:
    """End the caller's session: its access and refresh tokens stop working."""
    assert user.user_id is not None
    assert user.session_id is not None
    platform.accounts.revoke_session(user.user_id, user.session_id)
    return {"status": "logged_out", "sessions_ended": 1}


@router.post("/logout-all")
async def logout_all(platform: PlatformDep, user: UserDep) -> dict[str, Any]:
    """End every session of the caller, this one included."""
    assert user.user_id is not None
    ended = platform.accounts.revoke_all_sessions(user.user_id)
    return {"status": "logged_out", "sessions_ended": ended}


@router.get("/usage")
async def usage(platform: PlatformDep, tenant: TenantDep) -> dict[str, Any]:
    """Counts of what the caller's project holds, and the (unlimited) local plan."""
    project = tenant.project_id
    counts = platform.accounts.usage(project)
    return {
        "plan": "local-dev",
        "account_id": tenant.principal.account_id,
        "org_id": tenant.org_id,
        "project_id": project,
        "usage": {f"{k}s": v for k, v in counts.items()},
        "limits": {},
    }


@router.get("/sessions")
async def list_sessions(platform: PlatformDep, user: UserDep) -> dict[str, Any]:
    """The caller's live sessions."""
    sessions = platform.accounts.list_sessions(user)
    return {"sessions": sessions, "total": len(sessions)}


@router.delete("/sessions/{session_id}")
async def revoke_session(session_id: str, platform: PlatformDep, user: UserDep) -> Doc:
    """End one of the caller's sessions."""
    assert user.user_id is not None
    platform.accounts.revoke_session(user.user_id, session_id)
    return {"id": session_id, "revoked": True}


@router.delete("/sessions")
async def revoke_all_sessions(platform: PlatformDep, user: UserDep) -> dict[str, Any]:
    """End every session of the caller except the current one."""
    assert user.user_id is not None
    ended = platform.accounts.revoke_all_sessions(user.user_id, keep=user.session_id)
    return {"sessions_ended": ended}


@router.post("/key/validate/api")
async def validate_api_key(raw: JsonBody, platform: PlatformDep) -> Doc:
    """Whether a key is valid, and the tenant it belongs to (needs no token)."""
    body = parse_body(KeyValidationRequest, raw)
    return platform.accounts.validate_key(body.api_key)


_READ_KEYS = [allowed("key:read")]
_WRITE_KEYS = [allowed("key:write")]
KeyWriter = Annotated[Access, allowed("key:write")]


@router.post("/key/api", status_code=201, dependencies=[NO_STORE, *_WRITE_KEYS])
async def create_api_key(raw: JsonBody, platform: PlatformDep, tenant: TenantDep) -> Doc:
    """A new project API key; ``key`` holds its secret, shown this once."""
    body = parse_body(ApiKeyRequest, raw)
    principal = _in_tenant(tenant)
    return platform.accounts.create_key("api", principal, body.name, body.description)


@router.get("/key/api", dependencies=_READ_KEYS)
async def list_api_keys(platform: PlatformDep, tenant: TenantDep, page: PageDep) -> Doc:
    """The project's API keys (never their secrets)."""
    principal = _in_tenant(tenant)
    return listing(
        "keys", platform.accounts.list_keys("api", principal, page.skip, page.limit), page
    )


@router.post("/key/api/{key_id}/revoke")
async def revoke_api_key(key_id: str, platform: PlatformDep, access: KeyWriter) -> Doc:
    """Revoke a key: it stops authenticating at once but stays listed."""
    return platform.accounts.revoke_key(access.key(key_id))


@router.delete("/key/api/{key_id}")
async def delete_api_key(key_id: str, platform: PlatformDep, access: KeyWriter) -> Doc:
    """Delete a key for good."""
    access.key(key_id)
    platform.accounts.delete_key(key_id)
    return {"id": key_id, "deleted": True}


@router.post("/key/worker", status_code=201, dependencies=[NO_STORE, *_WRITE_KEYS])
async def create_worker_key(raw: JsonBody, platform: PlatformDep, tenant: TenantDep) -> Doc:
    """A new worker key; ``key`` holds its secret, shown this once."""
    body = parse_body(ApiKeyRequest, raw)
    principal = _in_tenant(tenant)
    return platform.accounts.create_key("worker", principal, body.name, body.description)


@router.get("/key/worker", dependencies=_READ_KEYS)
async def list_worker_keys(platform: PlatformDep, tenant: TenantDep, page: PageDep) -> Doc:
    """The project's worker keys (never their secrets)."""
    principal = _in_tenant(tenant)
    return listing(
        "keys", platform.accounts.list_keys("worker", principal, page.skip, page.limit), page
    )


def _in_tenant(tenant: Tenant) -> Principal:
    """The caller re-scoped to the org and project the request names."""
    return replace(tenant.principal, org_id=tenant.org_id, project_id=tenant.project)
