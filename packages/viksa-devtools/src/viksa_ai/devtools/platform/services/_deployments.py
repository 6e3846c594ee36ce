"""Building and deploying agents: the state machine between an agent and what runs.

Build checks an agent's current revision (the validator, in a worker, and its vault
bindings); deploy snapshots the revision last built as the agent's ``deployment``
(what the engine runs); reconcile re-reads a deployed agent's auth bindings and
execution configs without a build. Each retires the agent's warm workers.
"""

from __future__ import annotations

from viksa_ai.devtools.platform.services._agents import manifest_of
from viksa_ai.devtools.platform.services._clock import now_iso
from viksa_ai.devtools.platform.services._engine import Engine
from viksa_ai.devtools.platform.services._errors import conflict, not_found, unprocessable
from viksa_ai.devtools.platform.services._records import Caller, owned_record
from viksa_ai.devtools.platform.services._security import new_id
from viksa_ai.devtools.platform.services._validation import manifest_issues
from viksa_ai.devtools.platform.services._vault import AUTH_METHODS_FIELD, auth_binding_issues
from viksa_ai.devtools.platform.store._store import Doc, Store

__all__ = ["Deployments"]


def _summary(deployment: Doc, status: str) -> Doc:
    return {
        "status": status,
        "deployment_id": deployment["deployment_id"],
        "agent_id": deployment["agent_id"],
        "revision": deployment["revision"],
        "deployed_at": deployment["deployed_at"],
        "endpoints": [e["endpoint"] for e in deployment["manifest"]["agent_endpoints"]],
    }


class Deployments:
    """The ``deployment`` records and the build state of agents."""

    def __init__(self, store: Store, engine: Engine, *, validation_time_limit: float) -> None:
        self.store = store
        self.engine = engine
        self.validation_time_limit = validation_time_limit

    def _agent(self, caller: Caller, agent_id: str) -> Doc:
        return owned_record(self.store, "agent", "Agent", agent_id, caller)

    async def build(self, caller: Caller, agent_id: str) -> Doc:
        """Build an agent's current revision; an invalid agent fails with 422 and its issues."""
        agent = self._agent(caller, agent_id)
        issues = await manifest_issues(
            manifest_of(agent), time_limit=self.validation_time_limit
        ) + auth_binding_issues(agent.get(AUTH_METHODS_FIELD), self.store, caller.project_id)
        record = {
            "build_id": new_id("bld"),
            "agent_id": agent["id"],
            "revision": agent["revision"],
            "status": "failed" if issues else "built",
            "started_at": now_iso(),
            "finished_at": now_iso(),
            "issues": issues,
        }
        with self.store.transaction():
            # The agent as stored now: saving the copy read before the validator ran
            # undid an edit (a new revision) or a deploy served meanwhile.
            current = self.store.get("agent", agent["id"])
            if current is None:
                raise not_found("Agent", agent["id"])
            current["last_build"] = record
            current["built_revision"] = None if issues else record["revision"]
            current["build_status"] = (
                record["status"]
                if current["revision"] == record["revision"]
                # An older revision was built: the current one still needs its build.
                else "failed"
                if issues
                else "outdated"
            )
            self.store.save("agent", current)
        if issues:
            raise unprocessable(issues)
        return {**record, "build_status": current["build_status"]}

    async def deploy(self, caller: Caller, agent_id: str) -> Doc:
        """Deploy the revision last built; 409 unless the current revision is built."""
        agent = self._agent(caller, agent_id)
        if agent["build_status"] != "built" or agent["built_revision"] != agent["revision"]:
            raise conflict(
                f"Agent {agent['id']!r} is {agent['build_status'].replace('_', ' ')} at "
                f"revision {agent['revision']}: build it (deploy.build) before deploying.",
                code="not_built",
            )
        deployment = {
            "id": agent["id"],
            "deployment_id": new_id("dep"),
            "agent_id": agent["id"],
            "agent_alias": agent["agent_alias"],
            "revision": agent["revision"],
            "deployed_at": now_iso(),
            "reconciled_at": None,
            "manifest": manifest_of(agent),
        }
        with self.store.transaction():
            self.store.delete("deployment", agent["id"])
            self.store.insert("deployment", deployment, scope=caller.project_id)
            agent["deploy_status"] = "deployed"
            agent["deployed_revision"] = agent["revision"]
            agent["deployed_at"] = deployment["deployed_at"]
            self.store.save("agent", agent)
        await self.engine.forget(agent["id"])
        return _summary(deployment, "deployed")

    async def reconcile(self, caller: Caller, agent_id: str) -> Doc:
        """Re-read a deployed agent's auth bindings and execution configs without a build."""
        agent = self._agent(caller, agent_id)
        deployment = self.store.get("deployment", agent["id"])
        if deployment is None:
            raise conflict(
                f"Agent {agent['id']!r} is not deployed: deploy it before reconciling.",
                code="not_deployed",
            )
        manifest = deployment["manifest"]
        changes = []
        if manifest.get(AUTH_METHODS_FIELD) != agent.get(AUTH_METHODS_FIELD):
            manifest[AUTH_METHODS_FIELD] = agent.get(AUTH_METHODS_FIELD)
            changes.append(AUTH_METHODS_FIELD)
        configs = {e["name"]: e.get("execution_config") for e in agent["agent_endpoints"]}
        for endpoint in manifest["agent_endpoints"]:
            if (
                endpoint["name"] in configs
                and endpoint.get("execution_config") != configs[endpoint["name"]]
            ):
                endpoint["execution_config"] = configs[endpoint["name"]]
                changes.append(f"agent_endpoints.{endpoint['name']}.execution_config")
        deployment["reconciled_at"] = now_iso()
        self.store.save("deployment", deployment)
        await self.engine.forget(agent["id"])
        return {**_summary(deployment, "reconciled"), "changes": changes}
