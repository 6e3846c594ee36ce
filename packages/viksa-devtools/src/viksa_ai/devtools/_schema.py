"""The JSON Schema of ``agent.json``, generated from viksa-models so it cannot drift."""

from __future__ import annotations

from typing import Any

from viksa_ai.devtools._scaffold import SCHEMA_URL

__all__ = ["agent_json_schema"]

_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def agent_json_schema() -> dict[str, Any]:
    """The schema of an ``agent.json``: the manifest model plus the file-only keys.

    The file-only keys are ``$schema`` (for editors; ignored by ``viksa validate``),
    ``agent_alias`` (used by ``viksa deploy``) and ``auth_methods`` (the auth params the
    code reads, bound to vault secrets at deploy time).
    """
    from viksa_ai.models.agent import AgentGenerationResponse

    model = AgentGenerationResponse.model_json_schema()
    properties: dict[str, Any] = {
        "$schema": {"type": "string", "description": "The JSON Schema of this file."},
        "agent_alias": {
            "type": "string",
            "pattern": "^[A-Za-z][A-Za-z0-9_-]{0,127}$",
            "description": "The agent's unique name in a project: `viksa deploy` creates "
            "or updates the agent with this alias; endpoint paths are alias.module.function.",
        },
        **model["properties"],
        "auth_methods": {
            "type": "object",
            "description": "Auth methods the code reads with ViksaAuth: each method id maps "
            "to the names of its params; values are bound to vault secrets at deploy time.",
            "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
            "additionalProperties": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
            },
        },
    }
    return {
        "$schema": _DIALECT,
        "$id": SCHEMA_URL,
        "title": "Viksa AI agent manifest (agent.json)",
        "description": model.get("description", ""),
        "type": "object",
        "required": model.get("required", []),
        "properties": properties,
        "$defs": model.get("$defs", {}),
    }
