"""The validator's issues as FastAPI 422 items (the path format is tested in test_issues.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools.platform.services._errors import InvalidError
from viksa_ai.devtools.platform.services._validation import body_int


async def test_validator_codes_and_code_positions_reach_the_items(
    http: httpx.AsyncClient, manifest: Callable[..., dict[str, Any]]
) -> None:
    body = manifest()
    body["files"][0]["content"] = "def echo(payload):\n    return 1\n"
    answer = await http.post("/builder/agent/create", json=body)
    assert answer.status_code == 422
    items = answer.json()["detail"]
    assert all(item["type"].startswith("value_error.VX") for item in items)
    assert any(item.get("ctx", {}).get("file") == "main.py" for item in items)
    assert ["body", "files", 0] in [item["loc"] for item in items]


async def test_file_names_outside_the_agent_are_422_not_a_failed_run(
    http: httpx.AsyncClient, manifest: Callable[..., dict[str, Any]]
) -> None:
    # Such a file could not be written into the worker's directory: every run would fail.
    body = manifest("paths")
    extra = {"content": "x", "mime_type": "other"}
    body["files"] += [{"name": "../up.txt", **extra}, {"name": "/abs.txt", **extra}]
    answer = await http.post("/builder/agent/create", json=body)
    assert answer.status_code == 422
    items = [i for i in answer.json()["detail"] if i["type"] == "value_error.VX117"]
    assert [i["loc"] for i in items] == [["body", "files", 1, "name"], ["body", "files", 2, "name"]]
    assert "climbs out" in items[0]["msg"]
    assert "absolute" in items[1]["msg"]
    body["files"][1:] = [{"name": "data/ok.txt", **extra}]
    assert (await http.post("/builder/agent/create", json=body)).status_code == 201


_ID_BODIES = [
    ("/workflow/start", "workflow_id"),
    ("/workflow/clone", "workflow_id"),
    ("/workflow/rerun", "execution_id"),
    ("/workflow/execution/create", "workflow_id"),
    ("/chat/trigger", "agent_id"),
    ("/marketplace/api/v1/marketplace/listings", "agent_id"),
    ("/builder/builder/", "agent_id"),
]


@pytest.mark.parametrize(("route", "field"), _ID_BODIES)
@pytest.mark.parametrize(("sent", "kind"), [(None, "missing"), (7, "string_type")])
async def test_a_missing_or_wrong_typed_id_in_a_body_is_422_not_a_404(
    http: httpx.AsyncClient, route: str, field: str, sent: Any, kind: str
) -> None:
    # Read as str(None), a missing id used to answer 404 "Workflow 'None' not found".
    profile = await http.post("/marketplace/api/v1/marketplace/publishers/profile", json={})
    assert profile.status_code == 201, profile.text
    answer = await http.post(route, json={} if sent is None else {field: sent})
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == [
        {"loc": ["body", field], "msg": ANY, "type": kind},
    ]


@settings(database=None, derandomize=True, max_examples=200)
@given(
    value=st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=5)
    | st.lists(st.integers(), max_size=2)
)
def test_body_int_takes_exactly_the_integers_in_range(value: Any) -> None:
    body = {"n": value}
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10:
        assert body_int(body, "n", default=5, low=1, high=10) == value
        return
    with pytest.raises(InvalidError) as raised:
        body_int(body, "n", default=5, low=1, high=10)
    detail = raised.value.detail
    assert raised.value.status_code == 422
    assert isinstance(detail, list)
    assert [item["loc"] for item in detail] == [["body", "n"]]


def test_body_int_gives_the_default_when_the_field_is_absent() -> None:
    assert body_int({}, "n", default=5, low=1, high=10) == 5
