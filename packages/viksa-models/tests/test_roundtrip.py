"""JSON in, model, JSON out: realistic full payloads of every model come back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.models import a2a, agent, auth, executor
from viksa_ai.models._base import WireModel

PAYLOADS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "fixtures" / "wire_payloads.json").read_text(encoding="utf-8")
)

TOP_LEVEL_MODELS: dict[str, type[WireModel]] = {
    name: getattr(module, name)
    for module in (agent, auth, a2a, executor)
    for name in module.__all__
    if name in PAYLOADS
}

MANIFEST = PAYLOADS["AgentGenerationResponse"]

# The manifest's parts, each taken from the realistic manifest above.
PART_PAYLOADS: list[tuple[type[WireModel], Any]] = [
    *((agent.AgentFile, item) for item in MANIFEST["files"]),
    *((agent.AgentInput, item) for item in MANIFEST["inputs"]),
    *((agent.AgentOutput, item) for item in MANIFEST["outputs"]),
    *((agent.AgentEndpoint, item) for item in MANIFEST["agent_endpoints"]),
    *(
        (agent.EndpointInputRef, ref)
        for endpoint in MANIFEST["agent_endpoints"]
        for ref in endpoint["inputs"]
    ),
    *(
        (agent.ExecutionConfig, endpoint["execution_config"])
        for endpoint in MANIFEST["agent_endpoints"]
        if endpoint["execution_config"] is not None
    ),
    (agent.ChronaQueue, MANIFEST["chrona_queue"]),
    (executor.ExecutionEnvelope, PAYLOADS["EndpointExecutionRequest"]["envelope"]),
]


def test_every_wire_model_has_a_payload() -> None:
    assert set(TOP_LEVEL_MODELS) == set(PAYLOADS)


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_json_round_trip(name: str) -> None:
    payload = PAYLOADS[name]
    model = TOP_LEVEL_MODELS[name].model_validate_json(json.dumps(payload))

    assert model.to_wire() == payload
    if name != "AgentUpdateRequest":  # an update sends only what was set: to_wire above
        assert json.loads(model.model_dump_json()) == payload


@pytest.mark.parametrize(
    ("model_type", "payload"),
    PART_PAYLOADS,
    ids=[f"{kind.__name__}-{index}" for index, (kind, _) in enumerate(PART_PAYLOADS)],
)
def test_manifest_parts_round_trip(model_type: type[WireModel], payload: Any) -> None:
    model = model_type.model_validate_json(json.dumps(payload))

    assert json.loads(model.model_dump_json()) == payload


def test_python_and_json_modes_agree() -> None:
    for name, payload in PAYLOADS.items():
        from_python = TOP_LEVEL_MODELS[name].model_validate(payload)
        from_json = TOP_LEVEL_MODELS[name].model_validate_json(json.dumps(payload))
        assert from_python == from_json, name
