"""Viksa AI agent runtime (stdlib only): ``mcp_endpoint``, ``ViksaAuth``, A2A ``context()``.

The same API as the ``ViksaAI.py`` file the platform injects into every agent: that
file's text is ``to_module_source()``, the source of the one module implementing all
of this (``viksa_ai.runtime._viksa``). An agent may import either copy, or both.
"""

from viksa_ai.runtime._viksa import _A2A_PAYLOAD_KEY as _A2A_PAYLOAD_KEY
from viksa_ai.runtime._viksa import (
    A2A_PAYLOAD_KEY,
    A2A_TRACE_KEY,
    EndpointInfo,
    ViksaAuth,
    ViksaAuthError,
    ViksaEndpointWarning,
    attach_envelope,
    context,
    get_endpoint_info,
    mcp_endpoint,
    trace_context,
)
from viksa_ai.runtime._viksa import __version__ as __version__
from viksa_ai.runtime._viksa import _clean_carrier as _clean_carrier
from viksa_ai.runtime._viksa import _reset_envelope as _reset_envelope
from viksa_ai.runtime._viksa import _reset_trace_context as _reset_trace_context
from viksa_ai.runtime._viksa import _set_envelope as _set_envelope
from viksa_ai.runtime._viksa import _set_trace_context as _set_trace_context
from viksa_ai.runtime._viksa import _set_trace_provider as _set_trace_provider
from viksa_ai.runtime._viksa import _split_envelope as _split_envelope
from viksa_ai.runtime._viksa import _strip_envelope as _strip_envelope
from viksa_ai.runtime._viksa import _use_envelope as _use_envelope

__all__ = [
    "A2A_PAYLOAD_KEY",
    "A2A_TRACE_KEY",
    "A2AContext",
    "EndpointInfo",
    "ViksaAuth",
    "ViksaAuthError",
    "ViksaEndpointWarning",
    "attach_envelope",
    "context",
    "get_endpoint_info",
    "mcp_endpoint",
    "to_module_source",
    "trace_context",
]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from viksa_ai.runtime._viksa import A2AContext
    from viksa_ai.runtime.inject import to_module_source
else:
    # Loaded on first use, to keep `import viksa_ai.runtime` cheap: A2AContext is a
    # TypedDict (it imports typing), to_module_source is for platform services only.
    _LAZY = {"A2AContext": "_viksa", "to_module_source": "inject"}
    # viksa-ai 0.2 imported these with the package, so code reached them as attributes
    # (`viksa_ai.runtime.inject.to_module_source()`, as the 0.2 README names it).
    _SUBMODULES = frozenset({"a2a", "auth", "endpoints", "inject"})

    def __getattr__(name):
        from importlib import import_module

        if name in _SUBMODULES:
            return import_module(f"{__name__}.{name}")  # which sets the attribute
        submodule = _LAZY.get(name)
        if submodule is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = globals()[name] = getattr(import_module(f"{__name__}.{submodule}"), name)
        return value

    def __dir__():
        return sorted({*globals(), *_LAZY, *_SUBMODULES})
