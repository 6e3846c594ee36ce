"""Workflow executions: each step runs an endpoint through the engine, in order.

An execution goes ``created`` -> ``running`` -> ``completed`` | ``failed``, and may be
``cancelled`` (before or while running) or ``stopped`` (while running); ``retry``
re-runs a failed, cancelled or stopped execution from its first unfinished task. A
running execution checks its status between steps, so cancel and stop take effect
when the current step ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._engine import Engine
from viksa_ai.devtools.platform.services._errors import DomainError, NotFoundError, conflict
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.store._store import Doc, Kind, Store

__all__ = ["Workflows"]

KIND: Kind = "workflow_execution"


class Workflows:
    """Creates and runs workflow executions."""

    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine

    def create(self, workflow: Doc, project_id: str, **context: Any) -> Doc:
        """A new ``created`` execution with one pending task per workflow step."""
        execution = {
            "id": new_id("wfx"),
            "workflow_id": workflow["id"],
            "status": "created",
            "created_at": now_iso(),
            "started_at": None,
            "finished_at": None,
            "error": None,
            "schedule_id": None,
            "trigger_source": None,
            **context,
            "tasks": [
                {
                    "step_id": step["id"],
                    "name": step.get("name", step["id"]),
                    "agent_id": step["agent_id"],
                    "endpoint": step["endpoint"],
                    "inputs": step.get("inputs", {}),
                    "status": "pending",
                    "execution_id": None,
                    "response": None,
                    "error": None,
                }
                for step in workflow.get("steps", [])
            ],
        }
        return self.store.insert(KIND, execution, scope=project_id)

    def update(self, execution_id: str, change: Callable[[Doc], None]) -> Doc:
        """Apply ``change`` to the stored execution atomically and return it."""
        with self.store.transaction():
            execution = self.store.get(KIND, execution_id)
            if execution is None:
                raise NotFoundError(f"Execution {execution_id!r} not found")
            change(execution)
            return self.store.save(KIND, execution)

    def recover(self) -> int:
        """Fail the workflow executions a previous process left ``running``; how many.

        ``retry`` resumes one from its first unfinished step.
        """
        stale, _ = self.store.query(KIND, where={"status": "running"})
        for execution in stale:
            self.update(
                execution["id"],
                _finished("failed", "The platform stopped while this workflow ran; retry it."),
            )
        return len(stale)

    def begin(self, execution_id: str, allowed: tuple[str, ...], verb: str = "started") -> Doc:
        """Move an execution to ``running`` from one of ``allowed``; it runs in the background.

        ``verb`` names the move in the 409 answered from any other state (``started``,
        ``retried``).
        """

        def change(doc: Doc) -> None:
            if doc["status"] not in allowed:
                raise conflict(
                    f"Workflow execution {doc['id']!r} is {doc['status']}: only "
                    f"{' or '.join(allowed)} executions can be {verb}.",
                    code="invalid_transition",
                )
            doc.update(status="running", started_at=now_iso(), finished_at=None, error=None)
            for task in doc["tasks"]:
                if task["status"] != "completed":
                    task["status"] = "pending"

        started = self.update(execution_id, change)
        self.engine.spawn(self.run(execution_id))
        return started

    async def run(self, execution_id: str) -> Doc:
        """Run the pending tasks of a ``running`` execution until it ends."""
        project = self.store.scope_of(KIND, execution_id)
        assert project is not None
        while True:
            execution = self.store.get(KIND, execution_id)
            if execution is None or execution["status"] != "running":
                return execution or {}
            index = next(
                (i for i, t in enumerate(execution["tasks"]) if t["status"] != "completed"), None
            )
            if index is None:
                return self.update(execution_id, _finished("completed", None))
            task = execution["tasks"][index]
            try:
                target = self.engine.target(project, task["agent_id"], task["endpoint"])
                self.engine.check_inputs(target, task["inputs"], None)
            except DomainError as exc:
                return self.update(execution_id, _task_failed(index, str(exc.detail)))
            record = self.engine.new_execution(
                target,
                inputs=task["inputs"],
                envelope={"run_id": execution_id, "parent_step_id": task["step_id"]},
                timeout=None,
                source="workflow",
                context={"workflow_execution_id": execution_id},
            )
            self.update(execution_id, _task_started(index, record["id"]))
            final = await self.engine.execute(record, wait_for_approval=True)
            if final["status"] != "completed":
                return self.update(
                    execution_id, _task_failed(index, final["error"] or final["status"])
                )
            self.update(execution_id, _task_done(index, final["response"]))


def _finished(status: str, error: str | None) -> Callable[[Doc], None]:
    def change(execution: Doc) -> None:
        if execution["status"] == "running":
            execution.update(status=status, error=error, finished_at=now_iso())

    return change


def _task_started(index: int, record_id: str) -> Callable[[Doc], None]:
    def change(execution: Doc) -> None:
        execution["tasks"][index].update(
            status="running", execution_id=record_id, started_at=now_iso(), error=None
        )

    return change


def _task_done(index: int, response: Any) -> Callable[[Doc], None]:
    def change(execution: Doc) -> None:
        execution["tasks"][index].update(
            status="completed", response=response, finished_at=now_iso()
        )

    return change


def _task_failed(index: int, error: str) -> Callable[[Doc], None]:
    def change(execution: Doc) -> None:
        execution["tasks"][index].update(status="failed", error=error, finished_at=now_iso())
        _finished("failed", f"step {execution['tasks'][index]['step_id']!r} failed: {error}")(
            execution
        )

    return change
