"""``/builder/mcp/servers`` (hosted MCP server records) and ``/builder/mappings``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from viksa_ai.devtools.platform._bodies import JsonBody
from viksa_ai.devtools.platform._clock import now_iso
from viksa_ai.devtools.platform._deps import PageDep, PlatformDep, ProjectDep, owned
from viksa_ai.devtools.platform._errors import conflict, detail_item, unprocessable
from viksa_ai.devtools.platform._listing import listing
from viksa_ai.devtools.platform._security import new_id
from viksa_ai.devtools.platform._store import Doc, KeyTakenError
from viksa_ai.devtools.platform._strict_route import StrictJsonRoute

__all__ = ["router"]

router = APIRouter(route_class=StrictJsonRoute, prefix="/builder", tags=["mcp"])
_FIXED = frozenset({"id", "status", "created_at", "updated_at", "started_at", "stopped_at"})


def _name_taken(name: str) -> Exception:
    return conflict(
        f"An MCP server named {name!r} already exists in this project.",
        code="server_name_taken",
        field="name",
    )


def _name(body: dict[str, Any]) -> str:
    """The server name of ``body``: a non-blank string, 422 otherwise."""
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise unprocessable([detail_item(["body", "name"], "Field required", "missing")])
    return name


@router.post("/mcp/servers", status_code=201)
async def create_server(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Register an MCP server (it starts ``stopped``)."""
    name = _name(body)
    now = now_iso()
    server = {
        "transport": "stdio",
        **{k: v for k, v in body.items() if k not in _FIXED},
        "id": new_id("mcp"),
        "status": "stopped",
        "created_at": now,
        "updated_at": now,
        "started_at": None,
        "stopped_at": None,
    }
    try:
        return platform.store.insert("mcp_server", server, scope=tenant.project, key=name)
    except KeyTakenError as exc:
        raise _name_taken(name) from exc


@router.get("/mcp/servers")
async def list_servers(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    status: Annotated[Literal["running", "stopped"] | None, Query()] = None,
) -> dict[str, Any]:
    """One page of the project's MCP servers, optionally only those in ``status``."""
    found = platform.store.query(
        "mcp_server",
        scope=tenant.project,
        where=None if status is None else {"status": status},
        skip=page.skip,
        limit=page.limit,
    )
    return listing("servers", found, page)


@router.get("/mcp/servers/{server_id}")
async def get_server(server_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One MCP server."""
    return owned(platform, "mcp_server", "MCP server", server_id, tenant)


@router.patch("/mcp/servers/{server_id}")
async def update_server(
    server_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Change a server's configuration (not its state: use start/stop)."""
    server = owned(platform, "mcp_server", "MCP server", server_id, tenant)
    name = _name(body) if "name" in body else str(server["name"])
    server.update({k: v for k, v in body.items() if k not in _FIXED})
    server["updated_at"] = now_iso()
    try:
        with platform.store.transaction():
            platform.store.rekey("mcp_server", server_id, name)
            return platform.store.save("mcp_server", server)
    except KeyTakenError as exc:
        raise _name_taken(name) from exc


@router.delete("/mcp/servers/{server_id}")
async def delete_server(server_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Delete a stopped server; 409 while it runs."""
    server = owned(platform, "mcp_server", "MCP server", server_id, tenant)
    if server["status"] == "running":
        raise conflict(
            f"MCP server {server_id!r} is running: stop it before deleting it.",
            code="server_running",
        )
    platform.store.delete("mcp_server", server_id)
    return {"id": server_id, "deleted": True}


def _transition(platform: Any, server: Doc, to: str) -> Doc:
    if server["status"] == to:
        raise conflict(f"MCP server {server['id']!r} is already {to}.", code=f"already_{to}")
    server["status"] = to
    server["started_at" if to == "running" else "stopped_at"] = now_iso()
    server["updated_at"] = now_iso()
    saved: Doc = platform.store.save("mcp_server", server)
    return saved


@router.post("/mcp/servers/{server_id}/start")
async def start_server(server_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """stopped -> running."""
    server = owned(platform, "mcp_server", "MCP server", server_id, tenant)
    return _transition(platform, server, "running")


@router.post("/mcp/servers/{server_id}/stop")
async def stop_server(server_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """running -> stopped."""
    server = owned(platform, "mcp_server", "MCP server", server_id, tenant)
    return _transition(platform, server, "stopped")


@router.get("/mappings/{agent_id}")
async def get_mappings(agent_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """How an agent's endpoints map to runnable paths, and what is deployed."""
    agent = owned(platform, "agent", "Agent", agent_id, tenant)
    deployment = platform.store.get("deployment", agent_id)
    return {
        "agent_id": agent_id,
        "agent_alias": agent["agent_alias"],
        "deployed_revision": None if deployment is None else deployment["revision"],
        "endpoints": [
            {
                "name": e["name"],
                "module": e["module"],
                "endpoint": e["endpoint"],
                "status": e["status"],
                "inputs": [i["input_ref"] for i in e.get("inputs", [])],
                "requires_approval": bool(
                    (e.get("execution_config") or {}).get("requires_approval")
                ),
            }
            for e in agent["agent_endpoints"]
        ],
    }
