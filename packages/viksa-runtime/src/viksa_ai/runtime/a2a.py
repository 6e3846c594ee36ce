"""The A2A context names where viksa-ai 0.2.x defined them.

Kept so that 0.2-era imports (``from viksa_ai.runtime.a2a import context``) still work;
the package root ``viksa_ai.runtime`` is their home now: import from there. The names
are the package's own objects (``_strip_envelope`` keeps its 0.2 contract), and
importing this module warns about nothing. 0.2's module-level ``_A2A_ENVELOPE`` dict is
gone: the envelope is per call now, read it with ``context()``.
"""

from viksa_ai.runtime._viksa import _A2A_PAYLOAD_KEY as _A2A_PAYLOAD_KEY
from viksa_ai.runtime._viksa import A2A_PAYLOAD_KEY, attach_envelope, context
from viksa_ai.runtime._viksa import _set_envelope as _set_envelope
from viksa_ai.runtime._viksa import _strip_envelope as _strip_envelope

__all__ = ["A2A_PAYLOAD_KEY", "A2AContext", "attach_envelope", "context"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from viksa_ai.runtime._viksa import A2AContext
else:

    def __getattr__(name):
        # A2AContext is built on first use (it imports typing), as in the package root.
        if name == "A2AContext":
            from viksa_ai.runtime import _viksa

            value = globals()[name] = _viksa.A2AContext
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__():
        return sorted({*globals(), "A2AContext"})
