"""Rules on the manifest itself (no code): files, names, references, paths, input specs.

The rules on the whole manifest are generators over a :class:`RuleContext` yielding
:class:`Issue` objects (:data:`MANIFEST_RULES`, then :func:`input_specs`). The checks of
one endpoint (its name, path, module and references) are run by the pass over the
endpoints (see ``_rules``), which tests the usual case inline and calls these functions
only when there may be an issue.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from viksa_ai.devtools._suggest import did_you_mean
from viksa_ai.devtools.validate._context import MAIN_FILE, Rule, RuleContext
from viksa_ai.devtools.validate._file_names import (
    RUNTIME_FILE,
    directory_clashes,
    file_name_problem,
    normalized_file_name,
    runtime_shadowing,
)
from viksa_ai.devtools.validate._inputs import check_value, compile_pattern
from viksa_ai.devtools.validate._issues import Issue, join_path
from viksa_ai.devtools.validate._manifest import Entries, ManifestView
from viksa_ai.devtools.validate._pattern_search import shared_search_time
from viksa_ai.devtools.validate._structure import short_repr
from viksa_ai.models import InputType, MimeType

if TYPE_CHECKING:
    from viksa_ai.models.agent import AgentEndpoint, AgentFile, AgentInput, AgentOutput

__all__ = [
    "KEYWORDS",
    "MANIFEST_RULES",
    "endpoint_module_issue",
    "endpoint_name_issue",
    "endpoint_path_issue",
    "input_specs",
    "reference_issues",
]

# By name: the models (and pydantic) are not imported when the manifest is plainly valid.
_Named = TypeVar("_Named", "AgentFile", "AgentInput", "AgentOutput", "AgentEndpoint")
_NUMBERS = (InputType.INTEGER, InputType.FLOAT)
_ALIAS = re.compile(r"[^.\s]+")
_SIZED = (InputType.STRING, InputType.LIST, InputType.DICT)
KEYWORDS = frozenset(keyword.kwlist)
"""Python's keywords: never an endpoint (function) name."""


def main_file(ctx: RuleContext) -> Iterator[Issue]:
    """VX101 main.py missing, VX102 main.py not python."""
    files = ctx.view.files
    for _, file in files.items:  # a plain loop: the usual case, without building a list
        if file.name == MAIN_FILE and file.mime_type is MimeType.PYTHON:
            return
    mains = [(index, file) for index, file in files.items if file.name == MAIN_FILE]
    if mains:
        index, file = mains[0]
        yield Issue(
            "VX102",
            f'main.py has mime_type "{file.mime_type}": set its mime_type to "python"',
            path=join_path("files", index, "mime_type"),
        )
    elif files.is_list and MAIN_FILE not in files.invalid_names:
        yield Issue(
            "VX101",
            'files has no "main.py": add the module that defines the endpoints, '
            '{"name": "main.py", "content": "...", "mime_type": "python"}',
            path="files",
        )


def file_names(ctx: RuleContext) -> Iterator[Issue]:
    """VX117 file names a worker cannot write inside the agent's directory; VX118 a file
    the worker replaces with the runtime; VX119 one Python imports instead of it."""
    written: list[tuple[int, str]] = []  # (index, name) of the files that can be written
    in_folders = False
    for index, file in ctx.view.files.items:
        name = file.name
        if name == MAIN_FILE:  # every agent has it: a valid name, not the runtime's
            written.append((index, name))
            continue
        problem = file_name_problem(name)
        if problem is not None:
            yield Issue(
                "VX117",
                f"file name {short_repr(name, 80)} {problem}: the worker writes each "
                "file inside the agent's directory, so use a relative path such as "
                '"data/table.csv"',
                path=join_path("files", index, "name"),
            )
            continue
        if "/" in name or "\\" in name:
            name = normalized_file_name(name)
            in_folders = in_folders or "/" in name
        written.append((index, name))
        if name == RUNTIME_FILE:
            yield Issue(
                "VX118",
                f"the worker writes the runtime to {RUNTIME_FILE} after the agent's files, "
                "so this file is replaced: rename it",
                path=join_path("files", index, "name"),
                severity="warning",
            )
        elif shadowing := runtime_shadowing(name):
            yield Issue(
                "VX119",
                f"file name {short_repr(name, 80)} {shadowing}",
                path=join_path("files", index, "name"),
            )
    if not in_folders:
        return  # no file in a folder: no folder can be a file (the usual case)
    for at, directory, owner in directory_clashes([name for _, name in written]):
        index, name = written[at]
        what = (
            f"the worker writes the runtime to {RUNTIME_FILE}"
            if owner is None
            else f"{join_path('files', written[owner][0])} is a file named {directory!r}"
        )
        yield Issue(
            "VX117",
            f"file name {short_repr(name, 80)} needs {directory!r} to be a folder, but "
            f"{what}: the worker cannot write both, so rename one",
            path=join_path("files", index, "name"),
        )


