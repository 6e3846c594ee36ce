"""Viksa AI developer tools: validate agents before deploying them, run them locally.

- :func:`validate_agent_manifest` raises :class:`AgentValidationError` listing every
  :class:`Issue` of an agent manifest (``agent.json`` with its ``main.py``);
  :func:`check_agent_manifest` returns them in a :class:`ValidationReport` instead.
- :func:`validate_a2a_envelope` lists the problems of an A2A call envelope;
  :func:`check_inputs` checks call inputs against an endpoint's declared inputs.

The validator is the subpackage :mod:`viksa_ai.devtools.validate`, the local runner
:mod:`viksa_ai.devtools.runner`, the local platform :mod:`viksa_ai.devtools.platform`
and the ``viksa`` command :mod:`viksa_ai.devtools.cli`.

Names are imported on first use (PEP 562), so ``import viksa_ai.devtools`` is cheap
and never imports httpx or pydantic.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viksa_ai.devtools.runner import (
        AgentWorker,
        AsyncAgentWorker,
        RunnerError,
        RunResult,
        arun_endpoint,
        run_endpoint,
    )
    from viksa_ai.devtools.validate import (
        ISSUE_CODES,
        AgentValidationError,
        Issue,
        Severity,
        ValidationReport,
        check_a2a_envelope,
        check_agent_manifest,
        check_inputs,
        validate_a2a_envelope,
        validate_agent_manifest,
    )

# Public name -> submodule (relative to this package) that defines it.
_EXPORTS: dict[str, str] = {
    # validation (the subpackage viksa_ai.devtools.validate)
    "AgentValidationError": ".validate",
    "ISSUE_CODES": ".validate",
    "Issue": ".validate",
    "Severity": ".validate",
    "ValidationReport": ".validate",
    "check_a2a_envelope": ".validate",
    "check_agent_manifest": ".validate",
    "check_inputs": ".validate",
    "validate_a2a_envelope": ".validate",
    "validate_agent_manifest": ".validate",
    # local runner (the full API, errors included, is in viksa_ai.devtools.runner)
    "AgentWorker": ".runner",
    "AsyncAgentWorker": ".runner",
    "RunResult": ".runner",
    "RunnerError": ".runner",
    "arun_endpoint": ".runner",
    "run_endpoint": ".runner",
}

__all__ = [
    "ISSUE_CODES",
    "AgentValidationError",
    "AgentWorker",
    "AsyncAgentWorker",
    "Issue",
    "RunResult",
    "RunnerError",
    "Severity",
    "ValidationReport",
    "arun_endpoint",
    "check_a2a_envelope",
    "check_agent_manifest",
    "check_inputs",
    "run_endpoint",
    "validate_a2a_envelope",
    "validate_agent_manifest",
]


# Hidden from type checkers: they see the imports above, so a misspelt name is an error.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(module, __name__), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
