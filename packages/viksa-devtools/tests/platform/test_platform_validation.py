"""The validator's issues as FastAPI 422 items: manifest paths become ``loc`` lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools._issues import join_path
from viksa_ai.devtools.platform._validation import path_to_loc

_parts = st.lists(st.one_of(st.integers(0, 10_000), st.text(min_size=1, max_size=12)), max_size=6)


def test_paths_become_locs() -> None:
    assert path_to_loc("agent_endpoints[2].inputs[0]") == ["agent_endpoints", 2, "inputs", 0]
    assert path_to_loc('inputs["odd key"]') == ["inputs", "odd key"]
    assert path_to_loc("") == []


@given(st.text(min_size=1, max_size=8), _parts)
def test_join_path_round_trips(head: str, parts: list[int | str]) -> None:
    if not head.isidentifier():
        head = "field"
    assert path_to_loc(join_path(head, *parts)) == [head, *parts]


@given(st.text(max_size=60))
def test_any_path_gives_a_loc(path: str) -> None:
    assert isinstance(path_to_loc(path), list)


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
