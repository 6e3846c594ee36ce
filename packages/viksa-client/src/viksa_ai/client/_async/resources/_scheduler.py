"""``client.scheduler``: schedules (``/scheduler/schedule``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, TypeVar

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import SCHEDULER, Call, json_call, object_call, query_of

if TYPE_CHECKING:
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.answers import (
        Deleted,
        Schedule,
        SchedulePage,
        ScheduleRun,
    )

__all__ = ["AsyncScheduler"]

T = TypeVar("T")


def _schedules_page(skip: int, limit: int) -> Call[SchedulePage]:
    return json_call("GET", SCHEDULER, "/schedule/list", query=query_of(skip=skip, limit=limit))


class AsyncScheduler(AsyncResource):
    """The scheduler service (``/scheduler``)."""

    __slots__ = ()

    async def create(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Schedule:
        """Create a schedule."""
        call: Call[Schedule] = object_call("POST", SCHEDULER, "/schedule/create", body=body)
        return await self._client._request(call, options)

    async def list(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> SchedulePage:
        """One page of schedules (items under ``schedules``)."""
        return await self._client._request(_schedules_page(skip, limit), options)

    def iter_all(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[Schedule]:
        """Every schedule, page after page."""
        return self._client._paginate(
            _schedules_page, limit=limit, key="schedules", options=options
        )

    async def get(self, schedule_id: str, *, options: RequestOptions | None = None) -> Schedule:
        """One schedule."""
        call: Call[Schedule] = object_call("GET", SCHEDULER, "/schedule/{}", schedule_id)
        return await self._client._request(call, options)

    async def update(
        self, schedule_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> Schedule:
        """Update a schedule."""
        call: Call[Schedule] = object_call(
            "PATCH", SCHEDULER, "/schedule/{}", schedule_id, body=body
        )
        return await self._client._request(call, options)

    async def delete(self, schedule_id: str, *, options: RequestOptions | None = None) -> Deleted:
        """Delete a schedule."""
        call: Call[Deleted] = json_call("DELETE", SCHEDULER, "/schedule/{}", schedule_id)
        return await self._client._request(call, options)

    async def pause(self, schedule_id: str, *, options: RequestOptions | None = None) -> Schedule:
        """Pause a schedule."""
        return await self._client._request(_verb(schedule_id, "pause"), options)

    async def resume(self, schedule_id: str, *, options: RequestOptions | None = None) -> Schedule:
        """Resume a paused schedule."""
        return await self._client._request(_verb(schedule_id, "resume"), options)

    async def run_now(
        self, schedule_id: str, *, options: RequestOptions | None = None
    ) -> ScheduleRun:
        """Run a schedule's job immediately."""
        return await self._client._request(_verb(schedule_id, "run-now"), options)


def _verb(schedule_id: str, verb: str) -> Call[T]:
    return object_call("POST", SCHEDULER, "/schedule/{}/" + verb, schedule_id)
