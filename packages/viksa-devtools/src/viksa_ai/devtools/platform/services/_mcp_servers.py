"""Hosted MCP server records: a configuration per name and a ``running``/``stopped`` state.

The local platform keeps the records the hosted one answers; it runs no MCP server.

A server's ``env`` (its environment: API keys, typically) and ``headers`` (what an
http server is sent: ``Authorization``, typically) are secrets as vault values are:
each value is sealed with the key kept outside the data file (see ``store._at_rest``),
bound to its server, field and name, and no answer shows it: both come back with every
value as ``***``. An update may send ``***`` for a name to keep its stored value (what
a client that read the server sends back). Only whatever runs the server is given the
values (:meth:`McpServers.environment`, :meth:`McpServers.request_headers`). Records an
earlier version wrote in plain text are sealed at start
(:meth:`McpServers.seal_plain_secrets`), and the answers it kept for
``Idempotency-Key`` replays masked (:func:`masked_server_answer`).
"""

from __future__ import annotations

import json
from typing import Any

from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._errors import conflict, detail_item, unprocessable
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.store._at_rest import SEALED_PREFIX
from viksa_ai.devtools.platform.store._store import Doc, KeyTakenError, Store

__all__ = ["ENV_MASK", "SECRET_FIELDS", "McpServers", "masked_server_answer"]

ENV_MASK = "***"
"""What answers show in place of each secret value (and what an update sends to keep one)."""

SECRET_FIELDS = ("env", "headers")
"""The fields of a server record whose values are secrets: names and text values."""
_WHAT = {"env": "environment variable", "headers": "header"}

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


def _context(server_id: str, field: str, name: str) -> str:
    return f"mcp_{field}:{server_id}:{name}"


def _secret_items(body: dict[str, Any], field: str) -> dict[str, str] | None:
    """``body[field]`` as names and text values; None when absent or null; 422 else.

    The messages never repeat a value: they are secrets sent in the wrong shape.
    """
    items = body.get(field)
    if items is None:
        return None
    what = _WHAT[field]
    if not isinstance(items, dict):
        message = f"{field} must be an object of {what} names and text values"
        raise unprocessable([detail_item(["body", field], message, "type_error.dict")])
    for name, value in items.items():
        if not name:
            message = f"an {what} name cannot be empty"
            raise unprocessable([detail_item(["body", field], message, "value_error")])
        if not isinstance(value, str):
            message = f"the value of {name} must be text"
            raise unprocessable([detail_item(["body", field, name], message, "type_error.str")])
    return items


def _shown(server: Doc) -> Doc:
    """``server`` as answers show it: each secret value masked."""
    shown = server
    for field in SECRET_FIELDS:
        items = server.get(field)
        if items is not None:
            masked = dict.fromkeys(items, ENV_MASK) if isinstance(items, dict) else ENV_MASK
            shown = {**shown, field: masked}
    return shown


def masked_server_answer(answer: Any) -> Doc | None:
    """An MCP server answer with its secrets masked; None when it needs no change.

    For answers an earlier version kept for ``Idempotency-Key`` replays, with the values.
    """
    if not (
        isinstance(answer, dict)
        and isinstance(answer.get("id"), str)
        and answer["id"].startswith("mcp_")
        and any(answer.get(field) is not None for field in SECRET_FIELDS)
    ):
        return None
    masked = _shown(answer)
    return None if masked == answer else masked


