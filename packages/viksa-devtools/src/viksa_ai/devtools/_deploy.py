"""Deploying an agent folder to a platform: create or update by alias, bind, build, deploy.

Used by ``viksa deploy``, ``viksa dev --watch`` and the ``viksa_deploy`` pytest fixture;
it talks to the platform through ``viksa_ai.client`` only, so it works the same against
the local platform and the hosted one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

__all__ = ["DeployError", "DeployResult", "deploy_agent", "read_agent"]

_FILE_ONLY_KEYS = frozenset({"$schema"})


class DeployError(Exception):
    """An agent that cannot be deployed: invalid, unreadable, or refused by the platform.

    ``lines`` holds the validator's report when the agent is invalid.
    """

    def __init__(self, message: str, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.lines = list(lines or [])


@dataclass(frozen=True)
class DeployResult:
    """What one deploy did."""

    alias: str
    agent_id: str
    action: str
    """``created``, ``updated``, ``deployed`` (built and deployed as it was),
    ``secrets updated`` (only vault values changed) or ``unchanged``."""
    revision: int
    endpoints: tuple[str, ...]
    required_inputs: tuple[tuple[str, ...], ...] = ()
    """The required inputs of each endpoint, in the order of ``endpoints``."""
    changed: tuple[str, ...] = ()
    """The manifest fields an update changed."""
    secrets: tuple[str, ...] = ()
    """The ``METHOD.PARAM`` names bound to vault secrets by this deploy."""
    warnings: tuple[str, ...] = ()
    """The validator's warnings about the folder, as ``viksa validate`` prints them."""


def read_agent(path: Path) -> tuple[str, dict[str, Any]]:
    """Validate the agent at ``path``; return its alias and the body to send.

    Raises :class:`DeployError` with the validator's lines when it is not valid.
    """
    alias, body, _ = _read_agent(path)
    return alias, body


def _read_agent(path: Path) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """:func:`read_agent`, and the validator's warning lines."""
    from viksa_ai.devtools._cli_validate import report_lines
    from viksa_ai.devtools._scaffold import alias_for
    from viksa_ai.devtools.validate._agent_source import AgentSourceError, read_manifest_source

    valid, lines = report_lines(str(path))
    if not valid:
        raise DeployError(f"{path} is not a valid agent: nothing was deployed", lines)
    try:
        source = read_manifest_source(path)
    except AgentSourceError as exc:  # changed since it was validated
        raise DeployError(str(exc)) from None
    body = {k: v for k, v in source.manifest.items() if k not in _FILE_ONLY_KEYS}
    alias = body.get("agent_alias")
    if not isinstance(alias, str) or not alias:
        folder = source.manifest_path.parent.resolve().name
        alias = alias_for(folder)
    body["agent_alias"] = alias
    # A valid agent's issues are warnings; the last line is the summary.
    return alias, body, tuple(lines[:-1])


def _declared_params(value: Any) -> dict[str, dict[str, Any]]:
    """``auth_methods`` of agent.json (lists of params, or params already bound)."""
    if not isinstance(value, Mapping):
        return {}
    methods: dict[str, dict[str, Any]] = {}
    for method, params in value.items():
        if isinstance(params, Mapping):
            methods[str(method)] = dict(params)
        elif isinstance(params, list):
            methods[str(method)] = dict.fromkeys(str(p) for p in params)
    return methods


def _normalized(body: Mapping[str, Any]) -> dict[str, Any]:
    """``body`` as the platform stores it (the model's wire form, endpoint paths filled)."""
    from viksa_ai.models.agent import AgentCreationRequest

    wire: dict[str, Any] = AgentCreationRequest.model_validate(dict(body)).to_wire()
    for endpoint in wire.get("agent_endpoints", []):
        endpoint["endpoint"] = f"{wire['agent_alias']}.{endpoint['module']}.{endpoint['name']}"
    return wire


def _find_agent(client: Any, alias: str) -> dict[str, Any] | None:
    for agent in client.builder.agents.iter_all(search=alias, limit=100):
        if isinstance(agent, Mapping) and agent.get("agent_alias") == alias:
            return dict(agent)
    return None


