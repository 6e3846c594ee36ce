"""Running deployed endpoints: what to run, execution records and approvals.

Every run is an *execution* record (``running`` -> ``completed`` | ``failed`` |
``timeout``; or ``awaiting_approval`` -> ``rejected`` or run). Agent code runs in the
devtools runner's warm workers (child processes, see ``_pools``), so an agent that
crashes, hangs or exits only ever fails its own call.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viksa_ai.devtools._json import dumps_json
from viksa_ai.devtools._strict_json import (
    MAX_STORED_DEPTH,
    UnfitJsonError,
    unfit_json,
)
from viksa_ai.devtools.platform._tracing import background, note_trace, step
from viksa_ai.devtools.platform.services._agents import endpoint_of
from viksa_ai.devtools.platform.services._clock import now_iso, seconds_of
from viksa_ai.devtools.platform.services._errors import (
    DomainError,
    NotFoundError,
    conflict,
    detail_item,
    not_found,
    unprocessable,
)
from viksa_ai.devtools.platform.services._events import Events
from viksa_ai.devtools.platform.services._memo import Memo
from viksa_ai.devtools.platform.services._pools import Pool, WorkerPools
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._vault import AUTH_METHODS_FIELD, resolve_secrets
from viksa_ai.devtools.platform.store._store import Doc, Store
from viksa_ai.devtools.runner import InvalidInputError, PreparedCall, RunnerError

__all__ = ["EXECUTION_STATUSES", "Engine", "ExecutionFilter", "Target", "execution_view"]

_TERMINAL = frozenset({"completed", "failed", "timeout", "rejected", "cancelled"})
EXECUTION_STATUSES = ("running", "awaiting_approval", *sorted(_TERMINAL))
"""Every status an execution record can have."""
_STATUS_OF_ERROR = {"timeout": "timeout"}
_CLOSE_WAIT_SECONDS = 5.0
# Resolved targets are kept until an agent or deployment record changes (or this many
# seconds pass): every execute otherwise reads and decodes both records again.
_TARGET_TTL_SECONDS = 60.0
_TARGETS_KEPT = 256
_log = logging.getLogger("viksa_ai.devtools.platform")


@dataclass(frozen=True)
class Target:
    """A deployed endpoint ready to run: the agent, its deployment and the endpoint."""

    agent: Doc
    deployment: Doc
    endpoint: Doc

    @property
    def path(self) -> str:
        """``alias.module.function``."""
        return str(self.endpoint["endpoint"])

    @property
    def requires_approval(self) -> bool:
        """Whether a run waits for ``approvals.decide``."""
        return bool((self.endpoint.get("execution_config") or {}).get("requires_approval"))

    @property
    def timeout(self) -> float:
        """The endpoint's ``timeout_seconds`` (30 by default)."""
        return float((self.endpoint.get("execution_config") or {}).get("timeout_seconds") or 30)


@dataclass(frozen=True)
class ExecutionFilter:
    """Which executions of a project to list: each field set narrows the list."""

    agent_id: str | None = None
    status: str | None = None
    since: float | None = None
    until: float | None = None


def execution_view(record: Doc) -> Doc:
    """An execution record as an EndpointExecutionResponse (plus its context)."""
    hidden = {"inputs", "envelope", "project_id", "timeout", "trace_id", "span_id"}
    return {k: v for k, v in record.items() if k not in hidden and k != "id"} | {
        "execution_id": record["id"]
    }


