"""The platform's OpenAPI document only grows: every operation and schema of 0.3.0 stays.

The snapshot was taken from 0.3.0 before the platform's core was reorganised. A route,
a schema, an optional parameter, a property or an answer may be added; nothing may
disappear or change, and no parameter may become required (descriptions may be
reworded).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools.platform import create_app

_SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi-0.3.0.json"


def _covers(old: Any, new: Any) -> bool:
    """Whether ``new`` keeps everything ``old`` says (it may add to it)."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(
            key == "description" or (key in new and _covers(value, new[key]))
            for key, value in old.items()
        )
    if isinstance(old, list) and old and all(isinstance(o, dict) and "name" in o for o in old):
        kept = {o["name"]: o for o in new} if isinstance(new, list) else {}
        added = [n for name, n in kept.items() if name not in {o["name"] for o in old}]
        return all(o["name"] in kept and _covers(o, kept[o["name"]]) for o in old) and not any(
            n.get("required") for n in added
        )
    if isinstance(old, list):
        return isinstance(new, list) and len(old) == len(new) and all(map(_covers, old, new))
    return bool(old == new)


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
        if not _covers(operation, current["paths"].get(path, {}).get(method))
    ]
    assert changed == []


def test_every_schema_of_the_snapshot_is_unchanged(
    current: dict[str, Any], snapshot: dict[str, Any]
) -> None:
    schemas = current["components"]["schemas"]
    changed = [
        name
        for name, schema in snapshot["components"]["schemas"].items()
        if not _covers(schema, schemas.get(name))
    ]
    assert changed == []


def test_the_document_keeps_its_identity(current: dict[str, Any], snapshot: dict[str, Any]) -> None:
    assert current["openapi"] == snapshot["openapi"]
    assert current["info"] == snapshot["info"]
    assert _covers(
        snapshot["components"]["securitySchemes"], current["components"]["securitySchemes"]
    )


@pytest.mark.parametrize(
    ("old", "new", "kept"),
    [
        ({"a": 1, "description": "x"}, {"a": 1, "b": 2, "description": "y"}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": 1}, {}, False),
        ([{"name": "p", "required": True}], [{"name": "p", "required": True}, {"name": "q"}], True),
        ([{"name": "p"}], [{"name": "p"}, {"name": "q", "required": True}], False),
        ([{"name": "p"}], [{"name": "q"}], False),
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b", "c"], False),
    ],
)
def test_covers_allows_additions_only(old: Any, new: Any, kept: bool) -> None:
    assert _covers(old, new) is kept


@pytest.mark.parametrize(
    ("path", "method", "code"),
    [
        ("/auth/individual/login", "post", "too_many_sign_in_attempts"),
        ("/builder/secret/{secret_id}", "get", "too_many_passphrase_attempts"),
        ("/builder/secret/{secret_id}", "put", "too_many_passphrase_attempts"),
    ],
)
def test_throttled_routes_document_their_429(
    current: dict[str, Any], path: str, method: str, code: str
) -> None:
    # Answered since 0.3.0 (sign-in and passphrase throttles), missing from the document.
    answer = current["paths"][path][method]["responses"]["429"]
    assert "Retry-After" in answer["headers"]
    body = answer["content"]["application/json"]
    assert body["schema"]["properties"]["detail"]["properties"]["code"]["enum"] == [code]
    assert body["example"]["detail"]["code"] == code