def _store_secret(client: Any, name: str, value: str, description: str) -> tuple[str, bool]:
    """The id of vault secret ``name`` holding ``value``, and whether its value changed."""
    secrets = client.builder.secrets
    for secret in secrets.iter_all(search=name, limit=100):
        if isinstance(secret, Mapping) and secret.get("name") == name:
            secret_id = str(secret["id"])
            if secrets.get_secret(secret_id).get("value") == value:
                return secret_id, False
            secrets.update_secret(secret_id, {"value": value})
            return secret_id, True
    created = secrets.create_secret(name, value, description=description)
    return str(created["id"]), True


def _bind_secrets(
    client: Any,
    alias: str,
    declared: dict[str, dict[str, Any]],
    current: Any,
    secrets: Mapping[str, str],
) -> bool:
    """Bind ``secrets`` (``METHOD.PARAM`` -> value) into ``declared``; any value changed?

    Params bound on the platform before keep their binding unless given again.
    """
    for method, params in _declared_params(current).items():
        for param, binding in params.items():
            if isinstance(binding, Mapping) and param in declared.get(method, {}):
                declared[method][param] = dict(binding)
    changed = False
    for name, value in secrets.items():
        method, _, param = name.partition(".")
        description = f"viksa deploy: {alias} {name}"
        secret_id, changed_now = _store_secret(client, f"{alias}.{name}", value, description)
        declared.setdefault(method, {})[param] = {"secret_id": secret_id}
        changed = changed or changed_now
    return changed


def deploy_agent(client: Any, path: Path, secrets: Mapping[str, str] | None = None) -> DeployResult:
    """Validate, then create or update (by alias), bind secrets, build and deploy.

    ``client`` is a ``ViksaSyncClient``. ``secrets`` maps ``METHOD.PARAM`` to a value,
    stored in the platform's vault as ``ALIAS.METHOD.PARAM`` and bound to the agent.
    Deploying an unchanged folder again changes nothing (``action`` is ``unchanged``).
    The validator's warnings come back in ``warnings``: they do not stop a deploy.
    Raises :class:`DeployError` (the client's errors included) with what went wrong.
    """
    from viksa_ai.client import ViksaError
    from viksa_ai.devtools._cli_common import api_error_message

    alias, body, warnings = _read_agent(path)
    try:
        result = _deploy(client, alias, body, dict(secrets or {}))
    except ViksaError as exc:
        raise DeployError(f"{alias}: {api_error_message(exc)}") from None
    return replace(result, warnings=warnings)


def _deploy(client: Any, alias: str, body: dict[str, Any], secrets: dict[str, str]) -> DeployResult:
    agents = client.builder.agents
    existing = _find_agent(client, alias)
    declared = _declared_params(body.get("auth_methods"))
    values_changed = _bind_secrets(
        client, alias, declared, existing and existing.get("auth_methods"), secrets
    )
    if declared:
        body["auth_methods"] = declared
    desired = _normalized(body)
    bound = tuple(sorted(secrets))
    if existing is None:
        agent = agents.create(desired)
        return _build_and_deploy(client, agent, "created", tuple(desired), bound)
    changed = tuple(k for k, v in desired.items() if existing.get(k) != v)
    if changed:
        agent = agents.update(existing["id"], {k: desired[k] for k in changed})
        return _build_and_deploy(client, agent, "updated", changed, bound)
    if existing.get("deployed_revision") != existing.get("revision"):
        return _build_and_deploy(client, existing, "deployed", (), bound)
    if values_changed:
        client.builder.deploy.reconcile(existing["id"])
        return _result(existing, "secrets updated", (), bound)
    return _result(existing, "unchanged", (), bound)


def _build_and_deploy(
    client: Any,
    agent: Mapping[str, Any],
    action: str,
    changed: tuple[str, ...],
    secrets: tuple[str, ...],
) -> DeployResult:
    client.builder.deploy.build(agent["id"])
    client.builder.deploy.deploy(agent["id"])
    return _result(agent, action, changed, secrets)


def _result(
    agent: Mapping[str, Any], action: str, changed: tuple[str, ...], secrets: tuple[str, ...]
) -> DeployResult:
    endpoints = [e for e in agent.get("agent_endpoints", []) if isinstance(e, Mapping)]
    return DeployResult(
        alias=str(agent["agent_alias"]),
        agent_id=str(agent["id"]),
        action=action,
        revision=int(agent.get("revision", 1)),
        endpoints=tuple(str(e.get("endpoint", "")) for e in endpoints),
        required_inputs=tuple(
            tuple(str(r["input_ref"]) for r in e.get("inputs", []) if r.get("required", True))
            for e in endpoints
        ),
        changed=changed,
        secrets=secrets,
    )
