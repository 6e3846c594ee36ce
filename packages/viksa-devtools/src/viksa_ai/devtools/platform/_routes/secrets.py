"""``/builder/vault`` and ``/builder/secret``: the project's vault."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query

from viksa_ai.devtools.platform._bodies import JsonBody
from viksa_ai.devtools.platform._clock import now_iso
from viksa_ai.devtools.platform._deps import NO_STORE, PageDep, PlatformDep, ProjectDep, owned
from viksa_ai.devtools.platform._errors import conflict, detail_item, unprocessable
from viksa_ai.devtools.platform._listing import listing
from viksa_ai.devtools.platform._security import hash_password, new_id
from viksa_ai.devtools.platform._store import Doc, KeyTakenError
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute
from viksa_ai.devtools.platform._vault import sealed_value, secret_usage, secret_value

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/builder", tags=["secrets"])


def _text(body: dict[str, Any], field: str, *, required: bool) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (field == "name" and not value.strip()):
        kind = "missing" if value is None else "string_type"
        raise unprocessable([detail_item(["body", field], f"{field} must be a string", kind)])
    return value


def _name_taken(name: str) -> Exception:
    return conflict(
        f"A secret named {name!r} already exists in this project.",
        code="secret_name_taken",
        field="name",
    )


@router.get("/vault/status")
async def vault_status(platform: PlatformDep, tenant: ProjectDep) -> dict[str, Any]:
    """The vault's state (always ready locally) and how many secrets it holds."""
    count = platform.store.query("secret", scope=tenant.project, limit=0)[1]
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
    name = _text(body, "name", required=True)
    value = _text(body, "value", required=True)
    passphrase = _text(body, "passphrase", required=False)
    now = now_iso()
    secret = {
        "id": new_id("sec"),
        "name": name,
        "description": _text(body, "description", required=False),
        "version": 1,
        "has_passphrase": passphrase is not None,
        "created_at": now,
        "updated_at": now,
    }
    try:
        with platform.store.transaction():
            platform.store.insert("secret", secret, scope=tenant.project, key=name)
            platform.store.insert(
                "secret_value",
                {
                    "id": secret["id"],
                    "value": sealed_value(platform.store, str(secret["id"]), str(value)),
                    "passphrase_hash": None if passphrase is None else hash_password(passphrase),
                },
                scope=tenant.project,
            )
    except KeyTakenError as exc:
        raise _name_taken(str(name)) from exc
    return secret


@router.get("/secret/list")
async def list_secrets(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """One page of the project's secrets, never their values."""
    found = platform.store.query(
        "secret",
        scope=tenant.project,
        search=search,
        search_fields=("name", "description"),
        skip=page.skip,
        limit=page.limit,
    )
    return listing("secrets", found, page)


@router.get("/secret/{secret_id}", dependencies=[NO_STORE])
async def get_secret(
    secret_id: str,
    platform: PlatformDep,
    tenant: ProjectDep,
    passphrase: Annotated[str | None, Query()] = None,
) -> Doc:
    """A secret with its value; one stored with a passphrase needs it."""
    secret = owned(platform, "secret", "Secret", secret_id, tenant)
    # scrypt is slow by design: keep it off the event loop.
    value = await anyio.to_thread.run_sync(secret_value, platform.store, secret_id, passphrase)
    assert value is not None
    return {**secret, "value": value}


@router.put("/secret/{secret_id}")
async def update_secret(
    secret_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a secret's value, name or description; a new value bumps its version."""
    secret = owned(platform, "secret", "Secret", secret_id, tenant)
    stored = platform.store.get("secret_value", secret_id)
    assert stored is not None
    if "value" in body:
        stored["value"] = sealed_value(
            platform.store, secret_id, str(_text(body, "value", required=True))
        )
        secret["version"] += 1
    if "passphrase" in body:
        phrase = _text(body, "passphrase", required=False)
        stored["passphrase_hash"] = None if phrase is None else hash_password(phrase)
        secret["has_passphrase"] = phrase is not None
    if "description" in body:
        secret["description"] = _text(body, "description", required=False)
    name = _text(body, "name", required=True) if "name" in body else secret["name"]
    secret["name"] = name
    secret["updated_at"] = now_iso()
    try:
        with platform.store.transaction():
            platform.store.rekey("secret", secret_id, name)
            platform.store.save("secret", secret)
            platform.store.save("secret_value", stored)
    except KeyTakenError as exc:
        raise _name_taken(str(name)) from exc
    return secret


@router.delete("/secret/{secret_id}")
async def delete_secret(
    secret_id: str,
    platform: PlatformDep,
    tenant: ProjectDep,
    force: Annotated[bool, Query()] = False,
) -> Doc:
    """Delete a secret; 409 while agents use it, unless ``force=true``."""
    owned(platform, "secret", "Secret", secret_id, tenant)
    usage = secret_usage(platform.store, tenant.project, secret_id)
    if usage and not force:
        aliases = sorted({u["agent_alias"] for u in usage})
        raise conflict(
            f"Secret {secret_id!r} is used by agent(s) {', '.join(aliases)}: unbind it first, "
            "or delete with force=true (their auth methods will no longer be enabled).",
            code="secret_in_use",
        )
    with platform.store.transaction():
        platform.store.delete("secret_value", secret_id)
        platform.store.delete("secret", secret_id)
    return {"id": secret_id, "deleted": True, "was_used_by": usage}


@router.get("/secret/{secret_id}/usage")
async def get_secret_usage(secret_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The agents (and auth params) that use a secret."""
    owned(platform, "secret", "Secret", secret_id, tenant)
    usage = secret_usage(platform.store, tenant.project, secret_id)
    return {"secret_id": secret_id, "in_use": bool(usage), "agents": usage}
