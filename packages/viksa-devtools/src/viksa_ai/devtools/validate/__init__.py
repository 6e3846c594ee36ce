"""Validating agents before they are deployed: manifests, their code, call inputs, envelopes.

The validator of :mod:`viksa_ai.devtools`, whose top level re-exports every name here
(``from viksa_ai.devtools import validate_agent_manifest`` is the usual spelling):

- :func:`validate_agent_manifest` raises :class:`AgentValidationError` listing every
  :class:`Issue` of an agent manifest (``agent.json`` with its ``main.py``);
  :func:`check_agent_manifest` returns them in a :class:`ValidationReport` instead.
- :func:`validate_a2a_envelope` lists the problems of an A2A call envelope;
  :func:`check_inputs` checks call inputs against an endpoint's declared inputs.
- :data:`ISSUE_CODES` lists every issue code with its meaning.

Names are imported on first use (PEP 562): the runner imports helpers from this
package on every load, and must not pay for pydantic unless it uses it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from viksa_ai.devtools.validate._codes import ISSUE_CODES
    from viksa_ai.devtools.validate._envelope import check_a2a_envelope, validate_a2a_envelope
    from viksa_ai.devtools.validate._inputs import check_inputs
    from viksa_ai.devtools.validate._issues import AgentValidationError, Issue, Severity
    from viksa_ai.devtools.validate._validate import (
        ValidationReport,
        check_agent_manifest,
        validate_agent_manifest,
    )

# Public name -> private module (relative to this package) that defines it.
_EXPORTS: dict[str, str] = {
    "AgentValidationError": "._issues",
    "ISSUE_CODES": "._codes",
    "Issue": "._issues",
    "Severity": "._issues",
    "ValidationReport": "._validate",
    "check_a2a_envelope": "._envelope",
    "check_agent_manifest": "._validate",
    "check_inputs": "._inputs",
    "validate_a2a_envelope": "._envelope",
    "validate_agent_manifest": "._validate",
}

__all__ = [
    "ISSUE_CODES",
    "AgentValidationError",
    "Issue",
    "Severity",
    "ValidationReport",
    "check_a2a_envelope",
    "check_agent_manifest",
    "check_inputs",
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
