"""``ViksaAuth`` and ``ViksaAuthError`` where viksa-ai 0.2.x defined them.

Kept so that 0.2-era imports (``from viksa_ai.runtime.auth import ViksaAuth``) still
work; the package root ``viksa_ai.runtime`` is their home now: import from there. The
names are the package's own objects, and importing this module warns about nothing.
"""

from viksa_ai.runtime._viksa import ViksaAuth, ViksaAuthError

__all__ = ["ViksaAuth", "ViksaAuthError"]
