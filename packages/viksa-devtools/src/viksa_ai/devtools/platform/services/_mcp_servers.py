"""Hosted MCP server records: a configuration per name and a ``running``/``stopped`` state.

The local platform keeps the records the hosted one answers; it runs no MCP server.
"""

from __future__ import annotations

from typing import Any

from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._errors import conflict, detail_item, unprocessable
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.store._store import Doc, KeyTakenError, Store

__all__ = ["McpServers"]

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


class McpServers:
    """The ``mcp_server`` records of each project (names unique in a project)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, caller: Caller, server_id: str) -> Doc:
        """One server of the caller's project."""
        return owned_record(self.store, "mcp_server", "MCP server", server_id, caller)

    def create(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """Register a server (it starts ``stopped``)."""
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
            return self.store.insert("mcp_server", server, scope=caller.project_id, key=name)
        except KeyTakenError as exc:
            raise _name_taken(name) from exc

    def page(
        self, project_id: str, status: str | None, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of a project's servers, optionally only those in ``status``."""
        return self.store.query(
            "mcp_server",
            scope=project_id,
            where=None if status is None else {"status": status},
            skip=skip,
            limit=limit,
        )

    def update(self, caller: Caller, server_id: str, body: dict[str, Any]) -> Doc:
        """Change a server's configuration (not its state: see :meth:`move`)."""
        server = self.get(caller, server_id)
        name = _name(body) if "name" in body else str(server["name"])
        server.update({k: v for k, v in body.items() if k not in _FIXED})
        server["updated_at"] = now_iso()
        try:
            with self.store.transaction():
                self.store.rekey("mcp_server", server_id, name)
                return self.store.save("mcp_server", server)
        except KeyTakenError as exc:
            raise _name_taken(name) from exc

    def delete(self, caller: Caller, server_id: str) -> None:
        """Delete a stopped server; 409 while it runs."""
        server = self.get(caller, server_id)
        if server["status"] == "running":
            raise conflict(
                f"MCP server {server_id!r} is running: stop it before deleting it.",
                code="server_running",
            )
        self.store.delete("mcp_server", server_id)

    def move(self, caller: Caller, server_id: str, to: str) -> Doc:
        """``stopped`` <-> ``running``; 409 when already there."""
        server = self.get(caller, server_id)
        if server["status"] == to:
            raise conflict(f"MCP server {server['id']!r} is already {to}.", code=f"already_{to}")
        server["status"] = to
        server["started_at" if to == "running" else "stopped_at"] = now_iso()
        server["updated_at"] = now_iso()
        return self.store.save("mcp_server", server)

    def mappings(self, caller: Caller, agent_id: str) -> Doc:
        """How an agent's endpoints map to runnable paths, and what is deployed."""
        agent = owned_record(self.store, "agent", "Agent", agent_id, caller)
        deployment = self.store.get("deployment", agent_id)
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
