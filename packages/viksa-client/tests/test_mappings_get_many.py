"""``builder.mappings.get_many``: 0.2's batch read, ordered, bounded, at most 100 ids."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import pytest
import respx

from viksa_ai.client import ViksaClient, ViksaNotFoundError, ViksaSyncClient
from viksa_ai.client._backends import AsyncBoundedMap, BoundedMap


def _route_mappings(api: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        mapping_id = request.url.path.rsplit("/", 1)[1]
        if mapping_id == "missing":
            return httpx.Response(404, json={"detail": "Agent not found"})
        return httpx.Response(200, json={"agent_id": mapping_id})

    api.get(url__regex=r"/builder/mappings/[^/]+$").mock(side_effect=answer)


async def test_get_many_answers_in_the_order_of_the_ids(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    _route_mappings(api)
    ids = [f"a{i}" for i in range(30)]
    answers = await make_client().builder.mappings.get_many(ids, concurrency=4)
    assert [answer["agent_id"] for answer in answers] == ids


def test_get_many_sync_answers_in_the_order_of_the_ids(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    _route_mappings(api)
    ids = [f"s{i}" for i in range(12)]
    answers = make_sync_client().builder.mappings.get_many(ids)
    assert [answer["agent_id"] for answer in answers] == ids


async def test_get_many_raises_the_first_failure(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    _route_mappings(api)
    with pytest.raises(ViksaNotFoundError):
        await make_client().builder.mappings.get_many(["a1", "missing", "a2"])


def test_get_many_sync_raises_the_first_failure(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient]
) -> None:
    _route_mappings(api)
    with pytest.raises(ViksaNotFoundError):
        make_sync_client().builder.mappings.get_many(["s1", "missing"])


async def test_get_many_refuses_more_than_a_hundred_ids_before_sending(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient]
) -> None:
    route = api.get(url__regex=r"/builder/mappings/").mock(return_value=httpx.Response(200))
    client = make_client()
    with pytest.raises(ValueError, match="at most 100 ids, got 101"):
        await client.builder.mappings.get_many(str(i) for i in range(101))
    with pytest.raises(ValueError, match=r"concurrency must be 1\.\.100"):
        await client.builder.mappings.get_many(["a"], concurrency=0)
    assert not route.called
    assert await client.builder.mappings.get_many([]) == []


async def test_async_bounded_map_never_runs_more_than_its_limit() -> None:
    running = peak = 0

    async def call(item: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        running -= 1
        return item * 2

    assert await AsyncBoundedMap(3).map(call, list(range(20))) == [i * 2 for i in range(20)]
    assert peak == 3


def test_bounded_map_never_runs_more_than_its_limit() -> None:
    lock = threading.Lock()
    running = peak = 0
    full = threading.Barrier(4)

    def call(item: int) -> int:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        if item < 4:
            full.wait(timeout=10)  # the first four run together: the limit is reached
        time.sleep(0.001)
        with lock:
            running -= 1
        return item + 1

    assert BoundedMap(4).map(call, list(range(16))) == list(range(1, 17))
    assert peak == 4
