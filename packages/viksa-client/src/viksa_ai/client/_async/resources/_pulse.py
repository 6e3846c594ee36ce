"""``client.pulse``: run agent endpoints through the executor."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import PULSE, Call, json_call, query_of
from viksa_ai.client._decode import (
    execution_response,
    execution_response_json,
    invoke_response,
    invoke_response_json,
)
from viksa_ai.client._twin import blocking_twin

if TYPE_CHECKING:
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.answers import ExecutionRecord, ExecutionRecordPage, ExecutionStatus
    from viksa_ai.models.executor import (
        AgentInvokeRequest,
        AgentInvokeResponse,
        EndpointExecutionRequest,
        EndpointExecutionResponse,
    )

__all__ = ["AsyncPulse"]


def _instant(moment: datetime | str | None) -> str | None:
    # ISO 8601 with a "T": the platform reads a time without a zone as UTC.
    return moment.isoformat() if isinstance(moment, datetime) else moment


def _executions_page(
    skip: int,
    limit: int,
    agent_id: str | None,
    status: ExecutionStatus | None,
    since: datetime | str | None,
    until: datetime | str | None,
) -> Call[ExecutionRecordPage]:
    query = query_of(
        skip=skip,
        limit=limit,
        agent_id=agent_id,
        status=status,
        since=_instant(since),
        until=_instant(until),
    )
    return json_call("GET", PULSE, "/executor/executions", query=query)


class AsyncPulse(AsyncResource):
    """The pulse executor (``/pulse/executor``). Endpoints are ``alias.module.function``."""

    __slots__ = ()

    async def execute(
        self,
        request: EndpointExecutionRequest | Mapping[str, object],
        *,
        options: RequestOptions | None = None,
    ) -> EndpointExecutionResponse:
        """Run an endpoint and wait for its result."""
        call = Call(
            method="POST",
            service=PULSE,
            path="/executor/execute",
            body=request,
            decode=execution_response,
            decode_json=execution_response_json,
        )
        return await self._client._request(call, options)

    async def invoke(
        self,
        request: AgentInvokeRequest | Mapping[str, object],
        *,
        options: RequestOptions | None = None,
    ) -> AgentInvokeResponse:
        """Start an endpoint without waiting (fire and forget)."""
        call = Call(
            method="POST",
            service=PULSE,
            path="/executor/invoke",
            body=request,
            decode=invoke_response,
            decode_json=invoke_response_json,
        )
        return await self._client._request(call, options)

    async def list_executions(
        self,
        skip: int = 0,
        limit: int = 50,
        *,
        agent_id: str | None = None,
        status: ExecutionStatus | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        options: RequestOptions | None = None,
    ) -> ExecutionRecordPage:
        """One page of the project's executions, newest first (items under ``executions``).

        ``agent_id`` and ``status`` keep the executions of that agent or in that state;
        ``since`` and ``until`` bound their creation time (inclusive; a ``datetime`` or
        an ISO 8601 string, read as UTC when it names no zone).
        """
        call = _executions_page(skip, limit, agent_id, status, since, until)
        return await self._client._request(call, options)

    def iter_executions(
        self,
        limit: int = 50,
        *,
        agent_id: str | None = None,
        status: ExecutionStatus | None = None,
        since: datetime | str | None = None,
        until: datetime | str | None = None,
        options: RequestOptions | None = None,
    ) -> AsyncIterator[ExecutionRecord]:
        """Every execution matching the filters, newest first, page after page."""
        return self._client._paginate(
            lambda skip, size: _executions_page(skip, size, agent_id, status, since, until),
            limit=limit,
            key="executions",
            options=options,
        )

    # unasync: begin async-only
    def execute_sync(
        self,
        request: EndpointExecutionRequest | Mapping[str, object],
        *,
        options: RequestOptions | None = None,
    ) -> EndpointExecutionResponse:
        """``execute``, blocking."""
        return blocking_twin(self._client).pulse.execute(request, options=options)

    # unasync: end
