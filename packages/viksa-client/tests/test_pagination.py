"""``iter_all`` / ``iter_conversations``: every item once, whatever the page shape."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.client import ViksaClient, ViksaDecodeError, ViksaRepeatedPageError, ViksaSyncClient
from viksa_ai.client._pagination import PageCursor, page_items

ITEMS = [{"id": f"i{n}", "agent_name": f"agent-{n}"} for n in range(7)]


def _pager(
    shape: str,
    key: str,
    total: bool = False,
    *,
    cap: int | None = None,
    report_limit: bool = False,
) -> Callable[[httpx.Request], httpx.Response]:
    """A list route over ITEMS honouring skip / limit, answering in the given shape.

    ``cap`` makes the server answer at most that many items whatever ``limit`` asks;
    ``report_limit`` makes it say the page size it used (``"limit"`` in the page).
    """

    def answer(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params["skip"])
        limit = int(request.url.params["limit"])
        size = limit if cap is None else min(limit, cap)
        page = ITEMS[skip : skip + size]
        body: Any
        if shape == "bare":
            body = page
        else:
            body = {"items" if shape == "items" else key: page}
            if total:
                body["total"] = len(ITEMS)
            if report_limit:
                body["limit"] = size
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
    # 7 items in pages of 3. With a total the third page ends the walk; without one (a
    # bare list has none), a short page may be a server cap: the empty fourth page ends it.
    expected = ["0", "3", "6"] if total and shape != "bare" else ["0", "3", "6", "7"]
    assert [call.request.url.params["skip"] for call in route.calls] == expected


@pytest.mark.parametrize("shape", ["bare", "items", "resource"])
async def test_a_server_capping_pages_below_limit_loses_no_item(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], shape: str
) -> None:
    # The server answers at most 2 items whatever limit asks, and sends no total.
    route = api.get("/builder/agent/list").mock(side_effect=_pager(shape, "agents", cap=2))
    client = make_client()
    assert [agent async for agent in client.builder.agents.iter_all(limit=50)] == ITEMS
    skips = [call.request.url.params["skip"] for call in route.calls]
    assert skips == ["0", "2", "4", "6", "7"]
    assert all(call.request.url.params["limit"] == "50" for call in route.calls)


@pytest.mark.parametrize(("cap", "skips"), [(2, ["0", "2", "4", "6"]), (None, ["0", "3", "6"])])
async def test_a_page_shorter_than_its_reported_limit_ends_the_walk(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    cap: int | None,
    skips: list[str],
) -> None:
    # No total, but each page says its size: capped at 2, or the 3 asked for.
    route = api.get("/chat/conversations").mock(
        side_effect=_pager("resource", "conversations", cap=cap, report_limit=True)
    )
    client = make_client()
    assert [c async for c in client.chat.iter_conversations(limit=3)] == ITEMS
    assert [call.request.url.params["skip"] for call in route.calls] == skips


async def test_a_reported_limit_above_the_asked_one_does_not_end_the_walk_early(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    # A server that reports its maximum page size (100) while serving the 3 asked for.
    def answer(request: httpx.Request) -> httpx.Response:
        skip = int(request.url.params["skip"])
        return httpx.Response(200, json={"workflows": ITEMS[skip : skip + 3], "limit": 100})

    route = api.get("/workflow/list").mock(side_effect=answer)
    client = make_client()
    assert [w async for w in client.workflow.iter_all(limit=3)] == ITEMS
    assert route.call_count == 3  # the short third page is shorter than both limits


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


async def test_a_server_ignoring_skip_in_a_new_order_each_time_does_not_loop(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    # A server that ignores skip and lists its rows in no stable order (SQL without
    # ORDER BY) answered the same items reordered: each page looked new, and the walk
    # yielded them again and again, without end.
    orders = [ITEMS[:3], ITEMS[2::-1], [ITEMS[1], ITEMS[0], ITEMS[2]]]
    answered = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal answered
        body = {"triggers": orders[answered % 3] if answered < 20 else []}
        answered += 1
        return httpx.Response(200, json=body)

    api.get("/chat/trigger").mock(side_effect=answer)
    client = make_client()
    assert [t async for t in client.chat.triggers.iter_all(limit=3)] == ITEMS[:3]
    assert answered == 2


def test_a_page_seen_before_in_another_order_is_a_typed_error() -> None:
    cursor = PageCursor(2, "things")
    assert cursor.take({"things": [1, 2]}) == [1, 2]
    assert cursor.take({"things": [3, 4]}) == [3, 4]
    with pytest.raises(ViksaRepeatedPageError, match="skip 4 repeats the one at skip 0"):
        cursor.take({"things": [2, 1]})


def _alternating(total: bool) -> Callable[[httpx.Request], httpx.Response]:
    """A server that ignores skip and alternates between two pages (A, B, A, B, ...).

    Past 20 answers it answers an empty page, so a walk that misses the repetition ends
    (and its test fails) rather than loop for ever.
    """
    pages = [ITEMS[:2], ITEMS[2:4]]
    answered = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal answered
        body: dict[str, Any] = {"triggers": pages[answered % 2] if answered < 20 else []}
        if total:
            body["total"] = 1000
        answered += 1
        return httpx.Response(200, json=body)

    return answer


@pytest.mark.parametrize("total", [False, True])
async def test_a_server_alternating_between_two_pages_is_a_typed_error(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    make_sync_client: Callable[..., ViksaSyncClient],
    total: bool,
) -> None:
    # Only the page just before was compared: A, B, A, B, ... looped for ever (without a
    # total) or repeated the two pages until the total was reached.
    key = "vk_live_alternating_key"
    route = api.get("/chat/trigger").mock(side_effect=_alternating(total))
    seen: list[Any] = []

    async def walk() -> None:
        client = make_client(api_key=key, access_token=None)
        async for trigger in client.chat.triggers.iter_all(limit=2):
            seen.append(trigger)

    with pytest.raises(ViksaRepeatedPageError) as async_error:
        await walk()
    assert seen == ITEMS[:4]  # each item once, before the error
    assert route.call_count == 3
    with pytest.raises(ViksaRepeatedPageError) as sync_error:
        _ = list(make_sync_client(api_key=key, access_token=None).chat.triggers.iter_all(limit=2))
    assert route.call_count == 6
    for error in (async_error.value, sync_error.value):
        assert isinstance(error, ViksaDecodeError)
        message = str(error)
        assert message.startswith("chat GET /chat/trigger: the page at skip 4 repeats the one ")
        assert "at skip 0" in message
        assert key not in message
        assert key not in error.raw


def test_a_page_seen_before_ends_the_walk_with_a_typed_error_at_any_distance() -> None:
    cursor = PageCursor(2, "things")
    assert cursor.take({"things": [1, 2]}) == [1, 2]
    assert cursor.take({"things": [3, 4]}) == [3, 4]
    assert cursor.take({"things": [5, 6]}) == [5, 6]
    with pytest.raises(ViksaRepeatedPageError, match="skip 6 repeats the one at skip 2"):
        cursor.take({"things": [3, 4]})
    assert cursor.done


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
        (
            lambda c: c.pulse.iter_executions(limit=3, status="failed"),
            "/pulse/executor/executions",
            "executions",
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
    assert route.call_count == 4  # no total: pages of 3, 3, 1, then the empty one


async def test_iter_executions_sends_its_filters_with_every_page(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get("/pulse/executor/executions").mock(
        side_effect=_pager("resource", "executions", total=True)
    )
    client = make_client()
    since = datetime(2026, 12, 6, 21, 0, tzinfo=timezone.utc)
    found = [
        e
        async for e in client.pulse.iter_executions(
            limit=3, agent_id="ag1", status="completed", since=since, until="2026-12-07"
        )
    ]
    assert found == ITEMS
    assert [call.request.url.params["skip"] for call in route.calls] == ["0", "3", "6"]
    for call in route.calls:
        params = call.request.url.params
        assert (params["agent_id"], params["status"]) == ("ag1", "completed")
        assert (params["since"], params["until"]) == ("2026-12-06T21:00:00+00:00", "2026-12-07")


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


@pytest.mark.parametrize(
    "page",
    [
        pytest.param("echo: vk_live_page_key_1", id="a-string"),
        pytest.param({f"k{n}": [n] for n in range(5000)} | {"x": "vk_live_page_key_1"}, id="keys"),
    ],
)
async def test_a_page_that_is_not_a_list_fails_like_any_answer(
    api: respx.MockRouter,
    make_client: Callable[..., ViksaClient],
    make_sync_client: Callable[..., ViksaSyncClient],
    page: Any,
) -> None:
    # Read outside the answer's decoding, such a page raised an error naming no call,
    # whose `raw` held the answer unscrubbed and uncut (and the message every key).
    key = "vk_live_page_key_1"
    api.get("/builder/agent/list").respond(200, json=page)
    with pytest.raises(ViksaDecodeError) as async_error:
        _ = [a async for a in make_client(api_key=key, access_token=None).builder.agents.iter_all()]
    with pytest.raises(ViksaDecodeError) as sync_error:
        _ = list(make_sync_client(api_key=key, access_token=None).builder.agents.iter_all())
    for error in (async_error.value, sync_error.value):
        assert str(error).startswith("builder GET /builder/agent/list: ")
        assert len(str(error)) < 1000
        assert key not in error.raw
        assert len(error.raw) <= 2000


def test_cursor_refuses_a_zero_limit() -> None:
    with pytest.raises(ValueError, match="limit"):
        PageCursor(0, None)


@given(
    total=st.integers(0, 40),
    limit=st.integers(1, 12),
    cap=st.integers(1, 12),
    announce=st.booleans(),
    report=st.booleans(),
)
def test_cursor_walk_yields_each_item_once(
    total: int, limit: int, cap: int, announce: bool, report: bool
) -> None:
    """Any collection size, page size and server cap: each item exactly once (bounded)."""
    data = list(range(total))
    size = min(limit, cap)
    cursor = PageCursor(limit, "things")
    seen: list[int] = []
    requests = 0
    for _ in range(total + 3):
        if cursor.done:
            break
        requests += 1
        page: dict[str, Any] = {"things": data[cursor.skip : cursor.skip + size]}
        if announce:
            page["total"] = total
        if report:
            page["limit"] = size
        seen.extend(cursor.take(page))
    assert cursor.done
    assert seen == data  # a cap below limit loses nothing, with or without a total
    pages = -(-total // size)  # the pages holding items
    if announce:
        assert requests == max(pages, 1)  # no request past the total
    elif report:
        # Only a full last page needs the empty one after it to be known as the last.
        assert requests == pages + (total % size == 0)
    else:
        assert requests == pages + 1  # nothing says the last page is the last