class Engine:
    """Executes endpoints for every route that runs agent code."""

    def __init__(
        self,
        store: Store,
        *,
        workers_per_agent: int,
        warm_agents: int,
        approval_wait: float,
        sandbox: bool = True,
        hidden_paths: Sequence[Path] = (),
    ) -> None:
        self.store = store
        self.approval_wait = approval_wait
        self.pools = WorkerPools(
            workers_per_agent=workers_per_agent,
            max_agents=warm_agents,
            spawn=self.spawn,
            sandbox=sandbox,
            hidden_paths=hidden_paths,
        )
        self._targets: Memo[Target] = Memo(
            store, ("agent", "deployment"), ttl=_TARGET_TTL_SECONDS, size=_TARGETS_KEPT
        )
        self._done: dict[str, asyncio.Event] = {}
        # Executions made to run now whose record is written once their call is on its
        # way (see new_execution): ids until then.
        self._unrecorded: set[str] = set()
        # Executions a decision served here runs now: a wait that runs out meanwhile
        # waits for that run; one a decision of another process runs ends it never wakes.
        self._approved_here: set[str] = set()
        self._waiting_ended: list[Callable[[Doc], None]] = []
        self.events = Events()
        """Every change of an execution or approval, for live views (the dashboard)."""
        self._tasks: set[asyncio.Task[Any]] = set()
        # Runs and approval waits in progress (in requests or background tasks): closing
        # lets them record how they ended before the store goes away.
        self._active = 0
        self._idle = asyncio.Event()
        self._idle.set()

    # -- resolving what to run --------------------------------------------------------

    def target(self, project_id: str, agent_id: str, endpoint: str) -> Target:
        """The deployed, enabled endpoint ``endpoint`` of an agent of the project.

        Kept until an agent or deployment changes, so shared: callers only read it.
        """
        memo_key = (project_id, agent_id, endpoint)
        found = self._targets.get(memo_key)
        if found is not None:
            return found
        version = self._targets.version()
        target = self._resolve(project_id, agent_id, endpoint)
        self._targets.put(memo_key, target, version)
        return target

    def target_for(self, caller: Caller, agent_id: str, endpoint: str) -> Target:
        """:meth:`target` in the caller's project: 403 when the agent is another account's.

        As on every route naming a record; the ownership lookup runs only when the
        agent is not found, off the hot path of a call that finds it.
        """
        try:
            return self.target(caller.project_id, agent_id, endpoint)
        except NotFoundError:
            owned_record(self.store, "agent", "Agent", agent_id, caller)
            raise

    def _resolve(self, project_id: str, agent_id: str, endpoint: str) -> Target:
        agent = self.store.get("agent", agent_id)
        if agent is None or agent["project_id"] != project_id:
            raise not_found("Agent", agent_id)
        deployment = self.store.get("deployment", agent_id)
        if deployment is None:
            raise conflict(
                f"Agent {agent['agent_alias']!r} is not deployed: build and deploy it first.",
                code="not_deployed",
            )
        deployed = dict(deployment["manifest"], agent_alias=agent["agent_alias"])
        found = endpoint_of(deployed, endpoint)
        if found is None:
            names = ", ".join(e["endpoint"] for e in deployed["agent_endpoints"])
            raise NotFoundError(
                f"Agent {agent['agent_alias']!r} has no endpoint {endpoint!r}; it has: {names}"
            )
        if agent["status"] != "enabled":
            raise conflict(f"Agent {agent['agent_alias']!r} is disabled.", code="agent_disabled")
        current = endpoint_of(agent, found["name"])
        if current is not None and current["status"] != "enabled":
            raise conflict(f"Endpoint {found['endpoint']!r} is disabled.", code="endpoint_disabled")
        return Target(agent=agent, deployment=deployment, endpoint=found)

    def _pool(self, target: Target) -> Pool:
        version = f"{target.deployment['deployment_id']}:{target.deployment['reconciled_at']}"
        return self.pools.get(target.agent["id"], version, target.deployment["manifest"])

    async def check_inputs(
        self, target: Target, inputs: Mapping[str, Any], envelope: Mapping[str, Any] | None
    ) -> PreparedCall:
        """The call checked against the deployed manifest; 422 when the inputs do not meet it.

        No agent code runs; the answer can be handed to :meth:`execute`.
        """
        pool = self._pool(target)
        try:
            with step("viksa.validate", **{"viksa.endpoint": target.path}):
                return await pool.prepare(target.endpoint["name"], inputs, envelope)
        except InvalidInputError as exc:
            raise unprocessable(
                detail_item(
                    ["body", "inputs", *([issue.input] if issue.input else [])],
                    issue.message,
                    f"value_error.{issue.code}",
                )
                for issue in exc.issues
            ) from None

    # -- running ----------------------------------------------------------------------

    def new_execution(
        self,
        target: Target,
        *,
        inputs: Mapping[str, Any],
        envelope: Mapping[str, Any] | None,
        timeout: float | None,
        source: str,
        context: Mapping[str, Any] | None = None,
        record_when_sent: bool = False,
    ) -> Doc:
        """Record a new execution (awaiting approval when the endpoint needs one).

        With ``record_when_sent``, for a record :meth:`execute` runs at once with no
        await between: one that needs no approval is written when its call is handed
        to a worker (or before it waits for one), so the write overlaps the agent's
        run rather than delaying its start. Its inputs must be storable (as a strict
        JSON body's are): a write refused then would come after the agent started.
        """
        # min() before float(): a caller's int may be too large for a float.
        limit = target.timeout if timeout is None else float(min(timeout, target.timeout))
        record: Doc = {
            "id": new_id("exe"),
            "project_id": target.agent["project_id"],
            "agent_id": target.agent["id"],
            "endpoint": target.path,
            "source": source,
            "status": "running",
            "response": None,
            "error": None,
            "error_kind": None,
            "duration_ms": None,
            "approval_id": None,
            "created_at": now_iso(),
            "finished_at": None,
            "inputs": dict(inputs),
            "envelope": None if envelope is None else dict(envelope),
            "timeout": limit,
            **(context or {}),
        }
        if target.requires_approval:
            approval = {
                "id": new_id("apr"),
                "status": "pending",
                "execution_id": record["id"],
                "agent_id": target.agent["id"],
                "endpoint": target.path,
                "inputs": dict(inputs),
                "requested_at": now_iso(),
                "decided_at": None,
                "decision": None,
                "comment": None,
                "decided_by": None,
            }
            record["status"] = "awaiting_approval"
            record["approval_id"] = approval["id"]
            self.store.insert("approval", approval, scope=record["project_id"])
        elif record_when_sent:
            self._unrecorded.add(record["id"])
            self._done[record["id"]] = asyncio.Event()
            return record
        self._record(record)
        self._done[record["id"]] = asyncio.Event()
        return record

    def _record(self, record: Doc) -> None:
        """Write a new execution record and announce it."""
        self._insert(record)
        self._announce(record)

    def _insert(self, record: Doc) -> None:
        self.store.insert("execution", record, scope=record["project_id"])
        self._unrecorded.discard(record["id"])

    async def run(
        self, record: Doc, *, target: Target | None = None, call: PreparedCall | None = None
    ) -> Doc:
        """Run a recorded execution to its end and return the final record.

        ``target`` and ``call`` may be given when they were just resolved and checked for
        this record (the same request, nothing awaited since); otherwise they are
        resolved again, as a run that waited (approval, background) must.
        """
        with self._activity():
            return await self._run(record, target, call)

    async def _run(self, record: Doc, target: Target | None, call: PreparedCall | None) -> Doc:
        try:
            return await self._run_call(record, target, call)
        finally:
            # A run that ended without finishing (cancelled, a store error) writes no more.
            self._unrecorded.discard(record["id"])

    async def _run_call(self, record: Doc, target: Target | None, call: PreparedCall | None) -> Doc:
        started = time.perf_counter()
        note_trace(record)  # the dashboard shows the spans of the trace the run is in
        unrecorded = record["id"] in self._unrecorded
        try:
            if target is None or call is None:
                target = self.target(record["project_id"], record["agent_id"], record["endpoint"])
                call = None
            pool = self._pool(target)
            if call is None:
                call = await pool.prepare(
                    target.endpoint["name"], record["inputs"], record["envelope"]
                )
            secrets = resolve_secrets(
                target.deployment["manifest"].get(AUTH_METHODS_FIELD), self.store
            )
            on_sent = functools.partial(self._record, record) if unrecorded else None
            with step("viksa.run", **{"viksa.endpoint": target.path}):
                result = await pool.call(call, secrets, record["timeout"], on_sent=on_sent)
        except RunnerError as exc:
            # The runner has already replaced the call's secret values with ***.
            details = exc.to_dict()
            record.update(
                status=_STATUS_OF_ERROR.get(exc.kind, "failed"),
                error=exc.message,
                error_kind=exc.kind,
                a2a_status=exc.a2a_status,
                traceback=details.get("traceback"),
                output=details.get("output"),
            )
        except DomainError as exc:
            detail: Any = exc.detail
            message = detail if isinstance(detail, str) else json.dumps(detail)
            record.update(status="failed", error=message, error_kind="not_runnable")
        else:
            record.update(status="completed", response=result.value, output=result.output)
        record["duration_ms"] = round((time.perf_counter() - started) * 1000)
        return self.finish(record)

    def finish(self, record: Doc) -> Doc:
        """Store a final record and wake whoever waits for it."""
        record["finished_at"] = now_iso()
        # A run that ended before its call was on its way has no record yet: one write.
        write = self._insert if record["id"] in self._unrecorded else self._save
        try:
            write(record)
        except UnfitJsonError:
            _make_storable(record)
            write(record)
        self._announce(record)
        done = self._done.pop(record["id"], None)
        if done is not None:
            done.set()
        return record

    def _save(self, record: Doc) -> None:
        self.store.save("execution", record)

    async def execute(
        self,
        record: Doc,
        *,
        target: Target | None = None,
        call: PreparedCall | None = None,
        wait_for_approval: bool = False,
    ) -> Doc:
        """Run now and return the final record.

        An execution awaiting approval is returned as it is (``decide`` runs it), so no
        request is held for a person's decision past its client's timeout; with
        ``wait_for_approval`` (background runs) it is waited for, up to ``approval_wait``.
        ``target`` and ``call`` are passed to :meth:`run` when it runs now.
        """
        if record["status"] != "awaiting_approval":
            return await self.run(record, target=target, call=call)
        if not wait_for_approval:
            return record
        done = self._done.get(record["id"])
        with self._activity():
            if done is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(done.wait(), self.approval_wait)
            latest = self.store.get("execution", record["id"])
        return latest if latest is not None else record

    async def await_decision(self, record: Doc) -> Doc:
        """Wait up to ``approval_wait`` for the decision on ``record``; its final record.

        Without a decision by then the execution ends (:meth:`expire_waiting`): a later
        one would run the endpoint for nobody (a workflow step that no longer waits).
        A decision another process on the data file served does not wake this wait: it
        ends at its time with the record as stored (``running`` while that process runs
        it; that process records its end).
        """
        done = self._done.get(record["id"])
        if record["status"] != "awaiting_approval" or done is None:
            return await self.execute(record, wait_for_approval=True)
        with self._activity():
            try:
                await asyncio.wait_for(done.wait(), self.approval_wait)
            except asyncio.TimeoutError:
                if (
                    self.expire_waiting(record["id"]) is None
                    and record["id"] in self._approved_here
                ):
                    # Approved just now: its run is bounded by the endpoint's own timeout.
                    await done.wait()
            latest = self.store.get("execution", record["id"])
        return latest if latest is not None else record

    @contextlib.contextmanager
    def _activity(self) -> Iterator[None]:
        self._active += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._active -= 1
            if not self._active:
                self._idle.set()

    def start(self, record: Doc) -> None:
        """Execute in the background (invoke, webhooks, schedules)."""
        self.spawn(self._background(record))

    async def _background(self, record: Doc) -> Doc:
        # A trace of its own: the request that started the run may have ended already.
        with background(record["source"], record["endpoint"]):
            return await self.execute(record, wait_for_approval=True)

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` in the background, cancelled when the platform closes."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Nobody awaits a background run: say what broke rather than lose it.
            _log.error("a background run failed", exc_info=task.exception())

    def on_waiting_ended(self, hook: Callable[[Doc], None]) -> None:
        """Call ``hook`` with each execution that waited for an approval, once it ends:
        run or rejected by a decision, or cancelled.

        For the owner of an execution nobody may wait for any more: a workflow whose step
        waited for the decision when the platform restarted.
        """
        self._waiting_ended.append(hook)

    async def decide(
        self, approval: Doc, *, approve: bool, comment: str | None, by: str | None
    ) -> Doc:
        """Record a decision; an approved execution runs now, a rejected one ends.

        ``approval`` is read again in the decision's transaction: of two decisions that
        read it pending (two requests, or two processes on one data file), the second is
        refused (409 ``already_decided``) rather than recorded over the first.
        """
        with self.store.transaction():
            current = self.store.get("approval", approval["id"])
            if current is None:
                raise not_found("Approval", approval["id"])
            approval = current
            if approval["status"] != "pending":
                raise conflict(
                    f"Approval {approval['id']!r} was already {approval['status']}"
                    f"{self._why_ended(approval)}.",
                    code="already_decided",
                )
            approval.update(
                status="approved" if approve else "rejected",
                decision="approve" if approve else "reject",
                comment=comment,
                decided_by=by,
                decided_at=now_iso(),
            )
            self.store.save("approval", approval)
            record = self.store.get("execution", approval["execution_id"])
            if record is None or record["status"] != "awaiting_approval":
                view = None if record is None else execution_view(record)
                return {**approval, "execution": view}
            if approve:
                record["status"] = "running"
                self.store.save("execution", record)
                self._approved_here.add(record["id"])
            else:
                error = f"Rejected by the approver: {comment or ''}"
                record.update(status="rejected", error=error)
                record = self.finish(record)
        if approve:
            self._announce(record)
            try:
                record = await self.run(record)
            finally:
                self._approved_here.discard(approval["execution_id"])
        self._ended_waiting(record)
        return {**approval, "execution": execution_view(record)}

    def _why_ended(self, approval: Doc) -> str:
        """Why a cancelled approval's execution ended (``: <error>``), for a late decision."""
        if approval["status"] != "cancelled":
            return ""
        record = self.store.get("execution", approval.get("execution_id") or "")
        error = None if record is None else record.get("error")
        return f": {error.rstrip('.')}; nothing runs on a decision now" if error else ""

    def _ended_waiting(self, record: Doc) -> None:
        for hook in self._waiting_ended:
            hook(record)

    def cancel_waiting(self, execution_id: str, error: str) -> Doc | None:
        """Cancel an execution awaiting approval (and its pending approval); None otherwise.

        Whoever waits for it (a workflow step) wakes now with the cancelled record.
        """
        return self._end_waiting(execution_id, {"status": "cancelled", "error": error})

    def expire_waiting(self, execution_id: str) -> Doc | None:
        """End an execution whose approval wait ran out; None when it waits no more.

        The execution ends ``timeout`` (``error_kind`` ``approval_timeout``) and its
        approval ``cancelled``, so a late decision is refused (409) rather than run.
        """
        error = (
            f"No decision on its approval came within {self.approval_wait:g} seconds of "
            "the request: run it again to ask again."
        )
        ended = {"status": "timeout", "error": error, "error_kind": "approval_timeout"}
        return self._end_waiting(execution_id, ended)

    def _end_waiting(self, execution_id: str, ended: Doc) -> Doc | None:
        with self.store.transaction():
            record = self.store.get("execution", execution_id)
            if record is None or record["status"] != "awaiting_approval":
                return None
            record.update(ended)
            approval = self.store.get("approval", record.get("approval_id") or "")
            if approval is not None and approval["status"] == "pending":
                approval.update(status="cancelled", decided_at=now_iso())
                self.store.save("approval", approval)
            record = self.finish(record)
            self._ended_waiting(record)
            return record

    def recover(self) -> int:
        """Fail the executions a previous process left ``running``; how many.

        Their runs died with that process and would otherwise show ``running`` forever.
        Executions awaiting approval are kept: a decision still runs them.
        """
        stale, _ = self.store.query("execution", where={"status": "running"})
        for record in stale:
            record.update(
                status="failed",
                error="The platform stopped while this execution ran; run it again.",
                error_kind="interrupted",
            )
            self.finish(record)
        return len(stale)

    def approvals(
        self, project_id: str, status: str | None, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of a project's approvals, most recent first, optionally by ``status``."""
        return self.store.query(
            "approval",
            scope=project_id,
            where=None if status is None else {"status": status},
            skip=skip,
            limit=limit,
            newest_first=True,
        )

    def approval(self, caller: Caller, approval_id: str) -> Doc:
        """One approval of the caller's project."""
        return owned_record(self.store, "approval", "Approval", approval_id, caller)

    async def run_endpoint(
        self,
        project_id: str,
        agent_id: str,
        endpoint: str,
        inputs: Mapping[str, Any],
        *,
        source: str,
    ) -> Doc:
        """Check and run a deployed endpoint now: the final record, or one awaiting approval."""
        target = self.target(project_id, agent_id, endpoint)
        call = await self.check_inputs(target, inputs, None)
        record = self.new_execution(
            target, inputs=inputs, envelope=None, timeout=None, source=source
        )
        return await self.execute(record, target=target, call=call)

    def _announce(self, record: Doc) -> None:
        self.events.publish(
            {
                "type": "execution",
                "execution_id": record["id"],
                # Records of older data files may lack a field: a notice never fails a run.
                "project_id": record.get("project_id"),
                "agent_id": record.get("agent_id"),
                "endpoint": record.get("endpoint"),
                "status": record.get("status"),
            }
        )

    def list_executions(
        self, project_id: str, which: ExecutionFilter, *, skip: int, limit: int
    ) -> tuple[list[Doc], int]:
        """One page of a project's execution records matching ``which``, newest first."""
        where = {k: v for k, v in (("agent_id", which.agent_id), ("status", which.status)) if v}
        if which.since is None and which.until is None:
            return self.store.query(
                "execution",
                scope=project_id,
                where=where,
                skip=skip,
                limit=limit,
                newest_first=True,
            )
        # Records are stored in creation order: the time window is a filter of that order.
        records, _ = self.store.query("execution", scope=project_id, where=where, newest_first=True)
        kept = [r for r in records if _within(r["created_at"], which.since, which.until)]
        return kept[skip : skip + limit], len(kept)

    def execution(self, caller: Caller, execution_id: str) -> Doc:
        """An execution of the caller's project: 404 when absent, 403 when another account's."""
        return owned_record(self.store, "execution", "Execution", execution_id, caller)

    def get_execution(self, project_id: str, execution_id: str) -> Doc:
        """An execution record of the project (inputs and envelope included)."""
        record = self.store.get("execution", execution_id)
        if record is None or record["project_id"] != project_id:
            raise not_found("Execution", execution_id)
        return record

    def is_final(self, record: Doc) -> bool:
        """Whether an execution has ended."""
        return record["status"] in _TERMINAL

    async def forget(self, agent_id: str) -> None:
        """Retire the warm workers of an agent (after a deploy, reconcile or delete)."""
        await self.pools.forget(agent_id)

    async def aclose(self) -> None:
        """Cancel background runs and stop every worker (busy ones included).

        Runs still going in requests then end (their worker is gone) and approval waits
        return; both are given a moment to record that before this returns.
        """
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        # Bounded: a run whose cancellation waits on its worker must not hold the close
        # for good; the workers are stopped next, which ends such a run too.
        pending: set[asyncio.Task[Any]] = set()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=_CLOSE_WAIT_SECONDS)
        await self.pools.aclose()
        if pending:
            _, pending = await asyncio.wait(pending, timeout=_CLOSE_WAIT_SECONDS)
            if pending:
                _log.warning("%d background runs did not end at the close", len(pending))
        for done in self._done.values():
            done.set()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._idle.wait(), _CLOSE_WAIT_SECONDS)


def _within(stamp: str, since: float | None, until: float | None) -> bool:
    moment = seconds_of(stamp)
    return (since is None or moment >= since) and (until is None or moment <= until)


def _make_storable(record: Doc) -> None:
    """Fit a final execution record the store refused (its result, made by agent code).

    Non-finite numbers become ``null``, as every answer writes them; a result still
    unfit (nested deeper than the store keeps) fails the run with an endpoint error.
    """
    try:
        response = json.loads(dumps_json(record.get("response")))
    except (ValueError, RecursionError):
        response = record.get("response")
    left = unfit_json(response, max_depth=MAX_STORED_DEPTH)
    if left is None:
        record["response"] = response
        return
    where = "".join(f"[{part!r}]" for part in left.loc) or "itself"
    record.update(
        status="failed",
        response=None,
        error=f"The endpoint's result cannot be stored: the result{where} {left.message}.",
        error_kind="endpoint_error",
    )
