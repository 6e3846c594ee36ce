"""``iter_all`` / ``iter_conversations``: every item once, whatever the page shape."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.client import ViksaClient, ViksaDecodeError, ViksaSyncClient
from viksa_ai.client._pagination import PageCursor, page_items

ITEMS = [{"id": f"i{n}", "agent_name": f"agent-{n}"} for n in range(7)]


def _pager(shape: str, key: str, total: bool = False) -> Callable[[httpx.Request], httpx.Response]:
    """A list route over ITEMS honouring skip / limit, answering in the given shape."""

    def answer(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params["skip"])
        limit = int(request.url.params["limit"])
        page = ITEMS[skip : skip + limit]
        body: Any
        if shape == "bare":
            body = page
        else:
            body = {"items" if shape == "items" else key: page}
            if total:
                body["total"] = len(ITEMS)
        return httpx.Response(200, json=body)

    return answer


@pytest.mark.parametrize("shape", ["bare", "items", "resource"])
@pytest.mark.parametrize("total", [False, True])
async def test_iter_all_yields_every_agent_once(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], shape: str, total: bool
) -> None:
    route = api.get("/builder/agent/list").mock(side_effect=_pager(shape, "agents", total))
    client = make_client()
    agents = [agent async for agent in client.builder.agents.iter_all(limit=3, search="flight")]
    assert agents == ITEMS
    assert all(call.request.url.params["search"] == "flight" for call in route.calls)
    # 7 items in pages of 3: the third page is short, so no fourth request.
    assert [call.request.url.params["skip"] for call in route.calls] == ["0", "3", "6"]


async def test_exact_multiple_stops_on_total_or_empty_page(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/chat/conversations").mock(side_effect=_pager("resource", "conversations"))
    client = make_client()
    conversations = [c async for c in client.chat.iter_conversations(limit=7)]
    assert conversations == ITEMS
    assert route.call_count == 2  # full page, then an empty one
    with_total = api.get("/workflow/list").mock(side_effect=_pager("resource", "workflows", True))
    assert [w async for w in client.workflow.iter_all(limit=7)] == ITEMS
    assert with_total.call_count == 1  # total reached: no empty-page request


async def test_short_pages_with_a_total_keep_going(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    # The server caps pages at 2 whatever limit asks; total says there is more.
    def capped(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params["skip"])
        return httpx.Response(200, json={"schedules": ITEMS[skip : skip + 2], "total": 7})

    api.get("/scheduler/schedule/list").mock(side_effect=capped)
    client = make_client()
    assert [s async for s in client.scheduler.iter_all(limit=50)] == ITEMS


async def test_a_server_ignoring_skip_does_not_loop(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/chat/trigger").respond(200, json={"triggers": ITEMS[:2]})
    client = make_client()
    assert [t async for t in client.chat.triggers.iter_all(limit=2)] == ITEMS[:2]
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("iterate", "path", "key"),
    [
        (lambda c: c.builder.secrets.iter_all(limit=3), "/builder/secret/list", "secrets"),
        (lambda c: c.builder.mcp.iter_all(limit=3), "/builder/mcp/servers", "servers"),
        (
            lambda c: c.workflow.executions.iter_all(limit=3),
            "/workflow/execution/list",
            "executions",
        ),
        (lambda c: c.auth.iter_api_keys(limit=3), "/auth/key/api", "keys"),
        (lambda c: c.auth.iter_worker_keys(limit=3), "/auth/key/worker", "keys"),
        (
            lambda c: c.marketplace.listings.iter_all(limit=3, category="travel"),
            "/marketplace/api/v1/marketplace/listings",
            "listings",
        ),
    ],
)
def test_every_paged_list_has_a_sync_iterator(
    api: respx.MockRouter,
    make_sync_client: Callable[..., ViksaSyncClient],
    iterate: Callable[[ViksaSyncClient], Any],
    path: str,
    key: str,
) -> None:
    route = api.get(path).mock(side_effect=_pager("resource", key))
    client = make_sync_client()
    assert list(iterate(client)) == ITEMS
    assert route.call_count == 3


def test_page_items_shapes() -> None:
    assert page_items([1, 2], "agents") == ([1, 2], None)
    assert page_items({"items": [1], "total": 4}, "agents") == ([1], 4)
    assert page_items({"agents": [1], "total": 4}, "agents") == ([1], 4)
    assert page_items({"data": [1], "total": True}, None) == ([1], None)
    assert page_items({}, "agents") == ([], None)
    assert page_items(None, "agents") == ([], None)
    with pytest.raises(ViksaDecodeError, match="which list"):
        page_items({"a": [1], "b": [2]}, "agents")
    with pytest.raises(ViksaDecodeError):
        page_items("text", "agents")


def test_cursor_refuses_a_zero_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        PageCursor(0, None)


@given(
    total=st.integers(0, 40),
    limit=st.integers(1, 12),
    cap=st.integers(1, 12),
    announce=st.booleans(),
)
def test_cursor_walk_yields_each_item_once(
    total: int, limit: int, cap: int, announce: bool
) -> None:
    """Any collection size, page size and server cap: each item exactly once (bounded)."""
    data = list(range(total))
    cursor = PageCursor(limit, "things")
    seen: list[int] = []
    for _ in range(total + 3):
        if cursor.done:
            break
        page: dict[str, Any] = {"things": data[cursor.skip : cursor.skip + min(limit, cap)]}
        if announce:
            page["total"] = total
        seen.extend(cursor.take(page))
    assert cursor.done
    if announce or cap >= limit:
        assert seen == data
    else:
        # Without a total, a page shorter than asked ends the walk (the documented rule).
        assert seen == data[: len(seen)]
