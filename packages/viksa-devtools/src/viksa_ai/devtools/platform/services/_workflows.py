"""Workflow executions: each step runs an endpoint through the engine, in order.

An execution goes ``created`` -> ``running`` -> ``completed`` | ``failed``, and may be
``cancelled`` (before or while running) or ``stopped`` (while running); ``retry``
re-runs a failed, cancelled or stopped execution from its first unfinished task. A
running execution checks its status between steps, so cancel and stop take effect
when the current step ends.

A restart fails the executions that were running (``retry`` resumes them), except one
whose step waits for an approval: it keeps waiting, and the decision (through any
process on the data file) runs that step once and goes on with the next steps. A step
waits ``approval_wait`` seconds from the approval's request, before or after a restart
(:meth:`Workflows.expire_resumed`, each tick, for the waits a restart resumed); then
its execution ends ``timeout`` and the workflow fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from viksa_ai.devtools._strict_json import UnfitJsonError
from viksa_ai.devtools.platform._tracing import background
from viksa_ai.devtools.platform._tracing import step as traced_step
from viksa_ai.devtools.platform.services._clock import now_iso, seconds_of
from viksa_ai.devtools.platform.services._engine import Engine
from viksa_ai.devtools.platform.services._errors import (
    DomainError,
    NotFoundError,
    conflict,
    detail_item,
    unprocessable,
)
from viksa_ai.devtools.platform.services._records import Caller, owned_endpoint, owned_record
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._validation import required_id, typed_field
from viksa_ai.devtools.platform.store._store import Doc, Kind, Store

__all__ = ["MAX_WORKFLOW_STEPS", "Workflows"]

KIND: Kind = "workflow_execution"
MAX_WORKFLOW_STEPS = 1000
"""How many steps a workflow may have: each step's start and end rewrite the whole
execution record, so a run costs the square of its length (10,000 steps held the event
loop, every account's requests, ~0.1 s per write; 100,000 ~1 s, for days)."""
_FIXED = frozenset({"id", "created_at", "updated_at"})


class Workflows:
    """Creates and runs workflow executions."""

    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine
        # The executions this process is running: a stopped one stays here until its
        # current step ends, and cannot be run again before (its step would run twice).
        self._active: set[str] = set()
        # Steps a previous process left waiting for a decision: their execution ids, and
        # when their wait runs out (seconds since the epoch).
        self._resumed: dict[str, float] = {}
        engine.on_waiting_ended(self._waiting_ended)

    def running(self) -> frozenset[str]:
        """The executions this process is running now (a stopped one until its step ends)."""
        return frozenset(self._active)

    # -- workflows ------------------------------------------------------------------------

    def workflow(self, caller: Caller, workflow_id: str) -> Doc:
        """One workflow of the caller's project."""
        return owned_record(self.store, "workflow", "Workflow", workflow_id, caller)

    def execution(self, caller: Caller, execution_id: str) -> Doc:
        """One workflow execution of the caller's project, with its tasks."""
        return owned_record(self.store, KIND, "Workflow execution", execution_id, caller)

    def _steps(self, caller: Caller, steps: Any) -> list[Doc]:
        if not isinstance(steps, list):
            raise unprocessable(
                [detail_item(["body", "steps"], "steps must be a list", "list_type")]
            )
        if len(steps) > MAX_WORKFLOW_STEPS:
            message = (
                f"a workflow has at most {MAX_WORKFLOW_STEPS:,} steps ({len(steps):,} sent): "
                "split it into workflows"
            )
            raise unprocessable([detail_item(["body", "steps"], message, "too_long")])
        checked: list[Doc] = []
        taken: set[str] = set()
        # Each agent and endpoint is looked up once.
        targets: set[tuple[str, str]] = set()
        for index, step in enumerate(steps):
            loc: list[str | int] = ["body", "steps", index]
            _check_step_shape(loc, step)
            target = (step["agent_id"], step["endpoint"])
            if target not in targets:
                owned_endpoint(self.store, caller, *target, [*loc, "endpoint"])
                targets.add(target)
            step_id = step.get("id") or f"step_{index + 1}"
            if step_id in taken:
                raise unprocessable(
                    [
                        detail_item(
                            [*loc, "id"],
                            f"step id {step_id!r} is taken by an earlier step: "
                            "give each step an id of its own",
                            "value_error.duplicate",
                        )
                    ]
                )
            taken.add(step_id)
            checked.append({**step, "id": step_id, "inputs": step.get("inputs") or {}})
        return checked

    def create_workflow(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """A new workflow: ``name`` and ``steps`` (``agent_id``, ``endpoint``, ``inputs``)."""
        now = now_iso()
        # A name of another type (a number, an object) was kept, and shown as sent.
        name = typed_field(body, "name", str)
        workflow = {
            "name": "workflow",
            **{k: v for k, v in body.items() if k not in _FIXED},
            "id": new_id("wfl"),
            "steps": self._steps(caller, body.get("steps", [])),
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        if name is None:
            workflow["name"] = "workflow"
        return self.store.insert("workflow", workflow, scope=caller.project_id)

    def patch_workflow(self, caller: Caller, workflow_id: str, body: dict[str, Any]) -> Doc:
        """Change a workflow's fields (steps are checked again)."""
        workflow = self.workflow(caller, workflow_id)
        typed_field(body, "name", str, required="name" in body)
        workflow.update({k: v for k, v in body.items() if k not in _FIXED})
        if "steps" in body:
            workflow["steps"] = self._steps(caller, body["steps"])
        workflow["updated_at"] = now_iso()
        return self.store.save("workflow", workflow)

    def page_workflows(self, project_id: str, *, skip: int, limit: int) -> tuple[list[Doc], int]:
        """One page of a project's workflows."""
        return self.store.query("workflow", scope=project_id, skip=skip, limit=limit)

    def related(self, caller: Caller, workflow_id: str) -> Doc:
        """The executions and schedules of a workflow."""
        self.workflow(caller, workflow_id)
        where = {"workflow_id": workflow_id}
        return {
            "workflow_id": workflow_id,
            "executions": self.store.query(KIND, scope=caller.project_id, where=where)[0],
            "schedules": self.store.query("schedule", scope=caller.project_id, where=where)[0],
        }

    def clone(self, caller: Caller, workflow_id: str, name: Any) -> Doc:
        """A copy of a workflow, named ``name`` (or after the original)."""
        source = self.workflow(caller, workflow_id)
        typed_field({"name": name}, "name", str)
        now = now_iso()
        copy = {
            **source,
            "id": new_id("wfl"),
            "name": name or f"{source['name']} (copy)",
            "cloned_from": source["id"],
            "created_at": now,
            "updated_at": now,
        }
        return self.store.insert("workflow", copy, scope=caller.project_id)

    def delete_workflow(self, caller: Caller, workflow_id: str) -> None:
        """Delete a workflow (its past executions stay)."""
        self.workflow(caller, workflow_id)
        self.store.delete("workflow", workflow_id)

    def needs_approval(self, project_id: str, workflow: Doc) -> bool:
        """Whether a step of ``workflow`` runs an endpoint that waits for an approval."""
        for step in workflow.get("steps", []):
            try:
                target = self.engine.target(project_id, step["agent_id"], step["endpoint"])
            except DomainError:
                continue  # the run fails this step and says why
            if target.requires_approval:
                return True
        return False

    # -- executions -----------------------------------------------------------------------

    def start_new(self, caller: Caller, workflow_id: str, **context: Any) -> Doc:
        """A new execution of a workflow, started in the background."""
        workflow = self.workflow(caller, workflow_id)
        execution = self.create(workflow, caller.project_id, **context)
        return self.begin(execution["id"], ("created",))

    def rerun(self, caller: Caller, execution_id: str) -> Doc:
        """A new execution of the workflow of ``execution_id``, started at once."""
        previous = self.execution(caller, execution_id)
        return self.start_new(caller, previous["workflow_id"], rerun_of=previous["id"])

    async def execute(
        self, caller: Caller, workflow_id: str, trigger_source: Any
    ) -> tuple[Doc, bool]:
        """Run a workflow to its end: the final execution, and False.

        A workflow with a step that needs an approval starts in the background instead
        (see :meth:`needs_approval`): the running execution, and True.
        """
        workflow = self.workflow(caller, workflow_id)
        execution = self.create(workflow, caller.project_id, trigger_source=trigger_source)
        if self.needs_approval(caller.project_id, workflow):
            return self.begin(execution["id"], ("created",)), True

        def start(doc: Doc) -> None:
            doc.update(status="running", started_at=now_iso())

        self.update(execution["id"], start)
        self._active.add(execution["id"])
        try:
            return await self.run(execution["id"]), False
        finally:
            self._active.discard(execution["id"])

    def create_execution(self, caller: Caller, workflow_id: str, body: dict[str, Any]) -> Doc:
        """A ``created`` execution of a workflow (for ``schedule_id`` when the body names one)."""
        workflow = self.workflow(caller, workflow_id)
        schedule_id = None
        if body.get("schedule_id") is not None:
            # Like every other reference: 404 when the schedule is not the project's.
            schedule_id = required_id(body, "schedule_id")
            owned_record(self.store, "schedule", "Schedule", schedule_id, caller)
        return self.create(workflow, caller.project_id, schedule_id=schedule_id)

    def page_executions(
        self, caller: Caller, workflow_id: str | None, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of the project's (or one workflow's) executions, most recent first."""
        if workflow_id is not None:
            self.workflow(caller, workflow_id)
        return self.store.query(
            KIND,
            scope=caller.project_id,
            where=None if workflow_id is None else {"workflow_id": workflow_id},
            skip=skip,
            limit=limit,
            newest_first=True,
        )

    def halt(self, caller: Caller, execution_id: str, to: str, allowed: tuple[str, ...]) -> Doc:
        """Move an execution to ``to`` (cancelled, stopped) from one of ``allowed``."""
        self.execution(caller, execution_id)

        def change(doc: Doc) -> None:
            if doc["status"] not in allowed:
                raise conflict(
                    f"Workflow execution {doc['id']!r} is {doc['status']}: only "
                    f"{' or '.join(allowed)} executions can be {to}.",
                    code="invalid_transition",
                )
            doc.update(status=to, finished_at=now_iso())

        halted = self.update(execution_id, change)
        # A step waiting for an approval would hold the run (and a retry) for up to
        # approval_wait, and a later approval would run it for nobody: it ends now.
        self._cancel_waiting_steps(halted, f"The workflow execution was {to}.")
        return halted

    def _cancel_waiting_steps(self, execution: Doc, error: str) -> None:
        for task in execution["tasks"]:
            if task["status"] == "running" and isinstance(task.get("execution_id"), str):
                self.engine.cancel_waiting(task["execution_id"], error)

    def delete_execution(self, caller: Caller, execution_id: str) -> None:
        """Delete an execution that is not running."""
        execution = self.execution(caller, execution_id)
        if execution["status"] == "running":
            raise conflict("Stop or cancel a running execution before deleting it.", code="running")
        # Its run would fail (and log an error) writing the step's end to nothing.
        self._refuse_while_stepping(execution, "deleted")
        self.store.delete(KIND, execution_id)

    def _refuse_while_stepping(self, execution: Doc, verb: str) -> None:
        """409 ``stopping`` while a stopped execution's step still runs in this process."""
        if execution["id"] in self._active:
            raise conflict(
                f"Workflow execution {execution['id']!r} is {execution['status']} but its "
                f"current step still runs: it can be {verb} once that step ends.",
                code="stopping",
            )

    def patch_tasks(self, caller: Caller, execution_id: str, changes: Any) -> Doc:
        """Change the inputs of tasks not yet completed (``[{step_id, inputs}]``)."""
        self.execution(caller, execution_id)
        if not isinstance(changes, list) or not all(
            isinstance(c, dict)
            and isinstance(c.get("step_id"), str)
            and isinstance(c.get("inputs"), dict)
            for c in changes
        ):
            # Inputs of another type were ignored with a 200, as if the change was made.
            raise unprocessable(
                [detail_item(["body", "tasks"], "send a list of {step_id, inputs}", "list_type")]
            )

        def change(doc: Doc) -> None:
            if doc["status"] == "running":
                raise conflict("Tasks cannot change while the execution runs.", code="running")
            # An earlier version stored step ids of any type: such a task cannot be named.
            by_step = {t["step_id"]: t for t in doc["tasks"] if isinstance(t["step_id"], str)}
            for item in changes:
                task = by_step.get(item["step_id"])
                if task is None:
                    raise unprocessable(
                        [
                            detail_item(
                                ["body", "tasks"], f"no step {item['step_id']!r}", "value_error"
                            )
                        ]
                    )
                task["inputs"] = item["inputs"]

        return self.update(execution_id, change)

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
        error = "The platform stopped while this workflow ran; retry it."
        failed = 0
        for execution in stale:
            step = self._waiting_step(execution)
            if step is not None:
                # The decision goes on with it (see _waiting_ended), if it comes in time.
                self._resumed[step["id"]] = self._wait_ends(step)
                continue
            self.update(execution["id"], _interrupted(error))
            failed += 1
        return failed

    def _waiting_step(self, execution: Doc) -> Doc | None:
        """The execution of the running step of ``execution`` if it waits for an approval."""
        for task in execution["tasks"]:
            if task["status"] == "running" and isinstance(task.get("execution_id"), str):
                step = self.store.get("execution", task["execution_id"])
                waits = step is not None and step["status"] == "awaiting_approval"
                return step if waits else None
        return None

    def _wait_ends(self, step: Doc) -> float:
        """When the approval wait of ``step`` runs out: counted from the request, as the
        wait of a step that did not restart is, not from the restart."""
        approval = self.store.get("approval", step.get("approval_id") or "")
        began = (approval or {}).get("requested_at") or step["created_at"]
        return seconds_of(began) + self.engine.approval_wait

    def expire_resumed(self, now: float | None = None) -> int:
        """End the resumed waits (see :meth:`recover`) run out at ``now``; how many ended.

        Each ends as a wait that did not restart: the step's execution ``timeout``, its
        approval ``cancelled``, the workflow failed (through :meth:`_waiting_ended`).
        """
        moment = time.time() if now is None else now
        ended = 0
        for step_id, ends in list(self._resumed.items()):
            if ends > moment:
                continue
            del self._resumed[step_id]
            if self.engine.expire_waiting(step_id) is not None:
                ended += 1
        return ended

    def _waiting_ended(self, record: Doc) -> None:
        """Record the end of a step that waited for an approval, if nothing here waits.

        The runner that waited ended with its process (a restart): the decision ran the
        step (once) or rejected it, or a stop cancelled it; its end is recorded here, and
        a run still going goes on with its next steps in the background.
        """
        self._resumed.pop(record["id"], None)
        execution_id = record.get("workflow_execution_id")
        if not isinstance(execution_id, str) or execution_id in self._active:
            return
        with self.store.transaction():
            execution = self.store.get(KIND, execution_id)
            if execution is None:
                return
            index = next(
                (
                    i
                    for i, task in enumerate(execution["tasks"])
                    if task["status"] == "running" and task.get("execution_id") == record["id"]
                ),
                None,
            )
            if index is None or self._step_ended(execution_id, index, record) is not None:
                return
            if execution["status"] != "running":
                return  # stopped or cancelled meanwhile: the step's end is recorded
        self._active.add(execution_id)
        self.engine.spawn(self._in_background(execution_id, "workflow.resumed"))

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
            self._refuse_while_stepping(doc, verb)
            doc.update(status="running", started_at=now_iso(), finished_at=None, error=None)
            for task in doc["tasks"]:
                if task["status"] != "completed":
                    task["status"] = "pending"

        started = self.update(execution_id, change)
        # Marked now, not when the task starts: a stop and retry in between would run it twice.
        self._active.add(execution_id)
        self.engine.spawn(self._in_background(execution_id, f"workflow.{verb}"))
        return started

    async def _in_background(self, execution_id: str, source: str) -> Doc:
        # A trace of its own: the request that started the workflow ends before it does.
        try:
            with background(source):
                return await self.run(execution_id)
        finally:
            self._active.discard(execution_id)

    async def run(self, execution_id: str) -> Doc:
        """Run the pending tasks of a ``running`` execution until it ends ({} once gone)."""
        try:
            return await self._run(execution_id)
        except NotFoundError:
            if self.store.get(KIND, execution_id) is not None:
                raise
            # Deleted with its project while a step ran: nothing is left to write to.
            return {}

    async def _run(self, execution_id: str) -> Doc:
        project = self.store.scope_of(KIND, execution_id)
        if project is None:
            return {}
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
            # A span per step, child of the run's: the step's execution notes it as its
            # own, so its page shows that step's spans, not the whole workflow's.
            with traced_step(f"viksa.workflow.step {task['step_id']}", **_step_attributes(task)):
                ended = await self._run_task(project, execution_id, index, task)
            if ended is not None:
                return ended

    async def _run_task(self, project: str, execution_id: str, index: int, task: Doc) -> Doc | None:
        """Run one task; the execution when it ended the run (failed), else None."""
        try:
            target = self.engine.target(project, task["agent_id"], task["endpoint"])
            await self.engine.check_inputs(target, task["inputs"], None)
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
        final = await self.engine.await_decision(record)
        return self._step_ended(execution_id, index, final)

    def _step_ended(self, execution_id: str, index: int, final: Doc) -> Doc | None:
        """Record the end of task ``index`` (its execution ``final``); the execution when
        that ended the run (failed, or recorded already), else None."""
        with self.store.transaction():
            current = self.store.get(KIND, execution_id)
            tasks = [] if current is None else current["tasks"]
            if final["status"] == "running" or not (
                index < len(tasks)
                and tasks[index]["status"] == "running"
                and tasks[index].get("execution_id") == final["id"]
            ):
                # Recorded by another runner, or to be: a decision served by another
                # process on the data file runs the step and goes on with the run. This
                # runner stops here.
                return current or {}
            if final["status"] != "completed":
                error = final["error"] or final["status"]
                return self.update(execution_id, _task_failed(index, error))
            try:
                self.update(execution_id, _task_done(index, final["response"]))
            except UnfitJsonError as exc:
                # The result fits its own execution record, not two levels further down
                # in this one: the step fails, rather than the run (which stayed running).
                message = (
                    f"The step's result cannot be kept in the workflow execution: {exc.message}."
                )
                return self.update(execution_id, _task_failed(index, message))
        return None


def _check_step_shape(loc: list[str | int], step: Any) -> None:
    """422 naming the field when a step is not ``{id?, name?, agent_id, endpoint, inputs?}``.

    Checked before anything is stored: a step id or inputs of another type broke the
    runs and task changes of the workflow later (500s), not its creation.
    """
    if not isinstance(step, dict):
        raise unprocessable(
            [detail_item(loc, "a step is an object {id, agent_id, endpoint, inputs}", "dict_type")]
        )
    typed_field(step, "agent_id", str, loc, required=True)
    typed_field(step, "endpoint", str, loc, required=True)
    typed_field(step, "id", str, loc)
    typed_field(step, "name", str, loc)
    typed_field(step, "inputs", dict, loc)


def _step_attributes(task: Doc) -> dict[str, str]:
    # Only attributes of SAFE_ATTRIBUTES: the endpoint path, never inputs.
    return {"viksa.source": "workflow", "viksa.endpoint": str(task["endpoint"])}


def _finished(status: str, error: str | None) -> Callable[[Doc], None]:
    def change(execution: Doc) -> None:
        if execution["status"] == "running":
            execution.update(status=status, error=error, finished_at=now_iso())

    return change


def _interrupted(error: str) -> Callable[[Doc], None]:
    def change(execution: Doc) -> None:
        # Its running step ended with the process: failed too, not running forever.
        for task in execution["tasks"]:
            if task["status"] == "running":
                task.update(status="failed", error=error, finished_at=now_iso())
        _finished("failed", error)(execution)

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
