"""``client.workflow``: workflows and ``workflow.executions``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from viksa_ai.client._async.resources._base import AsyncResource
from viksa_ai.client._call import WORKFLOW, Call, body_of, json_call, object_call, query_of

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._config import RequestOptions
    from viksa_ai.models.answers import (
        Deleted,
        WorkflowDefinition,
        WorkflowExecution,
        WorkflowExecutionPage,
        WorkflowPage,
        WorkflowRelated,
    )

__all__ = ["AsyncExecutions", "AsyncWorkflow"]


def _workflows_page(skip: int, limit: int) -> Call[WorkflowPage]:
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
    ) -> WorkflowExecution:
        """Start a workflow."""
        body = body_of(workflow_id=workflow_id, trigger_source=trigger_source)
        return await self._client._request(
            object_call("POST", WORKFLOW, "/start", body=body), options
        )

    async def get(
        self, workflow_id: str, *, options: RequestOptions | None = None
    ) -> WorkflowDefinition:
        """A workflow definition."""
        call: Call[WorkflowDefinition] = object_call("GET", WORKFLOW, "/id/{}", workflow_id)
        return await self._client._request(call, options)

    async def patch(
        self, workflow_id: str, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> WorkflowDefinition:
        """Update a workflow."""
        call: Call[WorkflowDefinition] = object_call(
            "PATCH", WORKFLOW, "/id/{}", workflow_id, body=body
        )
        return await self._client._request(call, options)

    async def list(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> WorkflowPage:
        """One page of workflows (items under ``workflows``)."""
        return await self._client._request(_workflows_page(skip, limit), options)

    def iter_all(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[WorkflowDefinition]:
        """Every workflow, page after page."""
        return self._client._paginate(
            _workflows_page, limit=limit, key="workflows", options=options
        )

    async def delete(self, workflow_id: str, *, options: RequestOptions | None = None) -> Deleted:
        """Delete a workflow."""
        return await self._client._request(
            json_call("DELETE", WORKFLOW, "/{}", workflow_id), options
        )

    async def related(
        self, workflow_id: str, *, options: RequestOptions | None = None
    ) -> WorkflowRelated:
        """Workflows related to this one."""
        call: Call[WorkflowRelated] = json_call("GET", WORKFLOW, "/related/{}", workflow_id)
        return await self._client._request(call, options)

    async def clone(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> WorkflowDefinition:
        """Clone a workflow."""
        return await self._client._request(
            object_call("POST", WORKFLOW, "/clone", body=body), options
        )

    async def rerun(
        self, body: Mapping[str, object], *, options: RequestOptions | None = None
    ) -> WorkflowExecution:
        """Run a workflow again."""
        return await self._client._request(
            object_call("POST", WORKFLOW, "/rerun", body=body), options
        )

    async def execute(
        self,
        workflow_id: str,
        body: Mapping[str, object] | None = None,
        *,
        options: RequestOptions | None = None,
    ) -> WorkflowExecution:
        """Execute a workflow now."""
        call: Call[WorkflowExecution] = object_call(
            "POST", WORKFLOW, "/{}/execute", workflow_id, body=body
        )
        return await self._client._request(call, options)


def _executions_page(skip: int, limit: int) -> Call[WorkflowExecutionPage]:
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
    ) -> WorkflowExecution:
        """Create an execution of a workflow."""
        body = body_of(workflow_id=workflow_id, schedule_id=schedule_id)
        call: Call[WorkflowExecution] = object_call(
            "POST", WORKFLOW, "/execution/create", body=body
        )
        return await self._client._request(call, options)

    async def get(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> WorkflowExecution:
        """One execution."""
        call: Call[WorkflowExecution] = object_call("GET", WORKFLOW, "/execution/{}", execution_id)
        return await self._client._request(call, options)

    async def list(
        self, skip: int = 0, limit: int = 50, *, options: RequestOptions | None = None
    ) -> WorkflowExecutionPage:
        """One page of executions (items under ``executions``)."""
        return await self._client._request(_executions_page(skip, limit), options)

    def iter_all(
        self, limit: int = 50, *, options: RequestOptions | None = None
    ) -> AsyncIterator[WorkflowExecution]:
        """Every execution, page after page."""
        return self._client._paginate(
            _executions_page, limit=limit, key="executions", options=options
        )

    async def list_for_workflow(
        self, workflow_id: str, *, options: RequestOptions | None = None, **query: Any
    ) -> WorkflowExecutionPage:
        """The executions of one workflow; keyword arguments become the query."""
        call: Call[WorkflowExecutionPage] = json_call(
            "GET", WORKFLOW, "/execution/workflow/{}/list", workflow_id, query=query_of(**query)
        )
        return await self._client._request(call, options)

    async def start(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> WorkflowExecution:
        """Start an execution."""
        return await self._client._request(_verb(execution_id, "start"), options)

    async def retry(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> WorkflowExecution:
        """Retry a failed execution."""
        return await self._client._request(_verb(execution_id, "retry"), options)

    async def cancel(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> WorkflowExecution:
        """Cancel an execution."""
        return await self._client._request(_verb(execution_id, "cancel"), options)

    async def stop(
        self, execution_id: str, *, options: RequestOptions | None = None
    ) -> WorkflowExecution:
        """Stop an execution."""
        return await self._client._request(_verb(execution_id, "stop"), options)

    async def delete(self, execution_id: str, *, options: RequestOptions | None = None) -> Deleted:
        """Delete an execution."""
        call: Call[Deleted] = json_call("DELETE", WORKFLOW, "/execution/{}", execution_id)
        return await self._client._request(call, options)

    async def patch_tasks(
        self,
        execution_id: str,
        body: Mapping[str, object],
        *,
        options: RequestOptions | None = None,
    ) -> WorkflowExecution:
        """Update the tasks of an execution."""
        call: Call[WorkflowExecution] = object_call(
            "PATCH", WORKFLOW, "/execution/{}/tasks", execution_id, body=body
        )
        return await self._client._request(call, options)


def _verb(execution_id: str, verb: str) -> Call[WorkflowExecution]:
    return object_call("POST", WORKFLOW, "/execution/{}/" + verb, execution_id)
