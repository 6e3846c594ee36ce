"""Preparing one call the way a platform worker does, before any agent code runs.

The A2A envelope is taken out of the inputs (or given apart) and its fields checked as
the platform checks them, the remaining inputs are checked against the manifest,
declared defaults are filled in, and everything that crosses to the child must be JSON.
Any problem is an :class:`InvalidInputError` and no child is involved.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from viksa_ai.devtools.runner._agent import LoadedAgent
from viksa_ai.devtools.runner._errors import InvalidInputError
from viksa_ai.devtools.validate._envelope import check_envelope_fields
from viksa_ai.devtools.validate._inputs import check_inputs
from viksa_ai.devtools.validate._issues import Issue
from viksa_ai.devtools.validate._pattern_search import (
    PatternSearchDeferred,
    inline_searches_only,
    shared_search_time,
)
from viksa_ai.models.agent import AgentEndpoint
from viksa_ai.runtime import A2A_PAYLOAD_KEY, _split_envelope

__all__ = ["PreparedCall", "prepare_call", "prepare_call_on_loop"]


@dataclass(frozen=True)
class PreparedCall:
    """A checked call of one agent, ready for :meth:`AsyncAgentWorker.call_prepared`.

    ``endpoint`` is the manifest's endpoint, ``inputs`` the inputs without the envelope
    (declared defaults filled in), ``envelope`` the A2A envelope or ``None``, and
    ``agent`` the agent they were checked against.
    """

    agent: LoadedAgent = field(repr=False, compare=False)
    endpoint: AgentEndpoint
    inputs: dict[str, Any]
    envelope: dict[str, Any] | None


def prepare_call(
    agent: LoadedAgent,
    endpoint: str | AgentEndpoint,
    inputs: Mapping[str, Any] | None = None,
    envelope: Mapping[str, Any] | None = None,
) -> PreparedCall:
    """Check a call of ``agent`` and return it prepared, without starting any process.

    ``endpoint`` is an endpoint of the manifest, its name, or its
    ``alias.module.function`` path (:class:`EndpointNotFoundError` when unknown). The
    envelope is stripped from ``inputs``; an explicit ``envelope`` wins over one found
    under ``__viksa_a2a__`` (which is removed either way). Raises
    :class:`InvalidInputError` when the envelope's fields are invalid (a missing or
    non-string ``run_id``...) or the inputs do not meet the manifest.
    """
    target = endpoint if isinstance(endpoint, AgentEndpoint) else agent.find_endpoint(endpoint)
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, Mapping):
        raise _invalid(target, "the inputs must be a JSON object")
    try:
        values, found = _split_envelope(inputs)
    except TypeError:
        found = None
        if envelope is None:
            raise _not_object_envelope(target) from None
        values = {k: v for k, v in inputs.items() if k != A2A_PAYLOAD_KEY}
    except RecursionError:
        raise _invalid(target, "the A2A envelope is nested too deeply to copy") from None
    chosen: Mapping[str, Any] | None = envelope if envelope is not None else found
    if chosen is not None and not isinstance(chosen, Mapping):
        raise _not_object_envelope(target)
    issues: list[Issue] = []
    if chosen is not None:
        # The platform's own check of an envelope (pulse.execute), before any child runs.
        fields = check_envelope_fields(chosen, A2A_PAYLOAD_KEY)
        issues.extend(dataclasses.replace(issue, input=A2A_PAYLOAD_KEY) for issue in fields)
    issues.extend(i for i in check_inputs(values, target, agent.manifest.inputs) if i.is_error)
    if issues:
        raise InvalidInputError(issues, endpoint=target.name)
    values = _with_defaults(values, target, agent)
    envelope_dict = dict(chosen) if chosen else None
    for what, value in (("inputs", values), ("A2A envelope", envelope_dict)):
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise _invalid(target, f"the {what} must be JSON-serialisable: {exc}") from None
        except RecursionError:
            raise _invalid(target, f"the {what} cannot be sent: nested too deeply") from None
    return PreparedCall(agent=agent, endpoint=target, inputs=values, envelope=envelope_dict)


async def prepare_call_on_loop(
    agent: LoadedAgent,
    endpoint: str | AgentEndpoint,
    inputs: Mapping[str, Any] | None = None,
    envelope: Mapping[str, Any] | None = None,
    *,
    searching: AbstractAsyncContextManager[Any] | None = None,
) -> PreparedCall:
    """:func:`prepare_call` for code on an event loop, which it never holds for long.

    The check runs on the loop unless an input's ``pattern`` may backtrack heavily on
    its value: then it runs again in a thread, whose search waits for a worker process
    (with a time limit) while the loop serves others. ``searching`` (a semaphore, say)
    bounds such threads; waiting for it counts in the searches' shared time limit, so
    behind a flood of costly calls a call is refused (VX410) rather than queued.
    """
    prepare = functools.partial(prepare_call, agent, endpoint, inputs, envelope)
    try:
        with inline_searches_only():
            return prepare()
    except PatternSearchDeferred:
        pass
    with shared_search_time(from_now=True):
        async with searching if searching is not None else nullcontext():
            return await asyncio.to_thread(prepare)


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
