"""``client.scheduler``: schedules (``/scheduler/schedule``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import SCHEDULER, Call, json_call, object_call, query_of

if TYPE_CHECKING:
    from viksa_ai.client._config import RequestOptions

__all__ = ["AsyncScheduler"]


def _schedules_page(skip: int, limit: int) -> Call[Any]:
    return json_call("GET", SCHEDULER, "/schedule/list", query=query_of(skip=skip, limit=limit))


class AsyncScheduler(AsyncResource):
    """The scheduler service (``/scheduler``)."""

    __slots__ = ()

    async def create(
        self, body: Mapping[str, Any], *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Create a schedule."""
        call = object_call("POST", SCHEDULER, "/schedule/create", body=body)
        return await self._client._request(call, options)

    async def list(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> Any:
        """One page of schedules (items under ``schedules``)."""
        return await self._client._request(_schedules_page(skip, limit), options)

    def iter_all(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[Any]:
        """Every schedule, page after page."""
        return self._client._paginate(
            _schedules_page, limit=limit, key="schedules", options=options
        )

    async def get(
        self, schedule_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """One schedule."""
        call = object_call("GET", SCHEDULER, "/schedule/{}", schedule_id)
        return await self._client._request(call, options)

    async def update(
        self, schedule_id: str, body: Mapping[str, Any], *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Update a schedule."""
        call = object_call("PATCH", SCHEDULER, "/schedule/{}", schedule_id, body=body)
        return await self._client._request(call, options)

    async def delete(self, schedule_id: str, *, options: RequestOptions | None = None) -> Any:
        """Delete a schedule."""
        call = json_call("DELETE", SCHEDULER, "/schedule/{}", schedule_id)
        return await self._client._request(call, options)

    async def pause(
        self, schedule_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Pause a schedule."""
        return await self._client._request(_verb(schedule_id, "pause"), options)

    async def resume(
        self, schedule_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Resume a paused schedule."""
        return await self._client._request(_verb(schedule_id, "resume"), options)

    async def run_now(
        self, schedule_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Run a schedule's job immediately."""
        return await self._client._request(_verb(schedule_id, "run-now"), options)


def _verb(schedule_id: str, verb: str) -> Call[dict[str, Any]]:
    return object_call("POST", SCHEDULER, "/schedule/{}/" + verb, schedule_id)
