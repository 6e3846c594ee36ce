"""Schedules that run a workflow or an endpoint, and the clock that runs them.

A schedule names a ``workflow_id``, or an ``agent_id`` + ``endpoint`` (+ ``inputs``),
and when to run: ``interval_seconds`` (run by :meth:`Scheduler.tick` while the platform
is served) or a ``cron`` expression (its shape checked, then stored for the hosted
platform; the local one runs such schedules only through ``run_now``). States:
``active`` <-> ``paused``. A tick runs where no request exists: a due schedule that
cannot run records why in ``last_error`` and tries again one interval later.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from viksa_ai.devtools.platform.services._clock import iso_at, now_iso, seconds_of
from viksa_ai.devtools.platform.services._engine import Engine, execution_view
from viksa_ai.devtools.platform.services._errors import (
    DomainError,
    conflict,
    detail_item,
    not_found,
    unprocessable,
)
from viksa_ai.devtools.platform.services._records import Caller, owned_endpoint, owned_record
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._validation import typed_field
from viksa_ai.devtools.platform.services._workflows import Workflows
from viksa_ai.devtools.platform.store._store import Doc, Store

__all__ = ["MAX_INTERVAL_SECONDS", "Scheduler", "cron_shaped"]

# One year: a longer interval never comes round while `viksa dev` runs, and a huge one
# (1e300) would overflow the clock when the next run is computed.
MAX_INTERVAL_SECONDS = 366 * 24 * 3600
_FIXED = frozenset({"id", "status", "created_at", "updated_at", "run_count", "last_run_at"})
_RETRY_SECONDS = 60
# The shape of a cron expression, not one dialect's rules (the hosted platform runs it):
# 5 to 7 fields of numbers, names, ``* , - /`` and Quartz's ``? L W #``, or a macro.
_CRON = re.compile(r"(?:[0-9A-Za-z*?,/#-]+[ \t]+){4,6}[0-9A-Za-z*?,/#-]+|@[a-z]+")
_CRON_MAX_CHARS = 256


def cron_shaped(value: object) -> bool:
    """Whether ``value`` has the shape of a cron expression (the hosted platform runs it).

    The shape only, not one dialect's rules: refused are what no scheduler takes (not a
    string, empty, the wrong number of fields, markup), not expressions a dialect may.
    """
    return (
        isinstance(value, str)
        and len(value) <= _CRON_MAX_CHARS
        and _CRON.fullmatch(value.strip()) is not None
    )


class Scheduler:
    """The ``schedule`` records and the runs they start."""

    def __init__(self, store: Store, engine: Engine, workflows: Workflows) -> None:
        self.store = store
        self.engine = engine
        self.workflows = workflows

    def _owned(self, caller: Caller, schedule_id: str) -> Doc:
        return owned_record(self.store, "schedule", "Schedule", schedule_id, caller)

    def _check(self, caller: Caller, schedule: Doc) -> None:
        typed_field(schedule, "name", str, required=True)
        if isinstance(schedule.get("workflow_id"), str):
            owned_record(self.store, "workflow", "Workflow", schedule["workflow_id"], caller)
        elif isinstance(schedule.get("agent_id"), str) and isinstance(
            schedule.get("endpoint"), str
        ):
            # What a run needs, checked before it is stored: a schedule that can never
            # run would fail on every tick.
            agent_id, endpoint = schedule["agent_id"], schedule["endpoint"]
            owned_endpoint(self.store, caller, agent_id, endpoint, ["body", "endpoint"])
            typed_field(schedule, "inputs", dict)
        else:
            raise unprocessable(
                [
                    detail_item(
                        ["body"], "name a workflow_id, or an agent_id and an endpoint", "missing"
                    )
                ]
            )
        cron = schedule.get("cron")
        if cron is not None and not cron_shaped(cron):
            message = (
                "a cron expression: 5 to 7 fields such as '*/15 9-17 * * MON-FRI', or a "
                "macro such as '@daily'"
            )
            raise unprocessable([detail_item(["body", "cron"], message, "value_error")])
        interval = schedule.get("interval_seconds")
        # A bool is an int to Python: ``true`` would silently mean every second.
        number = isinstance(interval, (int, float)) and not isinstance(interval, bool)
        if interval is not None and (not number or not 1 <= interval <= MAX_INTERVAL_SECONDS):
            message = f"a number of seconds from 1 to {MAX_INTERVAL_SECONDS} (366 days)"
            raise unprocessable([detail_item(["body", "interval_seconds"], message, "value_error")])
        schedule["next_run_at"] = (
            iso_at(time.time() + interval)
            if interval and schedule.get("status") == "active"
            else None
        )

    def create(self, caller: Caller, body: dict[str, Any]) -> Doc:
        """A new ``active`` schedule."""
        now = now_iso()
        schedule = {
            "name": "schedule",
            **{k: v for k, v in body.items() if k not in _FIXED},
            "id": new_id("sch"),
            "status": "active",
            "created_at": now,
            "updated_at": now,
            "run_count": 0,
            "last_run_at": None,
        }
        self._check(caller, schedule)
        return self.store.insert("schedule", schedule, scope=caller.project_id)

    def page(self, project_id: str, *, skip: int, limit: int) -> tuple[list[Doc], int]:
        """One page of a project's schedules."""
        return self.store.query("schedule", scope=project_id, skip=skip, limit=limit)

    def get(self, caller: Caller, schedule_id: str) -> Doc:
        """One schedule of the caller's project."""
        return self._owned(caller, schedule_id)

    def update(self, caller: Caller, schedule_id: str, body: dict[str, Any]) -> Doc:
        """Change a schedule's target or timing (not its state: see :meth:`move`)."""
        schedule = self._owned(caller, schedule_id)
        schedule.update({k: v for k, v in body.items() if k not in _FIXED})
        self._check(caller, schedule)
        schedule["updated_at"] = now_iso()
        return self.store.save("schedule", schedule)

    def delete(self, caller: Caller, schedule_id: str) -> None:
        """Delete a schedule."""
        self._owned(caller, schedule_id)
        self.store.delete("schedule", schedule_id)

    def move(self, caller: Caller, schedule_id: str, frm: str, to: str) -> Doc:
        """``frm`` -> ``to`` (``active`` <-> ``paused``); 409 from any other state."""
        schedule = self._owned(caller, schedule_id)
        if schedule["status"] != frm:
            raise conflict(
                f"Schedule {schedule_id!r} is {schedule['status']}, not {frm}.",
                code="invalid_transition",
            )
        schedule["status"] = to
        interval = schedule.get("interval_seconds")
        schedule["next_run_at"] = (
            iso_at(time.time() + interval) if interval and to == "active" else None
        )
        schedule["updated_at"] = now_iso()
        return self.store.save("schedule", schedule)

    async def run_now(self, caller: Caller, schedule_id: str) -> dict[str, Any]:
        """Run a schedule's target once, now (paused or not)."""
        schedule = self._owned(caller, schedule_id)
        run = await self.run(schedule)
        return {"schedule_id": schedule_id, "run": run, "run_count": schedule["run_count"]}

    async def run(self, schedule: Doc, *, claimed: bool = False) -> Doc:
        """Run a schedule's target once in the background; the execution started.

        ``schedule`` is brought up to date with the stored record, run counted. A run
        ``claimed`` by a tick (see :meth:`_claim`) keeps the next run the claim set;
        another (``run_now``) starts the interval again from now.
        """
        project = self.store.scope_of("schedule", schedule["id"])
        assert project is not None
        if isinstance(schedule.get("workflow_id"), str):
            workflow = self.store.get("workflow", schedule["workflow_id"])
            if workflow is None:
                raise not_found("Workflow", schedule["workflow_id"])
            self._count_run(schedule, claimed)
            created = self.workflows.create(workflow, project, schedule_id=schedule["id"])
            return self.workflows.begin(created["id"], ("created",))
        target = self.engine.target(project, schedule["agent_id"], schedule["endpoint"])
        inputs = schedule.get("inputs") or {}
        await self.engine.check_inputs(target, inputs, None)
        record = self.engine.new_execution(
            target,
            inputs=inputs,
            envelope=None,
            timeout=None,
            source="schedule",
            context={"schedule_id": schedule["id"]},
        )
        # Counted before it starts: a restart in between skips this run, never repeats it.
        self._count_run(schedule, claimed)
        self.engine.start(record)
        return execution_view(record)

    def _count_run(self, schedule: Doc, claimed: bool) -> None:
        """Count a run in the stored schedule (and ``schedule``); unless ``claimed``, set
        its next one."""

        def count(current: Doc) -> None:
            current["run_count"] = current.get("run_count", 0) + 1
            current["last_run_at"] = now_iso()
            interval = current.get("interval_seconds")
            if interval and current["status"] == "active" and not claimed:
                current["next_run_at"] = iso_at(time.time() + interval)

        schedule.update(self._update(schedule, count))

    def _update(self, schedule: Doc, change: Callable[[Doc], None]) -> Doc:
        """Apply ``change`` to the schedule as stored now; ``schedule`` when it is gone.

        Not to the copy read before an await: saving that undid a pause, an edit or a
        deletion served meanwhile.
        """
        with self.store.transaction():
            current = self.store.get("schedule", schedule["id"])
            if current is None:
                return schedule
            change(current)
            return self.store.save("schedule", current)

    async def tick(self, now: float | None = None) -> int:
        """Run every active schedule due at ``now`` (seconds since the epoch); how many ran."""
        moment = time.time() if now is None else now
        ran = 0
        for listed in self.store.query("schedule", where={"status": "active"})[0]:
            if not _due(listed, moment):
                continue
            schedule = self._claim(listed, moment)
            if schedule is None:
                continue
            try:
                await self.run(schedule, claimed=True)
            except DomainError as exc:
                self._update(schedule, _failed(exc, moment))
            ran += 1
        return ran

    def _claim(self, listed: Doc, moment: float) -> Doc | None:
        """The schedule ``listed`` as stored, its due run now this tick's; None if not ours.

        Read again, only when due: a run of this tick awaited, and a schedule listed
        before it may have been paused, edited or deleted since. The check and the move
        of ``next_run_at`` past ``moment`` are one transaction (SQLite's write lock, so
        across processes on one data file too): of two ticks that find one due time,
        overlapping or in two ``viksa dev`` on one ``--data`` file, one claims it and
        the other finds it claimed. A crash after the claim skips that run, never
        repeats it.
        """
        with self.store.transaction():
            current = self.store.get("schedule", listed["id"])
            if (
                current is None
                or current["status"] != "active"
                or current.get("next_run_at") != listed["next_run_at"]
                or not _due(current, moment)
            ):
                return None
            interval = current.get("interval_seconds") or _RETRY_SECONDS
            current["next_run_at"] = iso_at(max(moment, time.time()) + interval)
            return self.store.save("schedule", current)


def _due(schedule: Doc, moment: float) -> bool:
    due = schedule.get("next_run_at")
    return due is not None and seconds_of(due) <= moment


def _failed(exc: DomainError, moment: float) -> Callable[[Doc], None]:
    """Record why a due run could not start; try again one interval later."""

    def change(schedule: Doc) -> None:
        schedule["last_error"] = exc.detail
        interval = schedule.get("interval_seconds") or _RETRY_SECONDS
        if schedule["status"] == "active":
            schedule["next_run_at"] = iso_at(moment + interval)

    return change
