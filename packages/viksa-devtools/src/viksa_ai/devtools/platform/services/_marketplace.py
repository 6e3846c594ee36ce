"""The marketplace: publisher profiles, listings, workforces and their installations.

Profiles, listings and workforces live in one scope shared by every account; listings
and workforces are visible to every account once published. Installing one copies its
agents (and a workforce's workflow) into the caller's project.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from viksa_ai.devtools._json import dumps_json
from viksa_ai.devtools.platform.services._agents import (
    checked_agent,
    manifest_of,
    new_agent,
    save_revision,
)
from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._errors import (
    conflict,
    detail_item,
    not_found,
    unprocessable,
)
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._validation import required_id
from viksa_ai.devtools.platform.services._vault import AUTH_METHODS_FIELD
from viksa_ai.devtools.platform.store._store import Doc, KeyTakenError, Kind, Store

__all__ = ["CATEGORIES", "MAX_PUBLIC_BYTES", "MAX_WORKFORCE_AGENTS", "Installer", "Marketplace"]

MARKET = "marketplace"
"""The store scope of what every account shares: profiles, listings, workforces."""

CATEGORIES = (
    "productivity",
    "data",
    "developer-tools",
    "finance",
    "travel",
    "customer-support",
    "other",
)
"""The listing categories."""

# What the platform sets: a body never changes it (on create, publish or a profile update).
_FIXED = frozenset(
    {"id", "status", "publisher_id", "account_id", "created_at", "installs"}
    | {"agent_alias", "manifest", "published_at", "agents", "workflow"}
)
_SEARCHED = ("name", "description", "category")


@dataclass(frozen=True)
class Installer:
    """Who installs and where: the caller, plus the org and user new agents record."""

    caller: Caller
    org_id: str | None
    user_id: str | None


MAX_WORKFORCE_AGENTS = 100
"""How many agents one workforce may publish (each once)."""

MAX_PUBLIC_BYTES = 64 * 1024
"""How large the fields a publisher writes on a profile, listing or workforce may be
(UTF-8 JSON of all of them and a workforce's workflow, the agents' manifests aside):
every account reads these."""


def _fields(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _FIXED}


def _public(item: Doc) -> Doc:
    """``item`` once its publisher-written fields fit :data:`MAX_PUBLIC_BYTES` (422 else).

    Every account's listing and search pages carry these records: without a bound, one
    account's 5 MB descriptions made every other account's page tens of megabytes.
    """
    # A workforce's workflow is a copy of what the publisher wrote (names, step inputs).
    written = {**_fields(item), "workflow": item.get("workflow")}
    size = len(dumps_json(written).encode())
    if size > MAX_PUBLIC_BYTES:
        raise unprocessable(
            [
                detail_item(
                    ["body"],
                    f"the published fields take {size:,} bytes, more than the "
                    f"{MAX_PUBLIC_BYTES:,} every account's pages can carry: shorten the "
                    "description (or the agent's) and other text",
                    "value_error.too_large",
                )
            ]
        )
    return item


def _category(body: dict[str, Any]) -> str:
    category = body.get("category", "other")
    if category not in CATEGORIES:
        raise unprocessable(
            [detail_item(["body", "category"], f"use one of {', '.join(CATEGORIES)}", "enum")]
        )
    return str(category)


def _shared(agent: Doc) -> Doc:
    # Every account reads a listing: the publisher's vault bindings stay home (an
    # install never used them: the installer binds their own secrets).
    return {k: v for k, v in manifest_of(agent).items() if k != AUTH_METHODS_FIELD}


class Marketplace:
    """The ``publisher``, ``listing``, ``workforce`` and ``installation`` records."""

    def __init__(self, store: Store, *, validation_time_limit: float) -> None:
        self.store = store
        self.validation_time_limit = validation_time_limit

    # -- publishers ------------------------------------------------------------------------

    def profile(self, caller: Caller) -> Doc:
        """The caller's publisher profile; 404 before they create one."""
        profile = self.store.find("publisher", MARKET, caller.account_id)
        if profile is None:
            raise not_found("Publisher profile of account", caller.account_id)
        return profile

    def create_profile(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """The caller's publisher profile (one per account: 409 ``profile_exists``)."""
        now = now_iso()
        profile = {
            "display_name": "Publisher",
            **_fields(body),
            "id": new_id("pub"),
            "account_id": caller.account_id,
            "created_at": now,
            "updated_at": now,
        }
        try:
            return self.store.insert(
                "publisher", _public(profile), scope=MARKET, key=caller.account_id
            )
        except KeyTakenError as exc:
            raise conflict(
                "This account already has a publisher profile: update it instead.",
                code="profile_exists",
            ) from exc

    def update_profile(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """Change the caller's publisher profile."""
        profile = self.profile(caller)
        profile.update(_fields(body))
        profile["updated_at"] = now_iso()
        return self.store.save("publisher", _public(profile))

    # -- what is visible -------------------------------------------------------------------

    def _visible(self, caller: Caller, kind: Kind, item_id: str) -> Doc:
        item = self.store.get(kind, item_id)
        if item is None or (
            item["status"] != "published" and item["account_id"] != caller.account_id
        ):
            raise not_found("Listing" if kind == "listing" else "Workforce", item_id)
        return item

    def listing(self, caller: Caller, listing_id: str) -> Doc:
        """A published listing, or one of the caller's drafts; 404 otherwise."""
        return self._visible(caller, "listing", listing_id)

    def workforce(self, caller: Caller, workforce_id: str) -> Doc:
        """A published workforce, or one of the caller's; 404 otherwise."""
        return self._visible(caller, "workforce", workforce_id)

    def _search(
        self, kind: Kind, text: str | None, *, skip: int, limit: int, **where: Any
    ) -> tuple[list[Doc], int]:
        return self.store.query(
            kind,
            scope=MARKET,
            where={k: v for k, v in where.items() if v is not None},
            search=text,
            search_fields=_SEARCHED,
            skip=skip,
            limit=limit,
        )

    def search_listings(
        self, text: str | None, category: str | None, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of published listings holding ``text``, in ``category`` when given."""
        return self._search(
            "listing", text, skip=skip, limit=limit, status="published", category=category
        )

    def search_workforces(
        self, text: str | None, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of published workforces holding ``text``."""
        return self._search("workforce", text, skip=skip, limit=limit, status="published")

    def listings(
        self, caller: Caller, status: str | None, *, mine: bool, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """Published listings, or with ``mine`` (or a status other than published) the caller's.

        Only the caller's own listings can be in another state (a ``draft``), so such a
        ``status`` lists the caller's own either way.
        """
        if mine or status not in (None, "published"):
            return self._search(
                "listing", None, skip=skip, limit=limit, account_id=caller.account_id, status=status
            )
        return self._search("listing", None, skip=skip, limit=limit, status="published")

    def installations(self, project_id: str, *, skip: int, limit: int) -> tuple[list[Doc], int]:
        """One page of what a project installed from the marketplace."""
        return self.store.query("installation", scope=project_id, skip=skip, limit=limit)

    # -- listings --------------------------------------------------------------------------

    def create_listing(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """A ``draft`` listing of one of the caller's agents (needs a publisher profile)."""
        publisher = self.profile(caller)
        agent = owned_record(self.store, "agent", "Agent", required_id(body, "agent_id"), caller)
        category = _category(body)
        item = {
            "name": agent["agent_name"],
            "description": agent["agent_description"],
            **_fields(body),
            "id": new_id("lst"),
            "category": category,
            "status": "draft",
            "publisher_id": publisher["id"],
            "account_id": caller.account_id,
            "agent_alias": agent["agent_alias"],
            "manifest": _shared(agent),
            "installs": 0,
            "created_at": now_iso(),
            "published_at": None,
        }
        return self.store.insert("listing", _public(item), scope=MARKET)

    def publish_listing(self, caller: Caller, listing_id: str, body: dict[str, Any]) -> Doc:
        """draft -> published (the caller's own listings only)."""
        item = self.listing(caller, listing_id)
        if item["account_id"] != caller.account_id:
            raise not_found("Listing", listing_id)
        if item["status"] == "published":
            raise conflict(
                f"Listing {listing_id!r} is already published.", code="already_published"
            )
        if "category" in body:
            _category(body)
        item.update(_fields(body))
        item.update(status="published", published_at=now_iso())
        return self.store.save("listing", _public(item))

    async def install_listing(self, who: Installer, listing_id: str, body: dict[str, Any]) -> Doc:
        """Copy a published listing's agent into the caller's project (``alias`` optional)."""
        item = self.listing(who.caller, listing_id)
        if item["status"] != "published":
            raise conflict("Only a published listing can be installed.", code="not_published")
        alias = str(body.get("alias") or item["agent_alias"])
        agent = self._store_agent(who, await self._checked(who, item["manifest"], alias))
        return {**self._record_install(who.caller, item, "listing", [agent["id"]]), "agent": agent}

    # -- workforces ------------------------------------------------------------------------

    def publish_workforce(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """Publish a team of agents (``agent_ids``) and optionally their ``workflow_id``."""
        publisher = self.profile(caller)
        agent_ids = body.get("agent_ids")
        if not isinstance(agent_ids, list) or not agent_ids:
            raise unprocessable(
                [detail_item(["body", "agent_ids"], "name at least one agent", "missing")]
            )
        # Each member's manifest is copied into a record every account reads: a repeated
        # id (or thousands of agents) made one workforce hundreds of megabytes.
        if len(agent_ids) > MAX_WORKFORCE_AGENTS or len(set(map(str, agent_ids))) < len(agent_ids):
            message = f"name at most {MAX_WORKFORCE_AGENTS} agents, each once"
            raise unprocessable([detail_item(["body", "agent_ids"], message, "value_error")])
        agents = [owned_record(self.store, "agent", "Agent", str(a), caller) for a in agent_ids]
        workflow = None
        if body.get("workflow_id") is not None:
            workflow_id = str(body["workflow_id"])
            workflow = owned_record(self.store, "workflow", "Workflow", workflow_id, caller)
            _check_members(workflow, {a["id"] for a in agents})
        now = now_iso()
        item = {
            "name": "workforce",
            **_fields(body),
            "category": _category(body),
            "id": new_id("wkf"),
            "status": "published",
            "publisher_id": publisher["id"],
            "account_id": caller.account_id,
            "agents": [
                {"agent_alias": a["agent_alias"], "source_id": a["id"], "manifest": _shared(a)}
                for a in agents
            ],
            "workflow": workflow,
            "installs": 0,
            "created_at": now,
            "published_at": now,
        }
        return self.store.insert("workforce", _public(item), scope=MARKET)

    async def install_workforce(
        self, who: Installer, workforce_id: str, body: dict[str, Any]
    ) -> Doc:
        """Copy a workforce's agents (aliases suffixed by ``alias_suffix``) and workflow."""
        item = self.workforce(who.caller, workforce_id)
        suffix = str(body.get("alias_suffix") or "")
        new_ids: dict[str, str] = {}
        # Every check first: an await inside the transaction would let requests served
        # meanwhile write into it (one connection), and a failed install undo them.
        checked = [
            (
                member["source_id"],
                await self._checked(who, member["manifest"], member["agent_alias"] + suffix),
            )
            for member in item["agents"]
        ]
        with self.store.transaction():
            for source_id, fields in checked:
                new_ids[source_id] = self._store_agent(who, fields)["id"]
            workflow = None
            if item.get("workflow"):
                workflow = _copied_workflow(item, suffix, new_ids)
                self.store.insert("workflow", workflow, scope=who.caller.project_id)
            record = self._record_install(who.caller, item, "workforce", list(new_ids.values()))
        return {**record, "workflow": workflow}

    # -- installing ------------------------------------------------------------------------

    async def _checked(self, who: Installer, manifest: Doc, alias: str) -> Doc:
        # Vault bindings point at the publisher's secrets: the installer binds their own.
        body = {k: v for k, v in manifest.items() if k != AUTH_METHODS_FIELD}
        return await checked_agent(
            {**body, "agent_alias": alias},
            self.store,
            who.caller.project_id,
            time_limit=self.validation_time_limit,
        )

    def _store_agent(self, who: Installer, fields: Doc) -> Doc:
        project_id = who.caller.project_id
        alias = fields["agent_alias"]
        agent = new_agent(fields, org_id=who.org_id, project_id=project_id, user_id=who.user_id)
        try:
            with self.store.transaction():
                self.store.insert("agent", agent, scope=project_id, key=alias)
                save_revision(self.store, agent, sorted(fields), who.user_id)
        except KeyTakenError as exc:
            raise conflict(
                f"An agent with alias {alias!r} already exists in this project: pass another "
                '"alias" in the install body.',
                code="alias_taken",
                field="alias",
            ) from exc
        return agent

    def _record_install(self, caller: Caller, item: Doc, kind: Kind, agents: list[str]) -> Doc:
        # Counted on the record as it is now: ``item`` was read before the install
        # awaited the validator, and other installs may have been counted since.
        current = self.store.get(kind, item["id"]) or item
        current["installs"] = current.get("installs", 0) + 1
        self.store.save(kind, current)
        installation = {
            "id": new_id("ins"),
            f"{kind}_id": item["id"],
            "kind": kind,
            "agent_ids": agents,
            "project_id": caller.project_id,
            "installed_at": now_iso(),
        }
        return self.store.insert("installation", installation, scope=caller.project_id)


def _check_members(workflow: Doc, members: set[str]) -> None:
    """422 unless each step of a workforce's workflow runs one of its agents.

    An install points the steps at its copies of those agents: a step on another agent
    kept the publisher's agent id, which never runs in the installer's project.
    """
    for step in workflow.get("steps", []):
        if step.get("agent_id") not in members:
            message = (
                f"step {step.get('id')!r} of the workflow runs agent {step.get('agent_id')!r}, "
                "which is not in agent_ids: add it to the workforce"
            )
            raise unprocessable([detail_item(["body", "workflow_id"], message, "value_error")])


def _copied_workflow(workforce: Doc, suffix: str, new_ids: dict[str, str]) -> Doc:
    """A workforce's workflow pointing at the installed copies of its agents."""
    source = workforce["workflow"]
    alias_map = {m["agent_alias"]: m["agent_alias"] + suffix for m in workforce["agents"]}
    steps = []
    for step in source.get("steps", []):
        alias, _, rest = step["endpoint"].partition(".")
        steps.append(
            {
                **step,
                "agent_id": new_ids.get(step["agent_id"], step["agent_id"]),
                "endpoint": f"{alias_map.get(alias, alias)}.{rest}",
            }
        )
    return {
        **source,
        "id": new_id("wfl"),
        "steps": steps,
        "installed_from": workforce["id"],
        "created_at": now_iso(),
    }
