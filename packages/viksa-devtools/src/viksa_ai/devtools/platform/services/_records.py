"""Finding a record for a caller: present in the caller's project, or why not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from viksa_ai.devtools.platform.services._errors import (
    detail_item,
    forbidden,
    not_found,
    unprocessable,
)
from viksa_ai.devtools.platform.store._store import Doc, Kind, Store

__all__ = ["Caller", "owned_endpoint", "owned_record"]


@dataclass(frozen=True)
class Caller:
    """Who acts (their account) and in which project."""

    account_id: str
    project_id: str


def owned_record(store: Store, kind: Kind, label: str, record_id: str, caller: Caller) -> Doc:
    """A record of the caller's project: 404 when absent here, 403 when another account's."""
    found = store.get_scoped(kind, record_id)
    if found is None:
        raise not_found(label, record_id)
    doc, scope = found
    if scope != caller.project_id:
        project = store.get("project", scope)
        if project is not None and project["account_id"] != caller.account_id:
            raise forbidden(f"{label} {record_id!r} belongs to another account.")
        raise not_found(label, record_id)
    return doc


def owned_endpoint(
    store: Store, caller: Caller, agent_id: str, endpoint: Any, loc: Sequence[str | int]
) -> Doc:
    """The caller's agent ``agent_id`` when ``endpoint`` is one of its endpoint paths.

    404/403 as :func:`owned_record`; 422 at ``loc`` otherwise, so nothing is stored that
    could never run.
    """
    agent = owned_record(store, "agent", "Agent", agent_id, caller)
    paths = [e["endpoint"] for e in agent["agent_endpoints"]]
    if endpoint not in paths:
        raise unprocessable(
            [
                detail_item(
                    loc,
                    f"endpoint must be one of the agent's: {', '.join(paths)}",
                    "value_error.endpoint",
                )
            ]
        )
    return agent
