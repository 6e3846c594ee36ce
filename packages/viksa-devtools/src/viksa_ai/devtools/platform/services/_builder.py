"""The agents of a project: create, change (each change a revision), status, sharing.

Every create and update runs the devtools validator (in a worker) on the merged agent;
aliases are unique per project (409 ``alias_taken``). Deleting an agent removes its
revisions and deployment and retires its warm workers.
"""

from __future__ import annotations

from typing import Any

from viksa_ai.devtools.platform.services._accounts import Accounts
from viksa_ai.devtools.platform.services._agents import (
    PLATFORM_FIELDS,
    checked_agent,
    endpoint_of,
    new_agent,
    save_revision,
)
from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._engine import Engine
from viksa_ai.devtools.platform.services._errors import (
    bad_request,
    conflict,
    detail_item,
    not_found,
    unprocessable,
)
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.store._store import Doc, KeyTakenError, Store

__all__ = ["Agents"]

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


class Agents:
    """The ``agent`` and ``agent_revision`` records of each project."""

    def __init__(
        self, store: Store, engine: Engine, accounts: Accounts, *, validation_time_limit: float
    ) -> None:
        self.store = store
        self.engine = engine
        self.accounts = accounts
        self.validation_time_limit = validation_time_limit

    def get(self, caller: Caller, agent_id: str) -> Doc:
        """One agent of the caller's project."""
        return owned_record(self.store, "agent", "Agent", agent_id, caller)

    async def create(
        self, caller: Caller, body: dict[str, Any], *, org_id: str | None, user_id: str | None
    ) -> Doc:
        """A new agent, checked by the validator; its alias is unique in the project."""
        fields = await checked_agent(
            body, self.store, caller.project_id, time_limit=self.validation_time_limit
        )
        agent = new_agent(fields, org_id=org_id, project_id=caller.project_id, user_id=user_id)
        try:
            with self.store.transaction():
                self.store.insert("agent", agent, scope=caller.project_id, key=agent["agent_alias"])
                save_revision(self.store, agent, sorted(fields), user_id)
        except KeyTakenError as exc:
            raise _alias_taken(agent["agent_alias"]) from exc
        return agent

    def page(
        self, project_id: str, search: str | None, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of a project's agents, optionally matching ``search``."""
        return self.store.query(
            "agent",
            scope=project_id,
            search=search,
            search_fields=_SEARCHED,
            skip=skip,
            limit=limit,
        )

    async def update(
        self, caller: Caller, agent_id: str, body: dict[str, Any], *, user_id: str | None
    ) -> Doc:
        """Change the fields sent (others stay); each update is a new revision."""
        agent = self.get(caller, agent_id)
        changed = sorted(k for k in body if k not in PLATFORM_FIELDS)
        if not changed:
            raise bad_request("The update sets no agent field.", code="empty_update")
        merged = {k: v for k, v in agent.items() if k not in PLATFORM_FIELDS}
        merged.update({k: body[k] for k in changed})
        fields = await checked_agent(
            merged, self.store, caller.project_id, time_limit=self.validation_time_limit
        )
        try:
            with self.store.transaction():
                # The agent as stored now: a build, deploy or status change served while
                # the edit was checked is kept (the copy read before was saved over it).
                current = self.store.get("agent", agent_id)
                if current is None:
                    raise not_found("Agent", agent_id)
                if current["revision"] != agent["revision"]:
                    # Another edit came first: this one was checked against what it
                    # replaced, and would undo it (it failed as an alias clash).
                    raise conflict(
                        f"Agent {agent_id!r} was changed while this update was checked (now "
                        f"revision {current['revision']}): read it again and resend the update.",
                        code="edit_conflict",
                    )
                platform_fields = {k: v for k, v in current.items() if k in PLATFORM_FIELDS}
                updated = {**fields, **platform_fields}
                updated["revision"] += 1
                updated["updated_at"] = now_iso()
                if updated["build_status"] == "built":
                    updated["build_status"] = "outdated"
                self.store.rekey("agent", agent_id, updated["agent_alias"])
                self.store.save("agent", updated)
                save_revision(self.store, updated, changed, user_id)
        except KeyTakenError as exc:
            raise _alias_taken(str(fields["agent_alias"])) from exc
        return updated

    async def delete(self, caller: Caller, agent_id: str) -> None:
        """Delete an agent, its revisions and its deployment; retire its workers."""
        self.get(caller, agent_id)
        with self.store.transaction():
            revisions, _ = self.store.query("agent_revision", where={"agent_id": agent_id})
            for revision in revisions:
                self.store.delete("agent_revision", revision["id"])
            self.store.delete("deployment", agent_id)
            self.store.delete("agent", agent_id)
        await self.engine.forget(agent_id)

    def set_status(self, caller: Caller, agent_id: str, body: dict[str, Any]) -> Doc:
        """Enable or disable the whole agent (a disabled agent does not execute)."""
        agent = self.get(caller, agent_id)
        agent["status"] = _status(body)
        agent["updated_at"] = now_iso()
        return self.store.save("agent", agent)

    def set_endpoint_status(
        self, caller: Caller, agent_id: str, name: str, body: dict[str, Any]
    ) -> Doc:
        """Enable or disable one endpoint (takes effect at once, deployed or not)."""
        agent = self.get(caller, agent_id)
        status = _status(body)
        if endpoint_of(agent, name) is None:
            raise not_found("Endpoint", name)
        for endpoint in agent["agent_endpoints"]:
            if name in (endpoint["name"], endpoint["endpoint"]):
                endpoint["status"] = status
        agent["updated_at"] = now_iso()
        return self.store.save("agent", agent)

    def revisions(self, caller: Caller, agent_id: str) -> Doc:
        """Every revision of an agent, oldest first (without the snapshots)."""
        self.get(caller, agent_id)
        found, total = self.store.query("agent_revision", where={"agent_id": agent_id})
        return {
            "revisions": [{k: v for k, v in r.items() if k != "agent"} for r in found],
            "total": total,
        }

    def revision(self, caller: Caller, agent_id: str, revision: int) -> Doc:
        """The agent as it was at one revision."""
        self.get(caller, agent_id)
        found = self.store.get("agent_revision", f"{agent_id}@{revision}")
        if found is None:
            raise not_found("Revision", str(revision))
        return found

    def share(self, caller: Caller, agent_id: str, body: dict[str, Any]) -> Doc:
        """Share an agent with a user (``email``) or another project (``project_id``)."""
        agent = self.get(caller, agent_id)
        entry = self._share_entry(caller.account_id, body)
        shares = [s for s in agent["shared_with"] if s["target"] != entry["target"]]
        agent["shared_with"] = [*shares, entry]
        agent["updated_at"] = now_iso()
        self.store.save("agent", agent)
        return {"agent_id": agent_id, "shared_with": agent["shared_with"]}

    def _share_entry(self, account_id: str, body: dict[str, Any]) -> Doc:
        permission = body.get("permission", "view")
        if permission not in ("view", "edit", "execute"):
            raise unprocessable(
                [detail_item(["body", "permission"], "use view, edit or execute", "enum")]
            )
        if isinstance(body.get("project_id"), str):
            self.accounts.owned_project(account_id, body["project_id"])
            target = f"project:{body['project_id']}"
        elif isinstance(body.get("email"), str) and "@" in body["email"]:
            target = f"user:{body['email'].lower()}"
        else:
            raise unprocessable(
                [detail_item(["body"], "name a project_id or an email to share with", "missing")]
            )
        return {"target": target, "permission": permission, "shared_at": now_iso()}