def _duplicates(
    entries: Entries[_Named],
    field: str,
    code: str,
    what: str,
    key: Callable[[str], str] = str,
) -> Iterator[Issue]:
    """Entries whose ``key(name)`` repeats an earlier one's (``key`` spells names one way)."""
    if len(entries.items) < 2:
        return  # nothing to repeat (and no name to normalise)
    if key is str:
        names = [item.name for _, item in entries.items]
        if len(set(names)) == len(names):
            return  # no repeat: the usual case, found without a loop in Python
    first: dict[str, tuple[int, str]] = {}
    for index, item in entries.items:
        seen, name = first.setdefault(key(item.name), (index, item.name))
        if seen != index:
            same = "" if name == item.name else f" (as {name!r}, the same path)"
            yield Issue(
                code,
                f"{what} name {item.name!r} is already used by {join_path(field, seen)}"
                f"{same}: give each a unique name",
                path=join_path(field, index, "name"),
            )


def unique_names(ctx: RuleContext) -> Iterator[Issue]:
    """VX103 files, VX105 inputs, VX106 outputs, VX107 endpoints with a repeated name."""
    view = ctx.view
    # "./main.py" and "main.py" are one file once written: the second would replace the first.
    yield from _duplicates(view.files, "files", "VX103", "file", normalized_file_name)
    # The view's sets of names already tell whether a name repeats (when every entry is
    # valid: the sets hold the invalid entries' names too).
    inputs, outputs = view.inputs, view.outputs
    if inputs.invalid_names or len(view.input_names) != len(inputs.items):
        yield from _duplicates(inputs, "inputs", "VX105", "input")
    if outputs.invalid_names or len(view.output_names) != len(outputs.items):
        yield from _duplicates(outputs, "outputs", "VX106", "output")
    yield from _duplicates(view.endpoints, "agent_endpoints", "VX107", "endpoint")


def endpoints_present(ctx: RuleContext) -> Iterator[Issue]:
    """VX104 no endpoint at all."""
    endpoints = ctx.view.endpoints
    if endpoints.is_list and endpoints.size == 0:
        yield Issue(
            "VX104",
            "agent_endpoints is empty: declare at least one endpoint "
            '(name, module "main", description, inputs, outputs)',
            path="agent_endpoints",
        )


def endpoint_name_issue(index: int, name: str) -> Issue | None:
    """VX111 for an endpoint name the worker cannot look up as a function, else None.

    Callers test ``name.isascii() and name.isidentifier() and name not in KEYWORDS``
    first: such a name has no issue (NFKC leaves ASCII as it is).
    """
    problem = None
    if not name.isidentifier():
        problem = "is not a Python identifier (letters, digits and underscores)"
    elif keyword.iskeyword(name):
        problem = "is a Python keyword"
    elif unicodedata.normalize("NFKC", name) != name:
        problem = "changes under Python's identifier normalisation (NFKC)"
    if problem is None:
        return None
    return Issue(
        "VX111",
        f"endpoint name {name!r} {problem}: the worker calls the function of "
        "that name, so rename the endpoint and its function",
        path=join_path("agent_endpoints", index, "name"),
    )


