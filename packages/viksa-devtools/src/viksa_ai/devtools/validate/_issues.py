"""The result type of every validator: :class:`Issue` and :class:`AgentValidationError`.

An issue has a stable ``code`` (catalogued in ``_codes.py``), a ``message`` that says
what to change, and a location: a manifest path such as ``agent_endpoints[2].inputs[0]``
and/or a position ``file:line:column`` in agent code. Messages never quote input
values (an input may be a secret); they name fields, inputs and expected values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "AgentValidationError",
    "Issue",
    "IssueSummary",
    "Severity",
    "join_path",
    "plural",
    "split_path",
]

Severity = Literal["error", "warning"]
"""``error`` makes a manifest invalid; ``warning`` is advice that does not."""


@dataclass(frozen=True)
class Issue:
    """One problem found by a validator.

    Attributes:
        code: stable identifier such as ``"VX301"`` (see the package README's table).
        message: what is wrong and what to change.
        path: where in the manifest (or envelope), e.g. ``agent_endpoints[2].inputs[0]``;
            for a problem in embedded code, the file's entry (``files[0]``).
        file: the agent file the position refers to (``"main.py"``), if any.
        line: 1-based line in ``file``, if known.
        column: 1-based column (in characters) in ``file``, if known.
        severity: ``"error"`` or ``"warning"``.
        input: name of the agent input concerned, if any.
    """

    code: str
    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    severity: Severity = "error"
    input: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether this issue makes the manifest (or call) invalid."""
        return self.severity == "error"

    @property
    def location(self) -> str:
        """``main.py:LINE:COL`` for code, else the manifest path (``""`` when neither)."""
        if self.file is not None:
            if self.line is None:
                return self.file
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.path

    def to_dict(self) -> dict[str, Any]:
        """The issue as a JSON-ready dict (the CLI's ``--format json`` items)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "input": self.input,
        }

    def __str__(self) -> str:
        label = self.code if self.is_error else f"{self.code} (warning)"
        where = self.location
        return f"{where}: {label} {self.message}" if where else f"{label} {self.message}"


class IssueSummary:
    """Mixin for holders of ``issues``: the errors and the warnings among them."""

    issues: tuple[Issue, ...]

    @property
    def errors(self) -> tuple[Issue, ...]:
        """The issues of severity ``error``."""
        return tuple(issue for issue in self.issues if issue.is_error)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        """The issues of severity ``warning``."""
        return tuple(issue for issue in self.issues if not issue.is_error)


class AgentValidationError(IssueSummary, Exception):
    """An agent manifest is invalid; ``issues`` holds every issue found (warnings too).

    ``errors`` and ``warnings`` split them; ``str()`` lists every issue, one per line,
    errors first.
    """

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = tuple(issues)
        super().__init__(self.issues)

    def __str__(self) -> str:
        errors, warnings = self.errors, self.warnings
        head = f"agent manifest is invalid: {plural(len(errors), 'error')}"
        if warnings:
            head += f", {plural(len(warnings), 'warning')}"
        return "\n".join([head, *(f"  {issue}" for issue in (*errors, *warnings))])

    def __repr__(self) -> str:
        return f"AgentValidationError({len(self.issues)} issues)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.issues,))


def plural(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def join_path(base: str, *parts: str | int) -> str:
    """Extend a manifest path: ``join_path("agent_endpoints", 2, "inputs")``.

    Integers become ``[i]``, identifiers ``.name``, other keys ``["key"]``.
    """
    out = base
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out = f"{out}.{part}" if out else part
        else:
            out += _quoted_key(part)
    return out


def _quoted_key(key: str) -> str:
    # JSON-style escaping keeps odd keys (quotes, newlines, lone surrogates) on one
    # printable line; ensure_ascii turns surrogates into \\udXXX instead of failing.
    return f"[{json.dumps(key, ensure_ascii=True)}]"


# One part of a path: [index], ["quoted key"], or a name running to the next "." or "["
# (identifiers hold neither).
_PART = re.compile(r'\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.\[]+)')


def split_path(path: str) -> list[str | int]:
    """The parts of a manifest path: the inverse of :func:`join_path`.

    ``agent_endpoints[2].inputs[0]`` gives ``["agent_endpoints", 2, "inputs", 0]`` (the
    ``loc`` of a FastAPI error item). Text that no path spells ends up, whole, in the
    last part, so any string gives a list.
    """
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PART.match(path, position)
        part = _part(match) if match is not None else None
        if match is None or part is None:
            parts.append(path[position:])
            break
        parts.append(part)
        position = match.end()
    return parts


def _part(match: re.Match[str]) -> str | int | None:
    index, quoted, name = match.groups()
    if name is not None:
        return name
    if index is not None:
        return int(index)
    try:
        return str(json.loads(quoted))
    except ValueError:  # ["\q"]: quoted, but not as join_path quotes
        return None
