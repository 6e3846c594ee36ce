"""``/builder/mcp/servers`` (hosted MCP server records) and ``/builder/mappings``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query

from viksa_ai.devtools.platform.http._bodies import JsonBody
from viksa_ai.devtools.platform.http._deps import PageDep, PlatformDep, ProjectDep
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._router import PlatformRouter
from viksa_ai.devtools.platform.store._store import Doc

__all__ = ["router"]

router = PlatformRouter(prefix="/builder", tags=["mcp"])


@router.post("/mcp/servers", status_code=201)
async def create_server(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Register an MCP server (it starts ``stopped``)."""
    return platform.mcp_servers.create(tenant.caller, body)


@router.get("/mcp/servers")
async def list_servers(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    status: Annotated[Literal["running", "stopped"] | None, Query()] = None,
) -> dict[str, Any]:
    """One page of the project's MCP servers, optionally only those in ``status``."""
    found = platform.mcp_servers.page(tenant.project, status, skip=page.skip, limit=page.limit)
    return listing("servers", found, page)


@router.get("/mcp/servers/{server_id}")
async def get_server(server_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One MCP server."""
    return platform.mcp_servers.get(tenant.caller, server_id)


@router.patch("/mcp/servers/{server_id}")
async def update_server(
    server_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a server's configuration (not its state: use start/stop)."""
    return platform.mcp_servers.update(tenant.caller, server_id, body)


@router.delete("/mcp/servers/{server_id}")
async def delete_server(server_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete a stopped server; 409 while it runs."""
    platform.mcp_servers.delete(tenant.caller, server_id)
    return {"id": server_id, "deleted": True}


@router.post("/mcp/servers/{server_id}/start")
async def start_server(server_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """stopped -> running."""
    return platform.mcp_servers.move(tenant.caller, server_id, "running")


@router.post("/mcp/servers/{server_id}/stop")
async def stop_server(server_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """running -> stopped."""
    return platform.mcp_servers.move(tenant.caller, server_id, "stopped")


@router.get("/mappings/{agent_id}")
async def get_mappings(agent_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """How an agent's endpoints map to runnable paths, and what is deployed."""
    return platform.mcp_servers.mappings(tenant.caller, agent_id)
