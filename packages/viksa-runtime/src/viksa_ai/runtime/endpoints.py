"""``mcp_endpoint`` where viksa-ai 0.2.x defined it.

Kept so that 0.2-era imports (``from viksa_ai.runtime.endpoints import mcp_endpoint``)
still work; the package root ``viksa_ai.runtime`` is its home now: import from there.
The name is the package's own object, and importing this module warns about nothing.
"""

from viksa_ai.runtime._viksa import mcp_endpoint

__all__ = ["mcp_endpoint"]
