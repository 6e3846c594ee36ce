"""``/builder/vault`` and ``/builder/secret``: the project's vault."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import Query

from viksa_ai.devtools.platform.http._bodies import JsonBody
from viksa_ai.devtools.platform.http._deps import NO_STORE, PageDep, PlatformDep, ProjectDep
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.http._throttled import throttled
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = PlatformRouter(prefix="/builder", tags=["secrets"])
# Wrong passphrases offered for a secret are throttled (Secrets.throttle).
_PASSPHRASE_THROTTLED = throttled("passphrase", "this secret")


@router.get("/vault/status")
async def vault_status(platform: PlatformDep, tenant: ProjectDep) -> dict[str, Any]:
    """The vault's state (always ready locally) and how many secrets it holds."""
    count = platform.secrets.count(tenant.project)
    return {
        "status": "ready",
        "initialized": True,
        "sealed": False,
        "backend": "local-sqlite",
        "secrets": count,
    }


@router.post("/secret/create", status_code=201)
async def create_secret(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Store a secret; the answer (like every later one but ``get``) omits its value."""
    return platform.secrets.create(tenant.caller, body)


@router.get("/secret/list")
async def list_secrets(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """One page of the project's secrets, never their values."""
    found = platform.secrets.page(tenant.project, search, skip=page.skip, limit=page.limit)
    return listing("secrets", found, page)


@router.get("/secret/{secret_id}", dependencies=[NO_STORE], responses=_PASSPHRASE_THROTTLED)
async def get_secret(
    secret_id: str,
    platform: PlatformDep,
    tenant: ProjectDep,
    passphrase: Annotated[str | None, Query()] = None,
) -> Doc:
    """A secret with its value; one stored with a passphrase needs it."""
    # scrypt is slow by design: keep it off the event loop.
    caller = tenant.caller
    return await anyio.to_thread.run_sync(platform.secrets.read, caller, secret_id, passphrase)


@router.put("/secret/{secret_id}", responses=_PASSPHRASE_THROTTLED)
async def update_secret(
    secret_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a secret's value, name, passphrase or description; a new value bumps its version.

    Changing or removing the passphrase of a protected secret while its value stays needs
    ``current_passphrase``.
    """
    # scrypt (a passphrase hashed or checked) is slow by design: keep it off the event loop.
    return await anyio.to_thread.run_sync(platform.secrets.update, tenant.caller, secret_id, body)


@router.delete("/secret/{secret_id}")
async def delete_secret(
    secret_id: str,
    platform: PlatformDep,
    tenant: ProjectDep,
    force: Annotated[bool, Query()] = False,
) -> Doc:
    """Delete a secret; 409 while agents use it, unless ``force=true``."""
    usage = platform.secrets.delete(tenant.caller, secret_id, force=force)
    return {"id": secret_id, "deleted": True, "was_used_by": usage}


@router.get("/secret/{secret_id}/usage")
async def get_secret_usage(secret_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The agents (and auth params) that use a secret."""
    usage = platform.secrets.usage(tenant.caller, secret_id)
    return {"secret_id": secret_id, "in_use": bool(usage), "agents": usage}
