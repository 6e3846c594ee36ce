"""``validate_a2a_envelope`` at its 0.2 path, kept for 0.2 code.

``viksa_ai.devtools`` is its home now (``from viksa_ai.devtools import ...``).
"""

from viksa_ai.devtools.validate import validate_a2a_envelope

__all__ = ["validate_a2a_envelope"]
