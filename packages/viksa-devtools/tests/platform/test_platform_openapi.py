"""The platform's OpenAPI document only grows: every operation and schema of 0.3.0 stays.

The snapshot was taken from 0.3.0 before the platform's core was reorganised; a route
or schema may be added, none may change or disappear.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools.platform import create_app

_SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi-0.3.0.json"


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    app = create_app()
    try:
        # A JSON round trip gives the snapshot's types (tuples become lists).
        doc: dict[str, Any] = json.loads(json.dumps(app.openapi()))
        return doc
    finally:
        app.state.platform.close()


@pytest.fixture(scope="module")
def snapshot() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_SNAPSHOT.read_text(encoding="utf-8"))
    return doc


def test_every_operation_of_the_snapshot_is_unchanged(
    current: dict[str, Any], snapshot: dict[str, Any]
) -> None:
    changed = [
        f"{method.upper()} {path}"
        for path, operations in snapshot["paths"].items()
        for method, operation in operations.items()
        if current["paths"].get(path, {}).get(method) != operation
    ]
    assert changed == []


def test_every_schema_of_the_snapshot_is_unchanged(
    current: dict[str, Any], snapshot: dict[str, Any]
) -> None:
    schemas = current["components"]["schemas"]
    changed = [
        name
        for name, schema in snapshot["components"]["schemas"].items()
        if schemas.get(name) != schema
    ]
    assert changed == []


def test_the_document_keeps_its_identity(current: dict[str, Any], snapshot: dict[str, Any]) -> None:
    assert current["openapi"] == snapshot["openapi"]
    assert current["info"] == snapshot["info"]
    assert current["components"].get("securitySchemes") == snapshot["components"].get(
        "securitySchemes"
    )