def endpoint_path_issue(
    index: int, endpoint: AgentEndpoint, first_alias: tuple[str, int] | None
) -> tuple[Issue | None, tuple[str, int] | None]:
    """VX110 a path that is not alias.module.function; VX115 an alias other than the first.

    ``first_alias`` is the alias of the first endpoint with a valid path, and its
    index (None before it); returns the issue (or None) and the new ``first_alias``.
    Callers skip an empty path (the platform fills it in) and one that spells the first
    alias with this endpoint's module and name (already checked).
    """
    alias = _alias_of(endpoint)
    if alias is None:
        issue = Issue(
            "VX110",
            f"endpoint path {endpoint.endpoint!r} is not <alias>.{endpoint.module}."
            f"{endpoint.name}: set it to that (with the agent's alias) or leave it empty",
            path=join_path("agent_endpoints", index, "endpoint"),
        )
        return issue, first_alias
    if first_alias is None:
        return None, (alias, index)
    if alias != first_alias[0]:
        issue = Issue(
            "VX115",
            f"endpoint path names agent {alias!r}, but "
            f"{join_path('agent_endpoints', first_alias[1])} names {first_alias[0]!r}: "
            "every endpoint of an agent has the same alias",
            path=join_path("agent_endpoints", index, "endpoint"),
            severity="warning",
        )
        return issue, first_alias
    return None, first_alias


def _alias_of(endpoint: AgentEndpoint) -> str | None:
    suffix = f".{endpoint.module}.{endpoint.name}"
    path = endpoint.endpoint
    if not path.endswith(suffix):
        return None
    alias = path[: -len(suffix)]
    return alias if _ALIAS.fullmatch(alias) else None


def endpoint_module_issue(index: int, module: str, file_names: set[str]) -> Issue | None:
    """VX114 when no file of ``file_names`` holds ``module`` (other than main), else None.

    Callers check only when every entry of ``files`` is valid (``files.complete``).
    """
    stem = module.replace(".", "/")
    if not file_names.isdisjoint((f"{stem}.py", f"{stem}/__init__.py")):
        return None
    return Issue(
        "VX114",
        f"no file holds module {module!r} ({stem}.py), so the platform cannot "
        'import the endpoint: add that file to files, or set module to "main"',
        path=join_path("agent_endpoints", index, "module"),
    )


def reference_issues(view: ManifestView, index: int, endpoint: AgentEndpoint) -> Iterator[Issue]:
    """VX108/VX112 input references, VX109/VX116 output references of one endpoint."""
    check_inputs, check_outputs = view.inputs.is_list, view.outputs.is_list
    inputs, outputs = view.input_names, view.output_names
    seen: set[str] = set()
    for ref_index, ref in enumerate(endpoint.inputs):
        name = ref.input_ref
        if name in seen:
            yield Issue(
                "VX112",
                f"input {name!r} is referenced twice by this endpoint: remove one",
                path=join_path("agent_endpoints", index, "inputs", ref_index),
                input=name,
            )
        elif check_inputs and name not in inputs:
            yield Issue(
                "VX108",
                f"input_ref {name!r} is not a declared input{did_you_mean(name, inputs)}: "
                f"add an input named {name!r} to inputs, or fix the reference",
                path=join_path("agent_endpoints", index, "inputs", ref_index),
                input=name,
            )
        seen.add(name)
    listed: set[str] = set()
    for out_index, name in enumerate(endpoint.outputs):
        if name in listed:
            yield Issue(
                "VX116",
                f"output {name!r} is listed twice: remove one",
                path=join_path("agent_endpoints", index, "outputs", out_index),
                severity="warning",
            )
        elif check_outputs and name not in outputs:
            yield Issue(
                "VX109",
                f"output {name!r} is not a declared output{did_you_mean(name, outputs)}: "
                f"add an output named {name!r} to outputs, or fix the name",
                path=join_path("agent_endpoints", index, "outputs", out_index),
            )
        listed.add(name)


def input_specs(ctx: RuleContext) -> Iterator[Issue]:
    """VX120-VX125: an input's own constraints are usable and consistent.

    The costly pattern searches of all the defaults and allowed values share one time
    limit: a manifest of many hostile values is refused in seconds, not minutes.
    """
    # Cheap tests first: most inputs have no constraint, or consistent bounds only.
    checked = [
        (index, spec)
        for index, spec in ctx.view.inputs.items
        if spec.default is not None
        or spec.allowed_values
        or spec.pattern is not None
        or (
            (
                spec.min_length is not None
                or spec.max_length is not None
                or spec.min_value is not None
                or spec.max_value is not None
            )
            and _bounds_problem(spec)
        )
    ]
    if not checked:
        return
    issues: list[Issue] = []
    with shared_search_time():
        for index, spec in checked:
            issues.extend(_input_spec_issues(spec, join_path("inputs", index)))
    yield from issues


