"""``/builder/agent``: agents of the caller's project (see ``services/_builder``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from viksa_ai.devtools.platform.http._bodies import JsonBody
from viksa_ai.devtools.platform.http._deps import PageDep, PlatformDep, ProjectDep
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = PlatformRouter(prefix="/builder/agent", tags=["builder"])


@router.post("/create", status_code=201)
async def create_agent(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A new agent, checked by the devtools validator; its alias is unique in the project."""
    return await platform.agents.create(
        tenant.caller, body, org_id=tenant.org_id, user_id=tenant.principal.user_id
    )


@router.get("/list")
async def list_agents(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """One page of the project's agents, optionally matching ``search``."""
    found = platform.agents.page(tenant.project, search, skip=page.skip, limit=page.limit)
    return listing("agents", found, page)


@router.get("/{agent_id}")
async def get_agent(agent_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One agent."""
    return platform.agents.get(tenant.caller, agent_id)


@router.put("/{agent_id}")
async def update_agent(
    agent_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change the fields sent (others stay); each update is a new revision."""
    return await platform.agents.update(
        tenant.caller, agent_id, body, user_id=tenant.principal.user_id
    )


@router.delete("/{agent_id}")
async def delete_agent(agent_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete an agent, its revisions and its deployment."""
    await platform.agents.delete(tenant.caller, agent_id)
    return {"id": agent_id, "deleted": True}


@router.patch("/{agent_id}/status")
async def set_status(
    agent_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Enable or disable the whole agent (a disabled agent does not execute)."""
    return platform.agents.set_status(tenant.caller, agent_id, body)


@router.patch("/{agent_id}/endpoint/{name}/status")
async def set_endpoint_status(
    agent_id: str, name: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Enable or disable one endpoint (takes effect at once, deployed or not)."""
    return platform.agents.set_endpoint_status(tenant.caller, agent_id, name, body)


@router.get("/{agent_id}/revisions")
async def list_revisions(agent_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Every revision of an agent, oldest first (without the snapshots)."""
    return platform.agents.revisions(tenant.caller, agent_id)


@router.get("/{agent_id}/revisions/{revision}")
async def get_revision(
    agent_id: str, revision: int, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """The agent as it was at one revision."""
    return platform.agents.revision(tenant.caller, agent_id, revision)


@router.post("/{agent_id}/share")
async def share_agent(
    agent_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Share an agent with a user (``email``) or another project (``project_id``)."""
    return platform.agents.share(tenant.caller, agent_id, body)
