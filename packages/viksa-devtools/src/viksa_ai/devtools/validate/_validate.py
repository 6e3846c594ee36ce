"""Validating an agent manifest: structure first, then every rule, all issues collected."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from viksa_ai.devtools.validate._context import RuleContext, parse_main
from viksa_ai.devtools.validate._gc import gc_paused
from viksa_ai.devtools.validate._issues import AgentValidationError, Issue, IssueSummary
from viksa_ai.devtools.validate._manifest import ManifestView, load_manifest
from viksa_ai.devtools.validate._rules import run_rules, too_deep

if TYPE_CHECKING:
    from viksa_ai.models.agent import AgentGenerationResponse

__all__ = [
    "ValidationReport",
    "check_agent_manifest",
    "manifest_issues",
    "validate_agent_manifest",
]


@dataclass(frozen=True)
class ValidationReport(IssueSummary):
    """The outcome of :func:`check_agent_manifest`.

    ``manifest`` is the parsed manifest when its structure is valid (even if rules
    found errors), else None; ``issues`` holds every issue, errors and warnings, which
    ``errors`` and ``warnings`` split.
    """

    manifest: AgentGenerationResponse | None
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        """Whether the manifest is valid (no errors; warnings allowed)."""
        return self.manifest is not None and not self.errors


def check_agent_manifest(
    manifest: Mapping[str, Any] | AgentGenerationResponse,
) -> ValidationReport:
    """Validate ``manifest`` and return every issue found, without raising.

    Any input, however malformed, gives a report: wrong JSON types become issues.
    """
    view, issues = _check(manifest, fast=False)
    return ValidationReport(view.model if view is not None else None, issues)


def manifest_issues(manifest: Mapping[str, Any]) -> tuple[Issue, ...]:
    """The issues :func:`check_agent_manifest` reports for ``manifest``, the same ones.

    A manifest whose structure is plainly valid is read without building its pydantic
    model (nor importing pydantic): what ``viksa validate`` needs, started fast.
    """
    return _check(manifest, fast=True)[1]


def _check(manifest: object, *, fast: bool) -> tuple[ManifestView | None, tuple[Issue, ...]]:
    try:
        with gc_paused():
            view, issues = load_manifest(manifest, fast=fast)
            if view is not None:
                issues.extend(_run_rules(view))
    except (RecursionError, MemoryError):
        return None, (too_deep(),)
    return view, tuple(issues)


def validate_agent_manifest(
    manifest: Mapping[str, Any] | AgentGenerationResponse,
) -> AgentGenerationResponse:
    """Validate an agent manifest (``agent.json`` as a dict, or the model).

    Returns the parsed manifest when it has no errors (warnings do not fail it; see
    :func:`check_agent_manifest` to read them). Raises :class:`AgentValidationError`
    carrying every issue found, errors and warnings, otherwise. The code of main.py is
    read with ``ast`` and compile-checked, never imported or run.
    """
    view, issues = _check(manifest, fast=False)
    model = view.model if view is not None else None
    if model is None or any(issue.is_error for issue in issues):
        raise AgentValidationError(issues)
    return model


def _run_rules(view: ManifestView) -> list[Issue]:
    # The context holds main.py's tree; it is freed when this returns, while the
    # collector is still paused, so no collection ever walks the tree.
    return run_rules(RuleContext(view, parse_main(view)))
