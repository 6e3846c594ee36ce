"""The public names, imported as the README shows (statically typed here)."""

from typing import Any

import pytest

import viksa_ai.runtime
from viksa_ai.runtime import (
    A2A_PAYLOAD_KEY,
    A2AContext,
    EndpointInfo,
    ViksaAuth,
    ViksaAuthError,
    _set_envelope,
    _split_envelope,
    attach_envelope,
    context,
    get_endpoint_info,
    mcp_endpoint,
)
from viksa_ai.runtime.inject import to_module_source

README_NAMES = {
    "A2A_PAYLOAD_KEY",
    "A2AContext",
    "ViksaAuth",
    "ViksaAuthError",
    "attach_envelope",
    "context",
    "mcp_endpoint",
    "to_module_source",
}


def test_all_lists_the_readme_names_and_the_endpoint_helpers() -> None:
    assert set(viksa_ai.runtime.__all__) == README_NAMES | {
        "EndpointInfo",
        "ViksaEndpointWarning",
        "get_endpoint_info",
        # Tracing (issue 15): the envelope key and the current W3C carrier.
        "A2A_TRACE_KEY",
        "trace_context",
    }
    for name in viksa_ai.runtime.__all__:
        assert getattr(viksa_ai.runtime, name) is not None
    assert set(viksa_ai.runtime.__all__) <= set(dir(viksa_ai.runtime))


def test_private_hooks_are_importable_from_the_package() -> None:
    for name in (
        "_split_envelope",
        "_strip_envelope",
        "_set_envelope",
        "_reset_envelope",
        "_use_envelope",
        "_set_trace_context",
        "_reset_trace_context",
        "_set_trace_provider",
    ):
        assert callable(getattr(viksa_ai.runtime, name))
    assert viksa_ai.runtime._A2A_PAYLOAD_KEY == A2A_PAYLOAD_KEY


def test_readme_auth_example(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIKSA_AUTH_ENABLED_METHODS", "bearer_token")
    monkeypatch.setenv("aviationstack_api.api_key", "key")
    monkeypatch.setenv("bearer_token.api_key", "bearer")

    api_key = ViksaAuth.require_param("aviationstack_api", "api_key")
    method = ViksaAuth.preferred_method("oauth_client", "bearer_token")
    if method == "oauth_client":
        chosen = ViksaAuth.require_param("oauth_client", "client_id")
    else:
        chosen = ViksaAuth.require_param("bearer_token", "api_key")

    assert (api_key, method, chosen) == ("key", "bearer_token", "bearer")
    with pytest.raises(ViksaAuthError):
        ViksaAuth.require_param("oauth_client", "client_id")


async def test_readme_endpoint_and_a2a_example() -> None:
    @mcp_endpoint(description="Get flights between source and destination")
    async def get_flights_between(payload: dict[str, Any]) -> dict[str, Any]:
        ctx: A2AContext = context()
        return {"route": (payload.get("source"), payload.get("destination")), **ctx}

    inputs = attach_envelope(
        {"source": "JFK", "destination": "LAX"},
        {"run_id": "run-123", "parent_step_id": "step-9"},
    )
    payload, envelope = _split_envelope(inputs)
    _set_envelope(envelope)  # the test's own task context ends with it

    assert A2A_PAYLOAD_KEY in inputs
    assert await get_flights_between(payload) == {
        "route": ("JFK", "LAX"),
        "run_id": "run-123",
        "parent_step_id": "step-9",
    }
    assert get_endpoint_info(get_flights_between) == EndpointInfo(
        "get_flights_between", "Get flights between source and destination"
    )
    assert to_module_source().startswith('"""Viksa AI agent runtime')
