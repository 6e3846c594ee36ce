"""What keeps pulse execute quick stays correct: kept targets, one-statement replaces."""

from __future__ import annotations

from typing import Any

import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.services._errors import ConflictError, NotFoundError
from viksa_ai.devtools.platform.store._store import Store

Manifest = dict[str, Any]


def test_replace_adds_a_record_or_takes_the_place_of_one() -> None:
    store = Store()
    store.insert("idempotency", {"id": "a", "v": 0}, scope="s", expires=10.0)
    store.replace("idempotency", {"id": "b", "v": 1}, scope="s", expires=10.0)
    store.replace("idempotency", {"id": "a", "v": 2}, scope="s", expires=30.0)
    assert store.get("idempotency", "a") == {"id": "a", "v": 2}
    records, total = store.query("idempotency")
    assert (total, [r["id"] for r in records]) == (2, ["a", "b"])  # a kept its place
    assert store.purge_expired("idempotency", 20.0) == 1  # b; a's expiry moved on
    assert store.get("idempotency", "a") is not None
    assert store.get("idempotency", "b") is None


def test_replace_counts_as_a_change() -> None:
    store = Store()
    before = store.changes("idempotency")
    store.replace("idempotency", {"id": "a"}, scope="s")
    assert store.changes("idempotency") > before


def test_a_kept_target_follows_every_change_of_its_agent_or_deployment(
    viksa_platform: LocalPlatform, deployed: Manifest
) -> None:
    platform = viksa_platform.platform
    engine, store = platform.engine, platform.store
    project = deployed["project_id"]
    first = engine.target(project, deployed["id"], "echo")
    assert engine.target(project, deployed["id"], "echo") is first  # kept
    deployment = store.get("deployment", deployed["id"])
    assert deployment is not None
    store.save("deployment", {**deployment, "reconciled_at": "later"})
    moved = engine.target(project, deployed["id"], "echo")
    assert moved is not first
    assert moved.deployment["reconciled_at"] == "later"
    agent = store.get("agent", deployed["id"])
    assert agent is not None
    store.save("agent", {**agent, "status": "disabled"})
    with pytest.raises(ConflictError):
        engine.target(project, deployed["id"], "echo")
    store.delete("agent", deployed["id"])
    with pytest.raises(NotFoundError):
        engine.target(project, deployed["id"], "echo")
