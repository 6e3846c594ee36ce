"""``/marketplace/api/v1/marketplace``: listings, workforces and publisher profiles.

Listings and workforces are visible to every account once published; installing one
copies its agents (and a workforce's workflow) into the caller's project.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from viksa_ai.devtools.platform._platform import Platform
from viksa_ai.devtools.platform.http._bodies import JsonBody, OptionalJsonBody, required_id
from viksa_ai.devtools.platform.http._deps import PageDep, PlatformDep, ProjectDep, Tenant, owned
from viksa_ai.devtools.platform.http._listing import listing
from viksa_ai.devtools.platform.http._strict_route import StrictJsonRoute
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
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._vault import AUTH_METHODS_FIELD
from viksa_ai.devtools.platform.store._store import Doc, KeyTakenError, Kind

__all__ = ["router"]

router = APIRouter(
    route_class=StrictJsonRoute, prefix="/marketplace/api/v1/marketplace", tags=["marketplace"]
)
MARKET = "marketplace"
CATEGORIES = [
    "productivity",
    "data",
    "developer-tools",
    "finance",
    "travel",
    "customer-support",
    "other",
]
_FIXED = frozenset({"id", "status", "publisher_id", "account_id", "created_at", "installs"})
_SEARCHED = ("name", "description", "category")
Search = Annotated[str | None, Query(max_length=256)]


def _publisher(platform: Platform, tenant: Tenant) -> Doc:
    profile = platform.store.find("publisher", MARKET, tenant.principal.account_id)
    if profile is None:
        raise not_found("Publisher profile of account", tenant.principal.account_id)
    return profile


def _visible(platform: Platform, tenant: Tenant, kind: Kind, item_id: str) -> Doc:
    item = platform.store.get(kind, item_id)
    if item is None or (
        item["status"] != "published" and item["account_id"] != tenant.principal.account_id
    ):
        raise not_found("Listing" if kind == "listing" else "Workforce", item_id)
    return item


async def _install_agent(platform: Platform, tenant: Tenant, manifest: Doc, alias: str) -> Doc:
    # Vault bindings point at the publisher's secrets: the installer binds their own.
    body = {k: v for k, v in manifest.items() if k != AUTH_METHODS_FIELD}
    fields = await checked_agent(
        {**body, "agent_alias": alias},
        platform.store,
        tenant.project,
        time_limit=platform.config.validation_time_limit,
    )
    agent = new_agent(
        fields, org_id=tenant.org_id, project_id=tenant.project, user_id=tenant.principal.user_id
    )
    try:
        with platform.store.transaction():
            platform.store.insert("agent", agent, scope=tenant.project, key=alias)
            save_revision(platform.store, agent, sorted(fields), tenant.principal.user_id)
    except KeyTakenError as exc:
        raise conflict(
            f"An agent with alias {alias!r} already exists in this project: pass another "
            '"alias" in the install body.',
            code="alias_taken",
            field="alias",
        ) from exc
    return agent


def _record_install(
    platform: Platform, tenant: Tenant, item: Doc, kind: Kind, agents: list[str]
) -> Doc:
    item["installs"] = item.get("installs", 0) + 1
    platform.store.save(kind, item)
    installation = {
        "id": new_id("ins"),
        f"{kind}_id": item["id"],
        "kind": kind,
        "agent_ids": agents,
        "project_id": tenant.project,
        "installed_at": now_iso(),
    }
    return platform.store.insert("installation", installation, scope=tenant.project)


# -- publishers ----------------------------------------------------------------------------


@router.post("/publishers/profile", status_code=201)
async def create_profile(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The caller's publisher profile (one per account)."""
    now = now_iso()
    profile = {
        "display_name": "Publisher",
        **{k: v for k, v in body.items() if k not in _FIXED},
        "id": new_id("pub"),
        "account_id": tenant.principal.account_id,
        "created_at": now,
        "updated_at": now,
    }
    try:
        return platform.store.insert("publisher", profile, scope=MARKET, key=profile["account_id"])
    except KeyTakenError as exc:
        raise conflict(
            "This account already has a publisher profile: update it instead.",
            code="profile_exists",
        ) from exc


