"""``validate_agent_manifest`` at its 0.2 path, kept for 0.2 code.

``viksa_ai.devtools`` is its home now (``from viksa_ai.devtools import ...``).
"""

from viksa_ai.devtools.validate import AgentValidationError, validate_agent_manifest

__all__ = ["AgentValidationError", "validate_agent_manifest"]
