"""``/builder/agent``: agents of the caller's project."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from viksa_ai.devtools.platform._agents import (
    PLATFORM_FIELDS,
    checked_agent,
    endpoint_of,
    new_agent,
    save_revision,
)
from viksa_ai.devtools.platform._bodies import JsonBody
from viksa_ai.devtools.platform._clock import now_iso
from viksa_ai.devtools.platform._deps import PageDep, PlatformDep, ProjectDep, owned
from viksa_ai.devtools.platform._errors import (
    bad_request,
    conflict,
    detail_item,
    not_found,
    unprocessable,
)
from viksa_ai.devtools.platform._listing import listing
from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform._store import Doc, KeyTakenError
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/builder/agent", tags=["builder"])
_SEARCHED = ("agent_name", "agent_alias", "agent_description")


def _alias_taken(alias: str) -> Exception:
    return conflict(
        f"An agent with alias {alias!r} already exists in this project; choose another alias.",
        code="alias_taken",
        field="agent_alias",
    )


def _status(body: dict[str, Any]) -> str:
    status = body.get("status")
    if status not in ("enabled", "disabled"):
        raise unprocessable(
            [detail_item(["body", "status"], 'status must be "enabled" or "disabled"', "enum")]
        )
    return str(status)


@router.post("/create", status_code=201)
async def create_agent(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A new agent, checked by the devtools validator; its alias is unique in the project."""
    fields = await checked_agent(
        body, platform.store, tenant.project, time_limit=platform.config.validation_time_limit
    )
    agent = new_agent(
        fields,
        org_id=tenant.org_id,
        project_id=tenant.project,
        user_id=tenant.principal.user_id,
    )
    try:
        with platform.store.transaction():
            platform.store.insert("agent", agent, scope=tenant.project, key=agent["agent_alias"])
            save_revision(platform.store, agent, sorted(fields), tenant.principal.user_id)
    except KeyTakenError as exc:
        raise _alias_taken(agent["agent_alias"]) from exc
    return agent


@router.get("/list")
async def list_agents(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """One page of the project's agents, optionally matching ``search``."""
    found = platform.store.query(
        "agent",
        scope=tenant.project,
        search=search,
        search_fields=_SEARCHED,
        skip=page.skip,
        limit=page.limit,
    )
    return listing("agents", found, page)


@router.get("/{agent_id}")
async def get_agent(agent_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One agent."""
    return owned(platform, "agent", "Agent", agent_id, tenant)


@router.put("/{agent_id}")
async def update_agent(
    agent_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change the fields sent (others stay); each update is a new revision."""
    agent = owned(platform, "agent", "Agent", agent_id, tenant)
    changed = sorted(k for k in body if k not in PLATFORM_FIELDS)
    if not changed:
        raise bad_request("The update sets no agent field.", code="empty_update")
    merged = {k: v for k, v in agent.items() if k not in PLATFORM_FIELDS}
    merged.update({k: body[k] for k in changed})
    fields = await checked_agent(
        merged, platform.store, tenant.project, time_limit=platform.config.validation_time_limit
    )
    platform_fields = {k: v for k, v in agent.items() if k in PLATFORM_FIELDS}
    updated = {**fields, **platform_fields}
    updated["revision"] += 1
    updated["updated_at"] = now_iso()
    if updated["build_status"] == "built":
        updated["build_status"] = "outdated"
    try:
        with platform.store.transaction():
            platform.store.rekey("agent", agent_id, updated["agent_alias"])
            platform.store.save("agent", updated)
            save_revision(platform.store, updated, changed, tenant.principal.user_id)
    except KeyTakenError as exc:
        raise _alias_taken(updated["agent_alias"]) from exc
    return updated


@router.delete("/{agent_id}")
async def delete_agent(agent_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete an agent, its revisions and its deployment."""
    owned(platform, "agent", "Agent", agent_id, tenant)
    with platform.store.transaction():
        revisions, _ = platform.store.query("agent_revision", where={"agent_id": agent_id})
        for revision in revisions:
            platform.store.delete("agent_revision", revision["id"])
        platform.store.delete("deployment", agent_id)
        platform.store.delete("agent", agent_id)
    await platform.engine.forget(agent_id)
    return {"id": agent_id, "deleted": True}


@router.patch("/{agent_id}/status")
async def set_status(
    agent_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Enable or disable the whole agent (a disabled agent does not execute)."""
    agent = owned(platform, "agent", "Agent", agent_id, tenant)
    agent["status"] = _status(body)
    agent["updated_at"] = now_iso()
    return platform.store.save("agent", agent)


@router.patch("/{agent_id}/endpoint/{name}/status")
async def set_endpoint_status(
    agent_id: str, name: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Enable or disable one endpoint (takes effect at once, deployed or not)."""
    agent = owned(platform, "agent", "Agent", agent_id, tenant)
    status = _status(body)
    if endpoint_of(agent, name) is None:
        raise not_found("Endpoint", name)
    for endpoint in agent["agent_endpoints"]:
        if name in (endpoint["name"], endpoint["endpoint"]):
            endpoint["status"] = status
    agent["updated_at"] = now_iso()
    return platform.store.save("agent", agent)


@router.get("/{agent_id}/revisions")
async def list_revisions(agent_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Every revision of an agent, oldest first (without the snapshots)."""
    owned(platform, "agent", "Agent", agent_id, tenant)
    revisions, total = platform.store.query("agent_revision", where={"agent_id": agent_id})
    return {
        "revisions": [{k: v for k, v in r.items() if k != "agent"} for r in revisions],
        "total": total,
    }


@router.get("/{agent_id}/revisions/{revision}")
async def get_revision(
    agent_id: str, revision: int, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """The agent as it was at one revision."""
    owned(platform, "agent", "Agent", agent_id, tenant)
    found = platform.store.get("agent_revision", f"{agent_id}@{revision}")
    if found is None:
        raise not_found("Revision", str(revision))
    return found


@router.post("/{agent_id}/share")
async def share_agent(
    agent_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Share an agent with a user (``email``) or another project (``project_id``)."""
    agent = owned(platform, "agent", "Agent", agent_id, tenant)
    entry = _share_entry(platform, tenant.principal.account_id, body)
    shares = [s for s in agent["shared_with"] if s["target"] != entry["target"]]
    agent["shared_with"] = [*shares, entry]
    agent["updated_at"] = now_iso()
    platform.store.save("agent", agent)
    return {"agent_id": agent_id, "shared_with": agent["shared_with"]}


def _share_entry(platform: Platform, account_id: str, body: dict[str, Any]) -> Doc:
    permission = body.get("permission", "view")
    if permission not in ("view", "edit", "execute"):
        raise unprocessable(
            [detail_item(["body", "permission"], "use view, edit or execute", "enum")]
        )
    if isinstance(body.get("project_id"), str):
        platform.accounts.owned_project(account_id, body["project_id"])
        target = f"project:{body['project_id']}"
    elif isinstance(body.get("email"), str) and "@" in body["email"]:
        target = f"user:{body['email'].lower()}"
    else:
        raise unprocessable(
            [detail_item(["body"], "name a project_id or an email to share with", "missing")]
        )
    return {"target": target, "permission": permission, "shared_at": now_iso()}