@router.get("/publishers/me")
async def my_profile(platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """The caller's publisher profile."""
    return _publisher(platform, tenant)


@router.put("/publishers/profile")
async def update_profile(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Change the caller's publisher profile."""
    profile = _publisher(platform, tenant)
    profile.update({k: v for k, v in body.items() if k not in _FIXED})
    profile["updated_at"] = now_iso()
    return platform.store.save("publisher", profile)


# -- listings --------------------------------------------------------------------------------


@router.post("/listings", status_code=201)
async def create_listing(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A ``draft`` listing of one of the caller's agents (needs a publisher profile)."""
    publisher = _publisher(platform, tenant)
    agent = owned(platform, "agent", "Agent", required_id(body, "agent_id"), tenant)
    category = body.get("category", "other")
    if category not in CATEGORIES:
        raise unprocessable(
            [detail_item(["body", "category"], f"use one of {', '.join(CATEGORIES)}", "enum")]
        )
    now = now_iso()
    item = {
        "name": agent["agent_name"],
        "description": agent["agent_description"],
        **{k: v for k, v in body.items() if k not in _FIXED},
        "id": new_id("lst"),
        "category": category,
        "status": "draft",
        "publisher_id": publisher["id"],
        "account_id": tenant.principal.account_id,
        "agent_alias": agent["agent_alias"],
        "manifest": manifest_of(agent),
        "installs": 0,
        "created_at": now,
        "published_at": None,
    }
    return platform.store.insert("listing", item, scope=MARKET)


def _search(
    platform: Platform, kind: Kind, search: str | None, page: PageDep, **where: Any
) -> tuple[list[Doc], int]:
    return platform.store.query(
        kind,
        scope=MARKET,
        where={k: v for k, v in where.items() if v is not None},
        search=search,
        search_fields=_SEARCHED,
        skip=page.skip,
        limit=page.limit,
    )


@router.get("/listings/search")
async def search_listings(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    q: Search = None,
    category: Search = None,
) -> Doc:
    """Published listings matching ``q`` and ``category``."""
    del tenant
    return listing(
        "listings",
        _search(platform, "listing", q, page, status="published", category=category),
        page,
    )


@router.get("/listings")
async def list_listings(
    platform: PlatformDep,
    tenant: ProjectDep,
    page: PageDep,
    status: Search = None,
    mine: bool = False,
) -> Doc:
    """Listings the caller can see, by ``status`` when given.

    Published listings, or with ``mine=true`` the caller's own (drafts included). Only
    the caller's own listings can be in another state (a ``draft``), so such a
    ``status`` lists the caller's own either way.
    """
    if mine or status not in (None, "published"):
        found = _search(
            platform, "listing", None, page, account_id=tenant.principal.account_id, status=status
        )
    else:
        found = _search(platform, "listing", None, page, status="published")
    return listing("listings", found, page)


@router.get("/listings/{listing_id}")
async def get_listing(listing_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """A published listing, or one of the caller's drafts."""
    return _visible(platform, tenant, "listing", listing_id)


@router.post("/listings/{listing_id}/publish")
async def publish_listing(
    listing_id: str, platform: PlatformDep, tenant: ProjectDep, body: OptionalJsonBody = None
) -> Doc:
    """draft -> published."""
    item = _visible(platform, tenant, "listing", listing_id)
    if item["account_id"] != tenant.principal.account_id:
        raise not_found("Listing", listing_id)
    if item["status"] == "published":
        raise conflict(f"Listing {listing_id!r} is already published.", code="already_published")
    item.update({k: v for k, v in (body or {}).items() if k not in _FIXED})
    item.update(status="published", published_at=now_iso())
    return platform.store.save("listing", item)


@router.post("/listings/{listing_id}/install", status_code=201)
async def install_listing(
    listing_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Copy a published listing's agent into the caller's project (``alias`` optional)."""
    item = _visible(platform, tenant, "listing", listing_id)
    if item["status"] != "published":
        raise conflict("Only a published listing can be installed.", code="not_published")
    alias = str(body.get("alias") or item["agent_alias"])
    agent = await _install_agent(platform, tenant, item["manifest"], alias)
    return {**_record_install(platform, tenant, item, "listing", [agent["id"]]), "agent": agent}


# -- workforces ------------------------------------------------------------------------------


@router.post("/workforce/publish", status_code=201)
async def publish_workforce(body: JsonBody, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """Publish a team of agents (``agent_ids``) and optionally their ``workflow_id``."""
    publisher = _publisher(platform, tenant)
    agent_ids = body.get("agent_ids")
    if not isinstance(agent_ids, list) or not agent_ids:
        raise unprocessable(
            [detail_item(["body", "agent_ids"], "name at least one agent", "missing")]
        )
    agents = [owned(platform, "agent", "Agent", str(a), tenant) for a in agent_ids]
    workflow = None
    if body.get("workflow_id") is not None:
        workflow = owned(platform, "workflow", "Workflow", str(body["workflow_id"]), tenant)
    now = now_iso()
    item = {
        "name": "workforce",
        "category": "other",
        **{k: v for k, v in body.items() if k not in _FIXED},
        "id": new_id("wkf"),
        "status": "published",
        "publisher_id": publisher["id"],
        "account_id": tenant.principal.account_id,
        "agents": [
            {"agent_alias": a["agent_alias"], "source_id": a["id"], "manifest": manifest_of(a)}
            for a in agents
        ],
        "workflow": workflow,
        "installs": 0,
        "created_at": now,
        "published_at": now,
    }
    return platform.store.insert("workforce", item, scope=MARKET)


@router.get("/workforce/search")
async def search_workforces(
    platform: PlatformDep, tenant: ProjectDep, page: PageDep, q: Search = None
) -> Doc:
    """Published workforces matching ``q``."""
    del tenant
    return listing("workforces", _search(platform, "workforce", q, page, status="published"), page)


@router.get("/workforce/{workforce_id}")
async def get_workforce(workforce_id: str, platform: PlatformDep, tenant: ProjectDep) -> Doc:
    """One workforce."""
    return _visible(platform, tenant, "workforce", workforce_id)


@router.post("/workforce/{workforce_id}/install", status_code=201)
async def install_workforce(
    workforce_id: str, body: JsonBody, platform: PlatformDep, tenant: ProjectDep
) -> Doc:
    """Copy a workforce's agents (aliases suffixed by ``alias_suffix``) and workflow."""
    item = _visible(platform, tenant, "workforce", workforce_id)
    suffix = str(body.get("alias_suffix") or "")
    new_ids: dict[str, str] = {}
    with platform.store.transaction():
        for member in item["agents"]:
            agent = await _install_agent(
                platform, tenant, member["manifest"], member["agent_alias"] + suffix
            )
            new_ids[member["source_id"]] = agent["id"]
        workflow = None
        if item.get("workflow"):
            source = item["workflow"]
            alias_map = {m["agent_alias"]: m["agent_alias"] + suffix for m in item["agents"]}
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
            workflow = {
                **source,
                "id": new_id("wfl"),
                "steps": steps,
                "installed_from": workforce_id,
                "created_at": now_iso(),
            }
            platform.store.insert("workflow", workflow, scope=tenant.project)
        record = _record_install(platform, tenant, item, "workforce", list(new_ids.values()))
    return {**record, "workflow": workflow}


@router.get("/categories")
async def categories() -> Doc:
    """The listing categories."""
    return {"categories": [{"id": c, "name": c.replace("-", " ").title()} for c in CATEGORIES]}


@router.get("/install")
async def installations(platform: PlatformDep, tenant: ProjectDep, page: PageDep) -> Doc:
    """What the caller's project installed from the marketplace."""
    found = platform.store.query(
        "installation", scope=tenant.project, skip=page.skip, limit=page.limit
    )
    return listing("installations", found, page)
