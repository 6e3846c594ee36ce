"""The validator's issues as FastAPI 422 items (the path format is tested in test_issues.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx


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