def _bounds_problem(spec: AgentInput) -> bool:
    """Whether ``spec``'s min/max bounds (its only constraints here) have an issue."""
    low, high = spec.min_length, spec.max_length
    if (low is not None or high is not None) and (
        spec.type not in _SIZED or (low or 0) < 0 or (high or 0) < 0 or _above(low, high)
    ):
        return True
    low_value, high_value = spec.min_value, spec.max_value
    if low_value is not None or high_value is not None:
        return spec.type not in _NUMBERS or _above(low_value, high_value)
    return False


def _input_spec_issues(spec: AgentInput, where: str) -> Iterator[Issue]:
    pattern_ok = True
    if spec.pattern is not None:
        compiled = compile_pattern(spec.pattern)
        if isinstance(compiled, str):
            pattern_ok = False
            yield _spec_issue(
                spec, where, "VX120", "pattern", f"is not a valid regular expression ({compiled})"
            )
    if _above(spec.min_value, spec.max_value):
        yield _spec_issue(spec, where, "VX121", "min_value", "is above max_value: fix one")
    for field in ("min_length", "max_length"):
        bound = getattr(spec, field)
        if bound is not None and bound < 0:
            yield _spec_issue(spec, where, "VX124", field, "is negative: use 0 or more")
    if _above(spec.min_length, spec.max_length):
        yield _spec_issue(spec, where, "VX121", "min_length", "is above max_length: fix one")
    yield from _inapplicable(spec, where)
    if spec.default is not None:
        for problem in check_value(spec.default, spec, subject="its default"):
            if problem.code != "VX409" or pattern_ok:
                yield _spec_issue(spec, where, "VX122", "default", problem.message, prefix=False)
    if spec.allowed_values:
        unconstrained = spec.model_copy(update={"allowed_values": None})
        for item_index, item in enumerate(spec.allowed_values):
            field = f"allowed_values[{item_index}]"
            problems = [
                problem
                for problem in check_value(item, unconstrained, subject=f"its {field}")
                if problem.code != "VX409"
            ]
            if item is not None and problems:
                message = problems[0].message
                yield _spec_issue(spec, where, "VX123", field, message, prefix=False, warning=True)


def _above(low: float | None, high: float | None) -> bool:
    return low is not None and high is not None and low > high


def _spec_issue(
    spec: AgentInput,
    where: str,
    code: str,
    field: str,
    message: str,
    *,
    prefix: bool = True,
    warning: bool = False,
) -> Issue:
    text = (
        f"input {spec.name!r}: {field} {message}" if prefix else f"input {spec.name!r}: {message}"
    )
    return Issue(
        code,
        text,
        path=f"{where}.{field}",
        severity="warning" if warning else "error",
        input=spec.name,
    )


def _inapplicable(spec: AgentInput, where: str) -> Iterator[Issue]:
    kind = spec.type
    for field in ("min_value", "max_value"):
        if kind not in _NUMBERS and getattr(spec, field) is not None:
            message = f"applies to numbers, not to a {kind}: remove it"
            yield _spec_issue(spec, where, "VX125", field, message, warning=True)
    for field in ("min_length", "max_length"):
        if kind not in _SIZED and getattr(spec, field) is not None:
            message = f"applies to strings, lists and objects, not to a {kind}: remove it"
            yield _spec_issue(spec, where, "VX125", field, message, warning=True)
    if kind is not InputType.STRING and spec.pattern is not None:
        message = f"applies to strings, not to a {kind}: remove it"
        yield _spec_issue(spec, where, "VX125", "pattern", message, warning=True)


MANIFEST_RULES: tuple[Rule, ...] = (main_file, file_names, unique_names, endpoints_present)
"""The first rules on the whole manifest, in the order their issues are reported.

:func:`input_specs`' issues come after the per-endpoint ones (see ``_rules``)."""
