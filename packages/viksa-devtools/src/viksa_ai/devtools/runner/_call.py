"""Preparing one call the way a platform worker does, before any agent code runs.

The A2A envelope is taken out of the inputs (or given apart), the remaining inputs
are checked against the manifest, and everything that crosses to the child must be
JSON. Any problem is an :class:`InvalidInputError` and no child is involved.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from viksa_ai.devtools._inputs import check_inputs
from viksa_ai.devtools._issues import Issue
from viksa_ai.devtools.runner._agent import LoadedAgent
from viksa_ai.devtools.runner._errors import InvalidInputError
from viksa_ai.models.agent import AgentEndpoint
from viksa_ai.runtime import A2A_PAYLOAD_KEY, _strip_envelope


@dataclass(frozen=True)
class PreparedCall:
    """A checked call: the endpoint, its inputs without the envelope, and the envelope."""

    endpoint: AgentEndpoint
    inputs: dict[str, Any]
    envelope: dict[str, Any] | None


def prepare_call(
    agent: LoadedAgent,
    endpoint: AgentEndpoint,
    inputs: Mapping[str, Any] | None,
    envelope: Mapping[str, Any] | None,
) -> PreparedCall:
    """Strip the envelope from ``inputs``, check them, and return the call to send.

    An explicit ``envelope`` wins over one found under ``__viksa_a2a__`` in the inputs
    (which is removed either way).
    """
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, Mapping):
        raise _invalid(endpoint, "the inputs must be a JSON object")
    try:
        values, found = _strip_envelope(inputs)
    except TypeError:
        found = None
        if envelope is None:
            raise _not_object_envelope(endpoint) from None
        values = {k: v for k, v in inputs.items() if k != A2A_PAYLOAD_KEY}
    chosen: Mapping[str, Any] | None = envelope if envelope is not None else found
    if chosen is not None and not isinstance(chosen, Mapping):
        raise _not_object_envelope(endpoint)
    issues = [i for i in check_inputs(values, endpoint, agent.manifest.inputs) if i.is_error]
    if issues:
        raise InvalidInputError(issues, endpoint=endpoint.name)
    values = _with_defaults(values, endpoint, agent)
    envelope_dict = dict(chosen) if chosen else None
    for what, value in (("inputs", values), ("A2A envelope", envelope_dict)):
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise _invalid(endpoint, f"the {what} must be JSON-serialisable: {exc}") from None
    return PreparedCall(endpoint=endpoint, inputs=values, envelope=envelope_dict)


def _with_defaults(
    values: dict[str, Any], endpoint: AgentEndpoint, agent: LoadedAgent
) -> dict[str, Any]:
    """``values`` plus the declared default of each referenced input that is missing.

    The input checker accepts a missing required input that has a default because the
    platform fills it in; so does the runner.
    """
    for ref in endpoint.inputs:
        spec = agent.inputs.get(ref.input_ref)
        if spec is not None and spec.default is not None and values.get(spec.name) is None:
            values[spec.name] = spec.default
    return values


def _invalid(endpoint: AgentEndpoint, message: str, name: str | None = None) -> InvalidInputError:
    # VX003 is the checker's code for a value of the wrong JSON shape.
    issue = Issue("VX003", message, path=name or "", input=name)
    return InvalidInputError([issue], endpoint=endpoint.name)


def _not_object_envelope(endpoint: AgentEndpoint) -> InvalidInputError:
    return _invalid(
        endpoint, f"the A2A envelope ({A2A_PAYLOAD_KEY}) must be a JSON object", A2A_PAYLOAD_KEY
    )
