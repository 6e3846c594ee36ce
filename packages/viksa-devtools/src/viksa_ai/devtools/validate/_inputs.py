"""Checking call inputs against an endpoint's declared inputs (one place for every caller).

Used by ``validate_a2a_envelope`` (the envelope's payload), by the local runner before
an endpoint runs, and by the manifest validator (an input's ``default`` must meet its
own constraints). The rules, per :class:`~viksa_ai.models.agent.AgentInput`:

- a required input (``required`` on the endpoint's reference) must be present and not
  null, unless the agent input declares a non-null ``default`` (the platform fills it);
- ``type``: string, integer (never a bool), float (an int or float, finite, never a
  bool), boolean, dict (a JSON object), list (a JSON array);
- ``allowed_values`` (a non-empty list): the value equals one of them, compared as JSON
  values (``1`` is not ``true``);
- ``min_value`` / ``max_value``: bounds for numbers;
- ``min_length`` / ``max_length``: bounds for the length of strings, lists and objects;
- ``pattern``: a Python regular expression that must match somewhere in a string
  (``re.search``, as in JSON Schema). A search that may backtrack heavily on a value
  runs in a worker process with a time limit; a value it cannot check in time is
  refused (VX410), never searched for minutes (see ``_pattern_search``); the costly
  searches of one call share that time limit.

Messages never quote the value checked: inputs may be secrets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from viksa_ai.devtools.validate._issues import Issue, join_path
from viksa_ai.devtools.validate._pattern_search import (
    INLINE_STEPS,
    PatternTimeoutError,
    search_pattern,
    shared_search_time,
    worst_case_steps,
)
from viksa_ai.devtools.validate._structure import (
    issues_from_validation_error,
    json_type_name,
    short_repr,
)
from viksa_ai.models import InputType

if TYPE_CHECKING:
    from pydantic import ValidationError

    from viksa_ai.models.agent import AgentEndpoint, AgentInput

__all__ = ["check_inputs", "check_value", "compile_pattern", "endpoint_model", "resolve_inputs"]

_TYPE_NAMES = {
    InputType.STRING: "a string",
    InputType.INTEGER: "an integer",
    InputType.FLOAT: "a number",
    InputType.BOOLEAN: "a boolean",
    InputType.DICT: "an object (dict)",
    InputType.LIST: "a list",
}


def check_inputs(
    values: Mapping[str, Any],
    endpoint: AgentEndpoint | Mapping[str, Any],
    agent_inputs: Iterable[AgentInput | Mapping[str, Any]] | None,
    *,
    path_prefix: str = "",
) -> list[Issue]:
    """Check call ``values`` against ``endpoint``'s input references; return the errors.

    ``endpoint`` and each of ``agent_inputs`` may be a model or a plain dict. Values for
    names the endpoint does not reference are ignored. Every issue has
    ``severity="error"``, ``input`` set to the input's name, and ``path``
    ``path_prefix + name`` (e.g. ``payload.source`` with ``path_prefix="payload"``).
    A malformed ``endpoint`` or agent input is reported as issues (VX003), not raised.
    Empty list = the values are acceptable.
    """
    issues: list[Issue] = []
    model = endpoint_model(endpoint, issues)
    specs = resolve_inputs(agent_inputs, issues)
    if model is None:
        return issues
    given: object = values  # callers pass JSON from anywhere; check, do not trust
    if not isinstance(given, Mapping):
        issues.append(Issue("VX003", "the inputs must be a JSON object (dict)", path=path_prefix))
        return issues
    with shared_search_time():
        _check_references(values, model, specs, path_prefix, issues)
    return issues


def _check_references(
    values: Mapping[str, Any],
    model: AgentEndpoint,
    specs: Mapping[str, AgentInput],
    path_prefix: str,
    issues: list[Issue],
) -> None:
    for ref in model.inputs:
        name = ref.input_ref
        spec = specs.get(name)
        where = join_path(path_prefix, name)
        value = values.get(name)
        if value is None:
            if ref.required and (spec is None or spec.default is None):
                state = "is null" if name in values else "is missing"
                issues.append(
                    Issue(
                        "VX401",
                        f"required input {name!r} {state}: provide a value",
                        path=where,
                        input=name,
                    )
                )
            continue
        if spec is not None:
            issues.extend(check_value(value, spec, where))


def resolve_inputs(
    agent_inputs: Iterable[AgentInput | Mapping[str, Any]] | None,
    issues: list[Issue] | None = None,
    *,
    path: str = "agent_inputs",
) -> dict[str, AgentInput]:
    """Map input name to :class:`AgentInput`, parsing dicts; the first of a name wins.

    Entries that are not valid inputs are skipped and, when ``issues`` is given,
    reported there (VX003) under ``path[i]``.
    """
    specs: dict[str, AgentInput] = {}
    if agent_inputs is None:
        return specs
    if isinstance(agent_inputs, (str, bytes, Mapping)) or not isinstance(agent_inputs, Iterable):
        if issues is not None:
            issues.append(Issue("VX003", "the agent inputs must be a list of inputs", path=path))
        return specs
    for index, item in enumerate(agent_inputs):
        spec = _input_model(item, join_path(path, index), issues)
        if spec is not None:
            specs.setdefault(spec.name, spec)
    return specs


def check_value(
    value: Any, spec: AgentInput, path: str = "", *, subject: str | None = None
) -> list[Issue]:
    """Check one non-null ``value`` against ``spec``'s type and constraints.

    Returns an empty list when the value is acceptable. A type mismatch is reported
    alone (the constraints are not checked against a value of the wrong type).
    Messages start with ``subject`` (default ``input 'name'``).
    """
    name = spec.name
    where = path or name
    noun = subject if subject is not None else f"input {name!r}"

    def issue(code: str, message: str) -> Issue:
        return Issue(code, f"{noun} {message}", path=where, input=name)

    problem = _type_problem(value, spec.type)
    if problem is not None:
        return [issue("VX402", problem)]
    issues: list[Issue] = []
    allowed = spec.allowed_values
    if allowed and not _is_allowed(value, allowed):
        shown = ", ".join(short_repr(item) for item in allowed[:10])
        more = ", ..." if len(allowed) > 10 else ""
        issues.append(issue("VX403", f"must be one of the allowed values: {shown}{more}"))
    if _is_number(value):
        if spec.min_value is not None and value < spec.min_value:
            issues.append(issue("VX404", f"must be at least {short_repr(spec.min_value)}"))
        if spec.max_value is not None and value > spec.max_value:
            issues.append(issue("VX405", f"must be at most {short_repr(spec.max_value)}"))
    if isinstance(value, (str, list, tuple, dict)):
        unit = "character" if isinstance(value, str) else "item"
        if spec.min_length is not None and len(value) < spec.min_length:
            issues.append(issue("VX406", f"must have at least {_count(spec.min_length, unit)}"))
        if spec.max_length is not None and len(value) > spec.max_length:
            issues.append(issue("VX407", f"must have at most {_count(spec.max_length, unit)}"))
    if isinstance(value, str) and spec.pattern is not None:
        compiled = compile_pattern(spec.pattern)
        if isinstance(compiled, str):
            issues.append(
                issue("VX409", f"cannot be checked: its pattern is not a valid regex ({compiled})")
            )
        elif not issues or worst_case_steps(compiled.pattern, len(value)) <= INLINE_STEPS:
            # A value refused already is not searched at length: that would only delay
            # (by up to the search's time limit) an answer the caller must act on first.
            issues.extend(_pattern_issues(compiled, value, issue))
    return issues


def _pattern_issues(
    compiled: re.Pattern[str], value: str, issue: Callable[[str, str], Issue]
) -> list[Issue]:
    try:
        found = search_pattern(compiled, value)
    except PatternTimeoutError as exc:
        if exc.spent:
            message = (
                f"cannot be checked: its pattern {compiled.pattern!r} backtracks heavily on "
                f"{len(value):,} characters and no time was left to search it (the "
                f"{exc.limit:g} seconds went to other costly searches: of other values "
                "of this call, or of other calls); send a shorter value, or retry"
            )
            return [issue("VX410", message)]
        message = (
            f"cannot be checked: its pattern {compiled.pattern!r} did not finish searching "
            f"this value within {exc.limit:g} seconds (it backtracks heavily on "
            f"{len(value):,} characters); send a shorter value, or declare a pattern "
            "anchored with ^ and without nested repeats"
        )
        return [issue("VX410", message)]
    return [] if found else [issue("VX408", f"must match the pattern {compiled.pattern!r}")]


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str] | str:
    """The compiled ``pattern``, or the reason it does not compile (a message)."""
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        return str(exc) or type(exc).__name__


def _type_problem(value: Any, expected: InputType) -> str | None:
    ok: bool
    if expected is InputType.STRING:
        ok = isinstance(value, str)
    elif expected is InputType.INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is InputType.FLOAT:
        if _is_number(value) and isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number"
        ok = _is_number(value)
    elif expected is InputType.BOOLEAN:
        ok = isinstance(value, bool)
    elif expected is InputType.DICT:
        ok = isinstance(value, Mapping)
    else:
        ok = isinstance(value, (list, tuple))
    if ok:
        return None
    return f"must be {_TYPE_NAMES[expected]}, got {json_type_name(value)}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_kind(value: Any) -> str:
    # JSON equality: booleans are not numbers, ints and floats are the same kind.
    if isinstance(value, bool):
        return "bool"
    if _is_number(value):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _json_equal(left: Any, right: Any) -> bool:
    kind = _json_kind(left)
    if kind != _json_kind(right):
        return False
    if kind == "list":
        return len(left) == len(right) and all(map(_json_equal, left, right))
    if kind == "object":
        return left.keys() == right.keys() and all(
            _json_equal(left[key], right[key]) for key in left
        )
    return bool(left == right)


def _is_allowed(value: Any, allowed: list[Any]) -> bool:
    try:
        return any(_json_equal(item, value) for item in allowed)
    except RecursionError:
        return False  # too deep to compare: reported as not allowed


@cache
def _models() -> tuple[type[AgentEndpoint], type[AgentInput], type[ValidationError]]:
    # Imported when first needed, not with the module: the manifest rules use it
    # without needing pydantic. Once, not per call: every call checks its inputs.
    from pydantic import ValidationError

    from viksa_ai.models.agent import AgentEndpoint, AgentInput

    return AgentEndpoint, AgentInput, ValidationError


def endpoint_model(
    endpoint: AgentEndpoint | Mapping[str, Any], issues: list[Issue]
) -> AgentEndpoint | None:
    """``endpoint`` as a model (dicts are parsed); None, with issues added, if invalid."""
    AgentEndpoint, _, ValidationError = _models()  # noqa: N806 - the classes' own names
    given: object = endpoint
    if isinstance(given, AgentEndpoint):
        return given
    if not isinstance(given, Mapping):
        issues.append(Issue("VX003", "the endpoint must be a JSON object", path="endpoint"))
        return None
    try:
        return AgentEndpoint.model_validate(given)
    except ValidationError as exc:
        issues.extend(issues_from_validation_error(exc, "endpoint"))
    except RecursionError:
        issues.append(Issue("VX004", "the endpoint is nested too deeply to check", path="endpoint"))
    return None


def _input_model(
    item: AgentInput | Mapping[str, Any] | Any, path: str, issues: list[Issue] | None
) -> AgentInput | None:
    _, AgentInput, ValidationError = _models()  # noqa: N806 - the classes' own names
    if isinstance(item, AgentInput):
        return item
    problems: list[Issue] = []
    if not isinstance(item, Mapping):
        problems.append(Issue("VX003", "an agent input must be a JSON object", path=path))
    else:
        try:
            return AgentInput.model_validate(item)
        except ValidationError as exc:
            problems.extend(issues_from_validation_error(exc, path))
        except RecursionError:
            problems.append(Issue("VX004", "the input is nested too deeply to check", path=path))
    if issues is not None:
        issues.extend(problems)
    return None


def _count(bound: int, unit: str) -> str:
    """``1 character``, ``3 characters``: a length bound with its unit."""
    return f"{short_repr(bound)} {unit}" if bound == 1 else f"{short_repr(bound)} {unit}s"
