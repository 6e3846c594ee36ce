"""Checking an A2A envelope against the endpoint it calls."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import TypeAdapter, ValidationError

from viksa_ai.devtools._strict_json import unfit_json
from viksa_ai.devtools.validate._inputs import check_inputs, endpoint_model
from viksa_ai.devtools.validate._issues import Issue, join_path
from viksa_ai.devtools.validate._structure import issues_from_validation_error, short_repr
from viksa_ai.models.a2a import A2A_PROTOCOL_VERSION, A2AEnvelope
from viksa_ai.models.agent import AgentEndpoint, AgentInput
from viksa_ai.models.executor import ExecutionEnvelope

__all__ = ["check_a2a_envelope", "check_envelope_fields", "validate_a2a_envelope"]

# Validates deadline_at alone (the type of the envelope model's field).
_DEADLINE: TypeAdapter[datetime] = TypeAdapter(datetime)


def validate_a2a_envelope(
    envelope: A2AEnvelope | Mapping[str, Any],
    endpoint: AgentEndpoint | Mapping[str, Any],
    agent_inputs: Iterable[AgentInput | Mapping[str, Any]] | None,
    now: datetime | None = None,
) -> list[str]:
    """Check an A2A ``envelope`` sent to ``endpoint``; return the problems (empty = valid).

    Checks the protocol version, the envelope's fields, that its ``endpoint`` is this
    endpoint, that ``callee_agent`` is the endpoint path's agent alias, that
    ``deadline_at`` has not passed (at ``now``, default the current UTC time; a naive
    datetime is taken as UTC), and the ``payload`` against the endpoint's inputs:
    required inputs present, each value's type, ``allowed_values``, min/max value,
    min/max length and pattern. ``envelope``, ``endpoint`` and ``agent_inputs`` may be
    models or dicts. Each string reads ``location: CODE message``; see
    :func:`check_a2a_envelope` for the structured issues.
    """
    issues = check_a2a_envelope(envelope, endpoint, agent_inputs, now=now)
    return [str(issue) for issue in issues]


def check_a2a_envelope(
    envelope: A2AEnvelope | Mapping[str, Any],
    endpoint: AgentEndpoint | Mapping[str, Any],
    agent_inputs: Iterable[AgentInput | Mapping[str, Any]] | None,
    now: datetime | None = None,
) -> list[Issue]:
    """The issues of :func:`validate_a2a_envelope` as :class:`Issue` objects (all errors)."""
    given: object = envelope
    if isinstance(given, A2AEnvelope):  # accepted by 0.2: checked as its wire form
        given = given.model_dump(mode="json")
    if not isinstance(given, Mapping):
        return [Issue("VX501", "the A2A envelope must be a JSON object")]
    issues: list[Issue] = []
    unfit = unfit_json(dict(given))
    if unfit is not None:
        # The platform refuses such an envelope at its edge (422): say so here too.
        where = join_path("", *unfit.loc)
        issues.append(
            Issue("VX501", f"the A2A envelope's {where or 'body'}: {unfit.message}", path=where)
        )
    version = given.get("protocol_version", A2A_PROTOCOL_VERSION)
    if isinstance(version, bool) or version != A2A_PROTOCOL_VERSION:
        issues.append(
            Issue(
                "VX502",
                f"unsupported protocol_version {short_repr(version, 20)}: this SDK speaks A2A "
                f"protocol version {A2A_PROTOCOL_VERSION}",
                path="protocol_version",
            )
        )
    parsed = _parse_envelope(given, issues)
    spec = endpoint_model(endpoint, issues)
    target = parsed.endpoint if parsed else given.get("endpoint")
    if spec is not None and isinstance(target, str):
        mismatch = _endpoint_mismatch(target, spec)
        issues.extend(mismatch)
        callee = parsed.callee_agent if parsed else given.get("callee_agent")
        # The alias is only meaningful in a path that names this endpoint.
        if not mismatch and isinstance(callee, str) and callee != target.split(".", 1)[0]:
            issues.append(
                Issue(
                    "VX505",
                    f"callee_agent {callee!r} is not the agent of endpoint {target!r}: "
                    "set callee_agent to the alias the endpoint path starts with",
                    path="callee_agent",
                )
            )
    deadline = parsed.deadline_at if parsed else _deadline_of(given)
    if deadline is not None:
        issues.extend(_deadline_passed(deadline, now))
    payload = parsed.payload if parsed else given.get("payload", {})
    if spec is not None and isinstance(payload, Mapping):
        issues.extend(check_inputs(payload, spec, agent_inputs, path_prefix="payload"))
    return issues


def check_envelope_fields(envelope: Mapping[str, Any], prefix: str = "") -> list[Issue]:
    """The issues of an envelope's correlation fields, as the platform checks them.

    The fields of :class:`~viksa_ai.models.executor.ExecutionEnvelope` (``run_id``
    required, ``protocol_version`` 1, the others strings) are checked by that model, the
    one the platform parses ``pulse.execute`` envelopes with; other fields of a full A2A
    envelope (``endpoint``, ``payload``, ``metadata``...) are kept unchecked. Each
    issue is located under ``prefix``; VX502 for the protocol version, else VX501.
    """
    known = ExecutionEnvelope.model_fields
    fields = {key: value for key, value in envelope.items() if key in known}
    try:
        ExecutionEnvelope.model_validate(fields)
    except ValidationError as exc:
        found = issues_from_validation_error(exc)
    except RecursionError:
        return [Issue("VX501", "the A2A envelope is nested too deeply to check", path=prefix)]
    else:
        return []
    return [
        dataclasses.replace(
            issue,
            code="VX502" if issue.path == "protocol_version" else "VX501",
            message=f"the A2A envelope's {issue.message}",
            path=f"{prefix}.{issue.path}" if prefix else issue.path,
        )
        for issue in found
    ]


def _parse_envelope(envelope: Mapping[str, Any], issues: list[Issue]) -> A2AEnvelope | None:
    # protocol_version is checked (and reported) on its own, with its own code.
    fields = {key: value for key, value in envelope.items() if key != "protocol_version"}
    try:
        return A2AEnvelope.model_validate(fields)
    except ValidationError as exc:
        issues.extend(
            dataclasses.replace(issue, code="VX501") for issue in issues_from_validation_error(exc)
        )
    except RecursionError:
        issues.append(Issue("VX501", "the A2A envelope is nested too deeply to check"))
    return None


def _deadline_of(envelope: Mapping[str, Any]) -> datetime | None:
    # The envelope as a whole did not parse (a missing run_id, say): its deadline may
    # still have passed, which the caller needs to know too.
    value = envelope.get("deadline_at")
    if value is None:
        return None
    try:
        return _DEADLINE.validate_python(value)
    except (ValidationError, RecursionError):
        return None  # an invalid deadline_at is already reported (VX501)


def _endpoint_mismatch(target: str, spec: AgentEndpoint) -> list[Issue]:
    if spec.endpoint:
        if target == spec.endpoint:
            return []
        expected = repr(spec.endpoint)
    else:
        suffix = f".{spec.module}.{spec.name}"
        if target.endswith(suffix) and len(target) > len(suffix):
            return []
        expected = f"'<alias>{suffix}'"
    return [
        Issue(
            "VX503",
            f"the envelope calls endpoint {target!r}, not {expected}: send it to the "
            "endpoint it names, or fix its endpoint field",
            path="endpoint",
        )
    ]


def _deadline_passed(deadline: datetime, now: datetime | None) -> list[Issue]:
    current = now if now is not None else datetime.now(timezone.utc)
    if _as_utc(deadline) > _as_utc(current):
        return []
    return [
        Issue(
            "VX504",
            f"deadline_at {deadline.isoformat()} has passed: the caller no longer waits "
            "for this call; send it again with a later deadline",
            path="deadline_at",
        )
    ]


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment
