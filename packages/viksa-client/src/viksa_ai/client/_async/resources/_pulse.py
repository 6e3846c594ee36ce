"""``client.pulse``: run agent endpoints through the executor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import PULSE, Call
from viksa_ai.client._decode import execution_response, invoke_response
from viksa_ai.client._twin import blocking_twin

if TYPE_CHECKING:
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.executor import (
        AgentInvokeRequest,
        AgentInvokeResponse,
        EndpointExecutionRequest,
        EndpointExecutionResponse,
    )

__all__ = ["AsyncPulse"]


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
        )
        return await self._client._request(call, options)

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