class McpServers:
    """The ``mcp_server`` records of each project (names unique in a project)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _stored(self, caller: Caller, server_id: str) -> Doc:
        return owned_record(self.store, "mcp_server", "MCP server", server_id, caller)

    def get(self, caller: Caller, server_id: str) -> Doc:
        """One server of the caller's project, its ``env`` values masked."""
        return _shown(self._stored(caller, server_id))

    def environment(self, caller: Caller, server_id: str) -> dict[str, str]:
        """The ``env`` values of a server, unsealed: for whatever runs it, never an answer."""
        return self._unsealed(caller, server_id, "env")

    def request_headers(self, caller: Caller, server_id: str) -> dict[str, str]:
        """The ``headers`` of a server, unsealed: for whatever calls it, never an answer."""
        return self._unsealed(caller, server_id, "headers")

    def _unsealed(self, caller: Caller, server_id: str, field: str) -> dict[str, str]:
        items = self._stored(caller, server_id).get(field)
        if not isinstance(items, dict):
            return {}
        return {
            name: self.store.unseal(value, _context(server_id, field, name))
            for name, value in items.items()
        }

    def _sealed(
        self, server_id: str, field: str, items: dict[str, str], stored: dict[str, Any]
    ) -> dict[str, str]:
        """``items`` of ``field`` as stored: each value sealed, ``***`` keeping the stored one."""
        sealed: dict[str, str] = {}
        for name, value in items.items():
            if value != ENV_MASK:
                sealed[name] = self.store.seal(value, _context(server_id, field, name))
            elif isinstance(stored.get(name), str):
                sealed[name] = stored[name]
            else:
                message = f"{name} has no stored value to keep: send its value"
                raise unprocessable([detail_item(["body", field, name], message, "value_error")])
        return sealed

    def _seal_fields(self, server: Doc, body: dict[str, Any], stored: Doc) -> None:
        """Seal into ``server`` each secret field ``body`` sends (``stored``: the record)."""
        for field in SECRET_FIELDS:
            items = _secret_items(body, field)
            if items is not None:
                kept = stored.get(field)
                kept = kept if isinstance(kept, dict) else {}
                server[field] = self._sealed(str(server["id"]), field, items, kept)

    def create(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """Register a server (it starts ``stopped``)."""
        name = _name(body)
        now = now_iso()
        server_id = new_id("mcp")
        server = {
            "transport": "stdio",
            **{k: v for k, v in body.items() if k not in _FIXED},
            "id": server_id,
            "status": "stopped",
            "created_at": now,
            "updated_at": now,
            "started_at": None,
            "stopped_at": None,
        }
        self._seal_fields(server, body, {})
        try:
            self.store.insert("mcp_server", server, scope=caller.project_id, key=name)
        except KeyTakenError as exc:
            raise _name_taken(name) from exc
        return _shown(server)

    def page(
        self, project_id: str, status: str | None, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of a project's servers (``env`` masked), optionally only in ``status``."""
        servers, total = self.store.query(
            "mcp_server",
            scope=project_id,
            where=None if status is None else {"status": status},
            skip=skip,
            limit=limit,
        )
        return [_shown(server) for server in servers], total

    def update(self, caller: Caller, server_id: str, body: dict[str, Any]) -> Doc:
        """Change a server's configuration (not its state: see :meth:`move`).

        ``env`` or ``headers``, when sent, replaces the server's; a name sent as ``***``
        keeps its stored value.
        """
        server = self._stored(caller, server_id)
        name = _name(body) if "name" in body else str(server["name"])
        stored = dict(server)
        server.update({k: v for k, v in body.items() if k not in _FIXED})
        self._seal_fields(server, body, stored)
        server["updated_at"] = now_iso()
        try:
            with self.store.transaction():
                self.store.rekey("mcp_server", server_id, name)
                self.store.save("mcp_server", server)
        except KeyTakenError as exc:
            raise _name_taken(name) from exc
        return _shown(server)

    def seal_plain_secrets(self) -> int:
        """Seal the secret values an earlier version stored in plain text; how many servers.

        Run at every start (the records are few): a data file sealed for the vault may
        still hold MCP records written before their values were sealed.
        """
        changed = 0
        with self.store.transaction():
            for server in self.store.query("mcp_server")[0]:
                sealed_any = False
                for field in SECRET_FIELDS:
                    items = server.get(field)
                    if items is None:
                        continue
                    if not isinstance(items, dict):
                        # Any JSON was kept before: sealed whole, as one value without a name.
                        items = {"": items}
                    plain = {
                        name: value if isinstance(value, str) else json.dumps(value)
                        for name, value in items.items()
                        if not (isinstance(value, str) and value.startswith(SEALED_PREFIX))
                    }
                    if plain:
                        sealed = self._sealed(server["id"], field, plain, {})
                        server[field] = {**items, **sealed}
                        sealed_any = True
                if sealed_any:
                    self.store.save("mcp_server", server)
                    changed += 1
        return changed

    def delete(self, caller: Caller, server_id: str) -> None:
        """Delete a stopped server; 409 while it runs."""
        server = self._stored(caller, server_id)
        if server["status"] == "running":
            raise conflict(
                f"MCP server {server_id!r} is running: stop it before deleting it.",
                code="server_running",
            )
        self.store.delete("mcp_server", server_id)

    def move(self, caller: Caller, server_id: str, to: str) -> Doc:
        """``stopped`` <-> ``running``; 409 when already there."""
        server = self._stored(caller, server_id)
        if server["status"] == to:
            raise conflict(f"MCP server {server['id']!r} is already {to}.", code=f"already_{to}")
        server["status"] = to
        server["started_at" if to == "running" else "stopped_at"] = now_iso()
        server["updated_at"] = now_iso()
        return _shown(self.store.save("mcp_server", server))

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
