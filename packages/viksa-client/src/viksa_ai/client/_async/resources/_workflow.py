"""``client.workflow``: workflows and ``workflow.executions``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import WORKFLOW, Call, body_of, json_call, object_call, query_of

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._config import RequestOptions

__all__ = ["AsyncExecutions", "AsyncWorkflow"]


def _workflows_page(skip: int, limit: int) -> Call[Any]:
    return json_call("GET", WORKFLOW, "/list", query=query_of(skip=skip, limit=limit))


class AsyncWorkflow(AsyncResource):
    """The workflow service (``/workflow``); ``executions`` hangs off it."""

    __slots__ = ("executions",)

    def __init__(self, client: ViksaClient) -> None:
        super().__init__(client)
        self.executions = AsyncExecutions(client)

    async def start(
        self,
        workflow_id: str,
        trigger_source: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> dict[str, Any]:
        """Start a workflow."""
        body = body_of(workflow_id=workflow_id, trigger_source=trigger_source)
        return await self._client._request(
            object_call("POST", WORKFLOW, "/start", body=body), options
        )

    async def get(
        self, workflow_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """A workflow definition."""
        call = object_call("GET", WORKFLOW, "/id/{}", workflow_id)
        return await self._client._request(call, options)

    async def patch(
        self, workflow_id: str, body: Mapping[str, Any], *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Update a workflow."""
        call = object_call("PATCH", WORKFLOW, "/id/{}", workflow_id, body=body)
        return await self._client._request(call, options)

    async def list(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> Any:
        """One page of workflows (items under ``workflows``)."""
        return await self._client._request(_workflows_page(skip, limit), options)

    def iter_all(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[Any]:
        """Every workflow, page after page."""
        return self._client._paginate(
            _workflows_page, limit=limit, key="workflows", options=options
        )

    async def delete(self, workflow_id: str, *, options: RequestOptions | None = None) -> Any:
        """Delete a workflow."""
        return await self._client._request(
            json_call("DELETE", WORKFLOW, "/{}", workflow_id), options
        )

    async def related(self, workflow_id: str, *, options: RequestOptions | None = None) -> Any:
        """Workflows related to this one."""
        call = json_call("GET", WORKFLOW, "/related/{}", workflow_id)
        return await self._client._request(call, options)

    async def clone(
        self, body: Mapping[str, Any], *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Clone a workflow."""
        return await self._client._request(
            object_call("POST", WORKFLOW, "/clone", body=body), options
        )

    async def rerun(
        self, body: Mapping[str, Any], *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Run a workflow again."""
        return await self._client._request(
            object_call("POST", WORKFLOW, "/rerun", body=body), options
        )

    async def execute(
        self,
        workflow_id: str,
        body: Mapping[str, Any] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> dict[str, Any]:
        """Execute a workflow now."""
        call = object_call("POST", WORKFLOW, "/{}/execute", workflow_id, body=body)
        return await self._client._request(call, options)


def _executions_page(skip: int, limit: int) -> Call[Any]:
    return json_call("GET", WORKFLOW, "/execution/list", query=query_of(skip=skip, limit=limit))


class AsyncExecutions(AsyncResource):
    """Workflow executions (``/workflow/execution``)."""

    __slots__ = ()

    async def create(
        self,
        workflow_id: str,
        schedule_id: str | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> dict[str, Any]:
        """Create an execution of a workflow."""
        body = body_of(workflow_id=workflow_id, schedule_id=schedule_id)
        call = object_call("POST", WORKFLOW, "/execution/create", body=body)
        return await self._client._request(call, options)

    async def get(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """One execution."""
        call = object_call("GET", WORKFLOW, "/execution/{}", execution_id)
        return await self._client._request(call, options)

    async def list(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> Any:
        """One page of executions (items under ``executions``)."""
        return await self._client._request(_executions_page(skip, limit), options)

    def iter_all(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[Any]:
        """Every execution, page after page."""
        return self._client._paginate(
            _executions_page, limit=limit, key="executions", options=options
        )

    async def list_for_workflow(
        self, workflow_id: str, *, options: RequestOptions | None = None, **query: Any
    ) -> Any:
        """The executions of one workflow; keyword arguments become the query."""
        call = json_call(
            "GET", WORKFLOW, "/execution/workflow/{}/list", workflow_id, query=query_of(**query)
        )
        return await self._client._request(call, options)

    async def start(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Start an execution."""
        return await self._client._request(_verb(execution_id, "start"), options)

    async def retry(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Retry a failed execution."""
        return await self._client._request(_verb(execution_id, "retry"), options)

    async def cancel(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Cancel an execution."""
        return await self._client._request(_verb(execution_id, "cancel"), options)

    async def stop(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Stop an execution."""
        return await self._client._request(_verb(execution_id, "stop"), options)

    async def delete(self, execution_id: str, *, options: RequestOptions | None = None) -> Any:
        """Delete an execution."""
        call = json_call("DELETE", WORKFLOW, "/execution/{}", execution_id)
        return await self._client._request(call, options)

    async def patch_tasks(
        self, execution_id: str, body: Mapping[str, Any], *, options: RequestOptions | None = None
    ) -> dict[str, Any]:
        """Update the tasks of an execution."""
        call = object_call("PATCH", WORKFLOW, "/execution/{}/tasks", execution_id, body=body)
        return await self._client._request(call, options)


def _verb(execution_id: str, verb: str) -> Call[dict[str, Any]]:
    return object_call("POST", WORKFLOW, "/execution/{}/" + verb, execution_id)
