"""A schedule's due run is claimed once: overlapping ticks, or two platforms on one file.

A tick that finds a schedule due moves its ``next_run_at`` on in one transaction before
it runs it; another tick (in this process, or a second ``viksa dev`` on the same
``--data`` file) that found the same due time then skips it. The run is held at the
inputs check (the await every endpoint run makes) so that both ticks are in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, Platform, PlatformConfig
from viksa_ai.devtools.platform.services._clock import seconds_of
from viksa_ai.devtools.platform.services._engine import Engine

Manifest = dict[str, Any]


@pytest.fixture
def viksa_platform_config(tmp_path: Path) -> PlatformConfig:
    return PlatformConfig(data_path=tmp_path / "platform.db")


class Held:
    """The inputs checks of some engines, held until :meth:`release`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *engines: Engine) -> None:
        self.arrived = 0
        self._released = asyncio.Event()
        for engine in engines:
            monkeypatch.setattr(engine, "check_inputs", self._holding(engine.check_inputs))

    def _holding(self, real: Callable[..., Any]) -> Callable[..., Any]:
        async def check(*args: Any, **kwargs: Any) -> Any:
            self.arrived += 1
            await self._released.wait()
            return await real(*args, **kwargs)

        return check

    async def until(self, arrived: int, *, unless: asyncio.Future[int] | None = None) -> None:
        """Wait (bounded) until ``arrived`` runs are held, or ``unless`` has ended."""
        for _ in range(2000):
            if self.arrived >= arrived or (unless is not None and unless.done()):
                return
            await asyncio.sleep(0.005)
        raise AssertionError("no tick got there")

    def release(self) -> None:
        self._released.set()


@pytest.fixture
async def due(
    http: httpx.AsyncClient,
    deployed: Manifest,
    echo_schedule: Callable[[httpx.AsyncClient, Manifest], Awaitable[Manifest]],
) -> tuple[str, float]:
    """A schedule of the test agent's echo every minute: its id and a moment it is due."""
    made = await echo_schedule(http, deployed)
    return made["id"], seconds_of(made["next_run_at"]) + 1


async def _both_ticks(held: Held, first: Platform, second: Platform, due: float) -> list[int]:
    """How many ``first`` and ``second`` ran in ticks at ``due`` while both are in flight."""
    one = asyncio.ensure_future(first.tick(due))
    await held.until(1)
    other = asyncio.ensure_future(second.tick(due))
    # Without a claim the second tick is held too; with one it ends at once.
    await held.until(2, unless=other)
    held.release()
    return list(await asyncio.gather(one, other))


def _runs_of(platform: Platform, schedule_id: str) -> int:
    return platform.store.query("execution", where={"schedule_id": schedule_id})[1]


async def test_two_overlapping_ticks_run_a_due_schedule_once(
    http: httpx.AsyncClient,
    due: tuple[str, float],
    monkeypatch: pytest.MonkeyPatch,
    viksa_platform: LocalPlatform,
) -> None:
    schedule_id, moment = due
    platform = viksa_platform.platform
    held = Held(monkeypatch, platform.engine)
    assert sorted(await _both_ticks(held, platform, platform, moment)) == [0, 1]
    assert _runs_of(platform, schedule_id) == 1
    stored = (await http.get(f"/scheduler/schedule/{schedule_id}")).json()
    assert stored["run_count"] == 1
    # The next due time is one interval after the claimed one: a tick then runs it.
    assert seconds_of(stored["next_run_at"]) > moment
    assert await platform.tick(seconds_of(stored["next_run_at"])) == 1
    assert _runs_of(platform, schedule_id) == 2


async def test_two_platforms_on_one_data_file_run_a_due_schedule_once(
    due: tuple[str, float], viksa_platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule_id, moment = due
    first = viksa_platform.platform
    # A second `viksa dev` on the same --data file: its own connection to it.
    second = Platform(first.config)
    try:
        held = Held(monkeypatch, first.engine, second.engine)
        assert sorted(await _both_ticks(held, first, second, moment)) == [0, 1]
        assert _runs_of(first, schedule_id) == _runs_of(second, schedule_id) == 1
        stored = second.store.get("schedule", schedule_id)
        assert stored is not None
        assert stored["run_count"] == 1
    finally:
        await second.aclose()
