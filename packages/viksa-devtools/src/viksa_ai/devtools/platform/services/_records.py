"""Finding a record for a caller: present in the caller's project, or why not."""

from __future__ import annotations

from dataclasses import dataclass

from viksa_ai.devtools.platform.services._errors import forbidden, not_found
from viksa_ai.devtools.platform.store._store import Doc, Kind, Store

__all__ = ["Caller", "owned_record"]


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
