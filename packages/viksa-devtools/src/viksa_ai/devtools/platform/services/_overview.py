"""What the dashboard shows of a project: read-only views over the services' records.

Each view is what a person needs on one page: an agent with its deployment, the
approvals still waiting, triggers with the executions they started, schedules, the
names of secrets (never their values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from viksa_ai.devtools.platform.services._errors import not_found
from viksa_ai.devtools.platform.services._triggers import public_trigger
from viksa_ai.devtools.platform.store._store import Doc, Store

__all__ = ["AgentView", "EndpointInput", "Overview"]

_LISTED = 200  # a page of the dashboard shows at most this many records of a kind


@dataclass(frozen=True)
class EndpointInput:
    """One declared input of an endpoint, as its run form asks for it."""

    name: str
    type: str
    required: bool
    description: str | None = None
    default: Any = None
    allowed_values: list[Any] | None = None
    min_value: float | None = None
    max_value: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class AgentView:
    """An agent, its deployment (None when not deployed) and its endpoints' inputs."""

    agent: Doc
    deployment: Doc | None

    @property
    def endpoints(self) -> list[Doc]:
        """The endpoints as deployed (as declared when the agent is not deployed)."""
        source = self.deployment["manifest"] if self.deployment else self.agent
        current = {e["name"]: e for e in self.agent.get("agent_endpoints", [])}
        return [
            {**e, "status": current.get(e["name"], e).get("status", "enabled")}
            for e in source.get("agent_endpoints", [])
        ]

    def endpoint(self, name: str) -> Doc:
        """One endpoint by name; 404 when the agent has none of that name."""
        found = next((e for e in self.endpoints if name in (e["name"], e["endpoint"])), None)
        if found is None:
            raise not_found("Endpoint", name)
        return found

    def inputs_of(self, endpoint: Doc) -> list[EndpointInput]:
        """The declared inputs an endpoint takes, in its order."""
        source = self.deployment["manifest"] if self.deployment else self.agent
        declared = {i["name"]: i for i in source.get("inputs", [])}
        found = []
        for ref in endpoint.get("inputs", []):
            spec = declared.get(ref["input_ref"], {"name": ref["input_ref"], "type": "string"})
            known = {k: spec.get(k) for k in EndpointInput.__dataclass_fields__ if k in spec}
            known.update(name=ref["input_ref"], required=ref.get("required", True))
            known["type"] = str(spec.get("type", "string")).lower()
            found.append(EndpointInput(**known))
        return found

    def outputs_of(self, endpoint: Doc) -> list[Doc]:
        """The declared outputs an endpoint names."""
        source = self.deployment["manifest"] if self.deployment else self.agent
        declared = {o["name"]: o for o in source.get("outputs", [])}
        return [declared.get(name, {"name": name}) for name in endpoint.get("outputs", [])]


class Overview:
    """Read-only views of one project's records."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def agents(self, project_id: str) -> list[AgentView]:
        """Every agent of the project with its deployment, oldest first."""
        agents, _ = self.store.query("agent", scope=project_id, limit=_LISTED)
        return [AgentView(agent, self.store.get("deployment", agent["id"])) for agent in agents]

    def agent(self, project_id: str, agent_id: str) -> AgentView:
        """One agent of the project; 404 when the project has none of that id."""
        agent = self.store.get("agent", agent_id)
        if agent is None or agent["project_id"] != project_id:
            raise not_found("Agent", agent_id)
        return AgentView(agent, self.store.get("deployment", agent_id))

    def pending_approvals(self, project_id: str) -> tuple[list[Doc], int]:
        """The oldest approvals still waiting for a decision, and how many wait in all."""
        return self.store.query(
            "approval", scope=project_id, where={"status": "pending"}, limit=_LISTED
        )

    def triggers(self, project_id: str) -> list[Doc]:
        """The project's triggers, without their token digests."""
        found, _ = self.store.query("trigger", scope=project_id, limit=_LISTED)
        return [public_trigger(t) for t in found]

    def deliveries(self, project_id: str, limit: int = 50) -> list[Doc]:
        """The latest executions started by a trigger (webhook calls and tests)."""
        # Picked by SQLite: a project's other executions (any number) are never loaded.
        found, _ = self.store.query(
            "execution", scope=project_id, present=("trigger_id",), newest_first=True, limit=limit
        )
        return found

    def schedules(self, project_id: str) -> list[Doc]:
        """The project's schedules."""
        found, _ = self.store.query("schedule", scope=project_id, limit=_LISTED)
        return found

    def secret_names(self, project_id: str) -> list[Doc]:
        """The project's secrets by name: id, name, description and dates, never a value."""
        found, _ = self.store.query("secret", scope=project_id, limit=_LISTED)
        shown = ("id", "name", "description", "created_at", "updated_at")
        return [{k: s.get(k) for k in shown} for s in found]
