"""Viksa AI agent runtime: ``mcp_endpoint``, ``ViksaAuth`` and the A2A call context.

This one file is the whole runtime. The ``viksa-runtime`` distribution ships it as
``viksa_ai.runtime._viksa`` and re-exports its names from ``viksa_ai.runtime``; the
platform writes the very same text as ``ViksaAI.py`` next to every agent (see
``viksa_ai.runtime.to_module_source``). So it uses the standard library only, never
imports a package of its own, and does little work at import time: ``typing`` is
loaded only when ``A2AContext`` is first used.

An agent may import both copies (``ViksaAI`` and ``viksa_ai.runtime``). They share one
state object registered in ``sys.modules``: the ContextVar holding the call's A2A
envelope, and the classes whose identity matters (``ViksaAuthError`` for ``except``,
``ViksaEndpointWarning`` for warning filters, ``EndpointInfo`` for ``isinstance``).
Whichever copy is imported first creates it.
"""

import os
import sys

try:  # contextvars only re-exports _contextvars: importing it directly is cheaper
    from _contextvars import ContextVar
except ImportError:  # pragma: no cover - Python implementations without it
    from contextvars import ContextVar

# typing.TYPE_CHECKING without importing typing, and no `from __future__ import
# annotations` (one more import): annotations naming typing-only names are quoted.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping
    from contextvars import Token
    from types import ModuleType
    from typing import Any, Final, TypedDict, TypeVar

    _F = TypeVar("_F", bound=Callable[..., Coroutine[Any, Any, Any]])
    _T = TypeVar("_T")

__version__ = "0.3.0"

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
    "trace_context",
]
# 0.2's ViksaAI.py had no __all__: `from ViksaAI import *` also gave what it imported,
# which agents written for it may use without importing them. The injected copy still
# gives them (typing's loaded by such an import only); viksa_ai.runtime does not.
_STAR_0_2 = ("Callable", "Dict", "List", "Optional")
if __name__ != "viksa_ai.runtime._viksa":
    __all__ += ["os", *_STAR_0_2]

# Bump the suffix only when a shared object changes meaning. A new shared object is
# added under the same key: a copy adds what the state it finds lacks, so copies of
# different versions (a worker's viksa-runtime and an older or newer injected
# ViksaAI.py) still share the envelope; a bumped key would split it silently.
_SHARED_STATE_KEY = "_viksa_ai_runtime_state_v3"

# Tracebacks and pickles name the public module, not this private file.
_PUBLIC_MODULE = "viksa_ai.runtime" if __name__ == "viksa_ai.runtime._viksa" else __name__


class ViksaAuthError(RuntimeError):
    """An auth method or param the agent needs is not configured.

    The message names the method and the param and says what to configure; it never
    holds a param's value. ``method_id``, ``param_name`` and ``candidates`` carry the
    same facts for code. Every copy of the runtime raises this one class.
    """

    __module__ = _PUBLIC_MODULE

    method_id: str | None
    param_name: str | None
    candidates: tuple[str, ...]

    def __init__(
        self,
        message: str,
        *,
        method_id: str | None = None,
        param_name: str | None = None,
        candidates: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.method_id = method_id
        self.param_name = param_name
        self.candidates = candidates


class ViksaEndpointWarning(UserWarning):
    """An ``@mcp_endpoint`` use the platform cannot serve as written; emitted at decoration.

    viksa-ai 0.2 accepted these uses silently, so the runtime keeps the function working
    and only warns; the message says what to fix. Every copy of the runtime warns with
    this one class.
    """

    __module__ = _PUBLIC_MODULE


class EndpointInfo:
    """What ``@mcp_endpoint`` records on a function, under ``__viksa_endpoint__``.

    Immutable: ``name`` is the function's ``__name__``, ``description`` the text given
    to the decorator. Read it with ``get_endpoint_info(function)``.
    """

    __module__ = _PUBLIC_MODULE
    __slots__ = ("description", "name")

    name: str
    description: str

    def __init__(self, name: str, description: str) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "description", description)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"EndpointInfo is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"EndpointInfo is immutable: cannot delete {name!r}")

    def __repr__(self) -> str:
        return f"EndpointInfo(name={self.name!r}, description={self.description!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EndpointInfo):
            return NotImplemented
        return (self.name, self.description) == (other.name, other.description)

    def __hash__(self) -> int:
        return hash((self.name, self.description))

    def __reduce__(self) -> "tuple[type[EndpointInfo], tuple[str, str]]":
        # The default reduce would restore the slots through the blocked __setattr__.
        return (type(self), (self.name, self.description))


def _shared_state() -> "ModuleType":
    state = sys.modules.get(_SHARED_STATE_KEY)
    if state is None:
        fresh = type(sys)(_SHARED_STATE_KEY, "State shared by every copy of the Viksa AI runtime.")
        # setdefault is atomic: two copies imported at once by two threads agree on one.
        state = sys.modules.setdefault(_SHARED_STATE_KEY, fresh)
    shared = vars(state)
    # What a copy of another version made is kept; what it lacks is added, once.
    for name, value in (
        ("envelope", ContextVar("viksa_a2a_envelope", default=None)),
        ("trace", ContextVar("viksa_trace_context", default=None)),
        # [callable or None]: the current span's carrier, set by tracing-aware code.
        ("trace_provider", [None]),
        ("ViksaAuthError", ViksaAuthError),
        ("ViksaEndpointWarning", ViksaEndpointWarning),
        ("EndpointInfo", EndpointInfo),
    ):
        shared.setdefault(name, value)
    return state


_shared = _shared_state()
_ENVELOPE: "ContextVar[dict[str, Any] | None]" = _shared.envelope
_TRACE: "ContextVar[dict[str, str] | None]" = _shared.trace
_TRACE_PROVIDER: "list[Callable[[], Mapping[str, str] | None] | None]" = _shared.trace_provider
if not TYPE_CHECKING:
    ViksaAuthError = _shared.ViksaAuthError
    ViksaEndpointWarning = _shared.ViksaEndpointWarning
    EndpointInfo = _shared.EndpointInfo
del _shared


# --- mcp_endpoint ----------------------------------------------------------------------

_ENDPOINT_ATTRIBUTE = "__viksa_endpoint__"
_CO_COROUTINE = 0x80  # inspect.CO_COROUTINE, without importing inspect
_CO_ASYNC_GENERATOR = 0x200  # inspect.CO_ASYNC_GENERATOR


def mcp_endpoint(description: str) -> "Callable[[_F], _F]":
    """Mark an ``async def`` function as an agent endpoint.

    The decorator returns the function itself (same object, name and signature) after
    recording ``EndpointInfo(name, description)`` on it as ``__viksa_endpoint__``; read
    it with ``get_endpoint_info``. The platform routes calls by the manifest's
    ``agent_endpoints``, not by this metadata.

    Uses that viksa-ai 0.2 accepted still work, with a ``ViksaEndpointWarning`` at
    decoration time saying what to fix: a blank or non-string description (a non-string
    one is recorded as ``""``), a function that is not ``async def`` (nor a
    ``functools.wraps`` wrapper of one), the bare ``@mcp_endpoint`` (the function is
    returned marked, with description ``""``), and an object that cannot carry the
    metadata (returned unmarked).

    Raises:
        TypeError: ``mcp_endpoint()`` is called without a description (as in 0.2).
    """
    given: object = description  # typed str for callers; any value reaches here
    if callable(given) and not isinstance(given, str):
        # The bare @mcp_endpoint: 0.2 bound the name to the inner decorator, which broke
        # the endpoint; marking the function itself makes it work.
        bare: Any = given
        _warn(
            f"@mcp_endpoint on {_label(bare)} is used without parentheses, so the endpoint "
            'has no description: write @mcp_endpoint(description="What it does")',
            2,
        )
        # Not a decorator but the marked function: typed as one only for the checker.
        marked: Callable[[_F], _F] = _mark(bare, "")
        return marked

    def decorate(function: "_F") -> "_F":
        if not isinstance(given, str):
            _warn(
                f"@mcp_endpoint description of {_label(function)} must be a str, got "
                f"{type(given).__name__}, so the endpoint has no description: write "
                '@mcp_endpoint(description="What it does")',
                2,
            )
            return _mark(function, "")
        if not description.strip():
            _warn(
                f"@mcp_endpoint description of {_label(function)} is blank: say what the "
                'endpoint does, e.g. @mcp_endpoint(description="Get flights between two '
                'airports")',
                2,
            )
        return _mark(function, description)

    return decorate


def _mark(function: "_T", description: str) -> "_T":
    """Record the metadata on ``function`` and return it; warn where it cannot serve.

    Called by ``mcp_endpoint`` or its decorator, straight from the decorated module.
    """
    name = getattr(function, "__name__", None)
    if not isinstance(name, str):
        _warn(
            f"@mcp_endpoint decorates a named 'async def' function, got "
            f"{type(function).__name__}: it is left unmarked and the platform cannot "
            "call it as an endpoint",
            3,
        )
        return function
    if not _is_async_function(function):  # type: ignore[arg-type]
        flags = getattr(getattr(function, "__code__", None), "co_flags", 0)
        fix = (
            "return its result instead of yielding it (an 'async def' that yields is an "
            "async generator)"
            if flags & _CO_ASYNC_GENERATOR
            else f"define {name!r} with 'async def'"
        )
        _warn(
            f"@mcp_endpoint on {name!r}: the platform worker awaits every endpoint and "
            f"cannot await this one: {fix}",
            3,
        )
    try:
        setattr(function, _ENDPOINT_ATTRIBUTE, EndpointInfo(name, description))
    except (AttributeError, TypeError):  # TypeError: a built-in (immutable) type
        _warn(
            f"@mcp_endpoint cannot record its metadata on {name!r} "
            f"({type(function).__name__}): decorate a plain 'async def' function",
            3,
        )
    return function


def _label(function: object) -> str:
    name = getattr(function, "__name__", None)
    return repr(name) if isinstance(name, str) else f"a {type(function).__name__}"


def _warn(message: str, stacklevel: int) -> None:
    """Warn as ``warnings.warn(..., stacklevel)`` would from the caller of ``_warn``.

    Callers count the frames up to the decorated module's line, the one to fix: 2 from
    ``mcp_endpoint`` or its decorator, 3 from ``_mark``.
    """
    # Imported here: only a use that needs fixing pays for it.
    import warnings

    warnings.warn(message, ViksaEndpointWarning, stacklevel=stacklevel + 1)


def _is_async_function(function: "Callable[..., object]") -> bool:
    code = getattr(function, "__code__", None)
    if getattr(code, "co_flags", 0) & _CO_COROUTINE:
        return True
    # Rare shapes and the error path only, so inspect is not imported for every endpoint.
    # A plain wrapper made with functools.wraps around an `async def` returns its
    # coroutine, which the platform awaits: it is an endpoint too.
    import inspect

    try:
        unwrapped = inspect.unwrap(function)
    except ValueError:  # a __wrapped__ cycle: judge the object itself
        unwrapped = function
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(unwrapped)


def get_endpoint_info(function: object) -> "EndpointInfo | None":
    """Return what ``@mcp_endpoint`` recorded on ``function``, or None if undecorated."""
    info = getattr(function, _ENDPOINT_ATTRIBUTE, None)
    return info if isinstance(info, EndpointInfo) else None


# --- ViksaAuth -------------------------------------------------------------------------


class ViksaAuth:
    """Auth configuration the platform injects into the agent's environment at deploy.

    Every method reads ``os.environ`` when called:

    - ``{method_id}.{param_name}``: a resolved param or secret, e.g. ``bearer_token.api_key``;
    - ``VIKSA_AUTH_ENABLED_METHODS``: comma-separated ids of methods whose params all
      resolved;
    - ``VIKSA_AUTH_CONFIGURED_METHODS``: comma-separated ids of every method declared on
      the agent, complete or not.

    Method id lists ignore blanks and whitespace around ids, drop repeats and keep order.
    As in viksa-ai 0.2, the lookups take any value: a method id or param name that is not
    a str names nothing, so it reads as not set (None, False or ``{}``).
    """

    __module__ = _PUBLIC_MODULE
    __slots__ = ()

    ENABLED_METHODS_ENV: "Final" = "VIKSA_AUTH_ENABLED_METHODS"
    CONFIGURED_METHODS_ENV: "Final" = "VIKSA_AUTH_CONFIGURED_METHODS"

    @staticmethod
    def param_env_name(method_id: str, param_name: str) -> str:
        """Return the environment variable holding a param: ``{method_id}.{param_name}``.

        Raises:
            TypeError: an id is not a str. ValueError: an id is empty.
        """
        return f"{_check_id(method_id, 'method_id')}.{_check_id(param_name, 'param_name')}"

    @classmethod
    def get_configured_methods(cls) -> list[str]:
        """Return the ids of every auth method declared on this agent, in order."""
        return _method_ids(cls.CONFIGURED_METHODS_ENV)

    @classmethod
    def is_method_configured(cls, method_id: "str | None") -> bool:
        """Return whether ``method_id`` is declared on this agent (False for a non-str)."""
        # Like 0.2.x, a plain membership test: None or "" is simply not declared.
        return isinstance(method_id, str) and method_id in cls.get_configured_methods()

    @classmethod
    def get_enabled_methods(cls) -> list[str]:
        """Return the ids of the auth methods whose params all resolved, in order."""
        return _method_ids(cls.ENABLED_METHODS_ENV)

    @classmethod
    def is_method_enabled(cls, method_id: "str | None") -> bool:
        """Return whether ``method_id`` is in the enabled set (False for a non-str)."""
        return isinstance(method_id, str) and method_id in cls.get_enabled_methods()

    @classmethod
    def get_param(cls, method_id: str, param_name: str) -> str | None:
        """Return the value of one param (possibly empty), or None when it is not set."""
        if not _all_str(method_id, param_name):
            return None
        try:
            return os.environ.get(f"{method_id}.{param_name}")
        except UnicodeEncodeError:  # a lone surrogate: no variable has such a name
            return None

    @classmethod
    def require_param(cls, method_id: str, param_name: str) -> str:
        """Return the value of one param (possibly empty, as ``get_param``).

        Raises:
            ViksaAuthError: the param is not set; the message says why (method not
                declared, declared but not enabled, or no such param) and what to
                configure. It never contains a value.
        """
        value = cls.get_param(method_id, param_name)
        if value is not None:
            return value
        raise ViksaAuthError(
            cls._missing_param_message(method_id, param_name),
            method_id=method_id if _all_str(method_id) else None,
            param_name=param_name if _all_str(param_name) else None,
        )

    @classmethod
    def get_method_params(cls, method_id: str) -> dict[str, str]:
        """Return every ``{method_id}.{param}`` variable as ``{param: value}``.

        Names with a further dot belong to another method id and are left out.
        """
        params: dict[str, str] = {}
        if not _all_str(method_id):
            return params
        prefix = f"{method_id}."
        # Names first, then each value: another thread may unset a variable in between,
        # which items() would turn into a KeyError.
        for key in list(os.environ):
            if not key.startswith(prefix):
                continue
            param = key[len(prefix) :]
            value = os.environ.get(key)
            if param and "." not in param and value is not None:
                params[param] = value
        return params

    @classmethod
    def preferred_method(cls, *candidates: str) -> str | None:
        """Return the first of ``candidates`` that is enabled, or None (also with none)."""
        enabled = cls.get_enabled_methods()
        return next((candidate for candidate in candidates if candidate in enabled), None)

    @classmethod
    def require_method(cls, *candidates: str) -> str:
        """Return the first of ``candidates`` that is enabled (any, with no candidates).

        Raises:
            ViksaAuthError: none is enabled; the message names the candidates and the
                enabled set.
        """
        enabled_ids = cls.get_enabled_methods()
        if not candidates and enabled_ids:
            return enabled_ids[0]
        chosen = cls.preferred_method(*candidates)
        if chosen is not None:
            return chosen
        enabled = _describe_ids(enabled_ids)
        if candidates:
            message = (
                f"None of the auth methods {_describe_ids(candidates)} is enabled for this "
                f"agent (enabled: {enabled}). Configure one of them with all of its params "
                "in the agent's auth settings and redeploy."
            )
        else:
            message = (
                "No auth method is enabled for this agent. Configure an auth method with "
                "all of its params in the agent's auth settings and redeploy."
            )
        raise ViksaAuthError(message, candidates=tuple(candidates))

    @classmethod
    def _missing_param_message(cls, method_id: str, param_name: str) -> str:
        if not _all_str(method_id, param_name):
            return (
                f"Auth method id and param name must be str, got {type(method_id).__name__} "
                f"and {type(param_name).__name__}: pass the ids from the agent's auth settings, "
                'e.g. ViksaAuth.require_param("bearer_token", "api_key")'
            )
        variable = f"{method_id}.{param_name}"
        head = (
            f"Auth param {param_name!r} of method {method_id!r} is not set "
            f"(environment variable {variable!r})."
        )
        if cls.is_method_enabled(method_id):
            advice = (
                f"The method is enabled but has no such param: check the name, or add "
                f"{param_name!r} to the {method_id!r} auth method and redeploy."
            )
        elif cls.is_method_configured(method_id):
            advice = (
                "The method is declared on the agent but not enabled: some of its params "
                f"did not resolve at deploy time. Set {param_name!r} (a value or a vault "
                f"secret) in the {method_id!r} auth settings and redeploy."
            )
        else:
            advice = (
                f"The agent does not declare auth method {method_id!r} (declared: "
                f"{_describe_ids(cls.get_configured_methods())}). Add it with its "
                f"{param_name!r} param to the agent's auth settings and redeploy."
            )
        return f"{head} {advice}"


def _method_ids(variable: str) -> list[str]:
    raw = os.environ.get(variable, "")
    return list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


def _all_str(*values: object) -> bool:
    # Ids are typed str, but 0.2 took any value (a non-str one names nothing): checking
    # through this function keeps the type checker from calling the check redundant.
    return all(isinstance(value, str) for value in values)


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{what} must not be empty")
    return value


def _describe_ids(ids: list[str] | tuple[str, ...]) -> str:
    # A candidate that is not a str (0.2 took any value) is named by its type alone: its
    # repr is agent code, and may hold anything, a param's value included.
    described = (repr(item) if _all_str(item) else f"a {type(item).__name__}" for item in ids)
    return ", ".join(described) if ids else "none"


# --- A2A context -----------------------------------------------------------------------

A2A_PAYLOAD_KEY = "__viksa_a2a__"
"""The reserved key that carries the A2A envelope in an endpoint's inputs."""

# The 0.2.x name of the key: that version's ViksaAI.py and viksa_ai.runtime exported it.
_A2A_PAYLOAD_KEY = A2A_PAYLOAD_KEY

if TYPE_CHECKING:

    class A2AContext(TypedDict, total=False):
        """The A2A envelope of the current call, as ``context()`` returns it.

        Every key is optional; the platform may send others.
        """

        protocol_version: int
        run_id: str
        parent_step_id: str
        caller_agent: str
        callee_agent: str
        endpoint: str
        idempotency_key: str
        deadline_at: str
        metadata: dict[str, Any]
        trace_context: dict[str, str]


A2A_TRACE_KEY = "trace_context"
"""The envelope key carrying the W3C trace context: ``{"traceparent": ..., "tracestate": ...}``.

``attach_envelope`` fills it from ``trace_context()`` so that an agent calling another
agent continues the same trace; the callee's runner restores it as the parent span.
"""

# W3C Trace Context: traceparent is "00-<32 hex>-<16 hex>-<2 hex>" (55 characters); a
# tracestate longer than this is dropped whole rather than cut (the spec allows dropping).
_TRACEPARENT_LENGTH = 55
_TRACEPARENT_MAX = 512  # a later version's, with fields of its own
_TRACESTATE_MAX = 512
_TRACESTATE_MEMBERS = 32
_HEX = frozenset("0123456789abcdef")
# tracestate keys and values (W3C Trace Context): a key is lowercase letters, digits and
# "_-*/" (a tenant@system key too); a value is printable ASCII but "," and "=", and
# does not end with a space. Sets, not a regex: the runtime does not import re.
_KEY_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz")
_KEY_CHARS = _KEY_FIRST | frozenset("0123456789_-*/")
_VALUE_CHARS = frozenset(chr(code) for code in range(0x20, 0x7F)) - frozenset(",=")


def attach_envelope(inputs: "Mapping[str, Any]", envelope: "Mapping[str, Any]") -> "dict[str, Any]":
    """Return a copy of ``inputs`` carrying ``envelope`` under ``A2A_PAYLOAD_KEY``.

    Neither argument is mutated; the envelope is copied (nested dicts and lists too),
    and an envelope already in ``inputs`` is replaced. When a trace is current
    (``trace_context()`` is not empty) and ``envelope`` has no ``A2A_TRACE_KEY``, the
    copy carries it there, so the called agent continues the caller's trace.

    Raises:
        TypeError: ``inputs`` or ``envelope`` is not a mapping.
    """
    _require_mapping(inputs, "attach_envelope() inputs")
    _require_mapping(envelope, "attach_envelope() envelope")
    attached = dict(inputs)
    copied = _copy_data(dict(envelope))
    if A2A_TRACE_KEY not in copied:
        carrier = trace_context()
        if carrier:
            copied[A2A_TRACE_KEY] = carrier
    attached[A2A_PAYLOAD_KEY] = copied
    return attached


def trace_context() -> "dict[str, str]":
    """Return the current W3C trace context as ``{"traceparent": ..., "tracestate": ...}``.

    The current span's context when tracing code has registered a provider (the local
    runner does so in a worker with opentelemetry installed), else the one the worker
    gave this call, else the one in the call's A2A envelope; ``{}`` without a trace.
    ``tracestate`` is present only when not empty. Send these strings as HTTP headers
    of the same names to continue the trace over any protocol.
    """
    provider = _TRACE_PROVIDER[0]
    if provider is not None:
        try:
            carrier = _clean_carrier(provider())
        except Exception:  # tracing must never break the agent's call
            carrier = None
        if carrier:
            return carrier
    carrier = _TRACE.get()
    if carrier is None:
        envelope = _ENVELOPE.get()
        if envelope is not None:
            carrier = _clean_carrier(envelope.get(A2A_TRACE_KEY))
    return dict(carrier) if carrier else {}


def _set_trace_context(carrier: "Mapping[str, str] | None") -> "Token[dict[str, str] | None]":
    """Worker hook: make ``carrier`` (W3C strings) the current call's trace context.

    An invalid carrier counts as none. Pass the token to ``_reset_trace_context``.
    """
    return _TRACE.set(_clean_carrier(carrier))


def _reset_trace_context(token: "Token[dict[str, str] | None]") -> None:
    """Worker hook: restore the trace context current before ``_set_trace_context``."""
    _TRACE.reset(token)


def _set_trace_provider(provider: "Callable[[], Mapping[str, str] | None] | None") -> None:
    """Tracing hook: ``trace_context()`` asks ``provider`` first (None removes it).

    Set once per process by code that has opentelemetry: it returns the current span's
    carrier, so an envelope attached inside an agent's own span names that span.
    """
    _TRACE_PROVIDER[0] = provider


def _clean_carrier(carrier: object) -> "dict[str, str] | None":
    """Tracing hook: the W3C strings of ``carrier`` when its traceparent is well formed.

    None otherwise; a tracestate that is not W3C's is left out alone. Tracing code
    passes a carrier from the wire through this before an OpenTelemetry propagator,
    which would log what it cannot parse.
    """
    # Only well-formed W3C strings pass: the carrier comes from the wire, and a value
    # that is not one must not reach a tracer or the next agent.
    if not isinstance(carrier, dict) and not (
        callable(getattr(carrier, "get", None)) and hasattr(carrier, "keys")
    ):
        return None
    traceparent = _traceparent(carrier.get("traceparent"))  # type: ignore[attr-defined]
    if traceparent is None:
        return None
    cleaned = {"traceparent": traceparent}
    tracestate = carrier.get("tracestate")  # type: ignore[attr-defined]
    if _is_tracestate(tracestate):
        cleaned["tracestate"] = tracestate
    return cleaned


def _is_tracestate(value: object) -> bool:
    # The whole header or nothing: W3C lets a receiver drop a tracestate it cannot
    # parse, and a malformed one must not reach a tracer (which logs it) or a next agent.
    if not isinstance(value, str) or not 0 < len(value) <= _TRACESTATE_MAX:
        return False
    keys: set[str] = set()
    for member in value.split(","):
        member = member.strip(" \t")
        if not member:  # empty members are allowed
            continue
        key, equals, state = member.partition("=")
        if not equals or key in keys or not _is_tracestate_key(key):
            return False
        if not 0 < len(state) <= 256 or not _VALUE_CHARS.issuperset(state):
            return False
        keys.add(key)
    return 0 < len(keys) <= _TRACESTATE_MEMBERS


def _is_tracestate_key(key: str) -> bool:
    tenant, at, system = key.partition("@")
    if not at:
        return 0 < len(key) <= 256 and key[0] in _KEY_FIRST and _KEY_CHARS.issuperset(key)
    return (
        0 < len(tenant) <= 241
        and _KEY_CHARS.issuperset(tenant)
        and tenant[0] not in "_-*/"
        and 0 < len(system) <= 14
        and system[0] in _KEY_FIRST
        and _KEY_CHARS.issuperset(system)
    )


def _traceparent(value: object) -> "str | None":
    # W3C: version 00 is exactly 55 characters. A later version may append fields
    # ("-..."): its first 55 characters are read as version 00's and passed on as 00,
    # as the spec asks of a receiver that knows an older version only.
    if not isinstance(value, str) or len(value) < _TRACEPARENT_LENGTH:
        return None
    head, tail = value[:_TRACEPARENT_LENGTH], value[_TRACEPARENT_LENGTH:]
    version = head[:2]
    if tail and (
        version == "00"
        or tail[0] != "-"
        or len(value) > _TRACEPARENT_MAX
        or not (tail.isascii() and tail.isprintable())
    ):
        return None
    parts = head.split("-")
    if [len(part) for part in parts] != [2, 32, 16, 2] or not _HEX.issuperset("".join(parts)):
        return None
    # Version ff and all-zero ids are invalid in every version of the spec.
    if version == "ff" or parts[1] == "0" * 32 or parts[2] == "0" * 16:
        return None
    return head if version == "00" else "00" + head[2:]


def context() -> "A2AContext":
    """Return a copy of the current call's A2A envelope, or ``{}`` outside an A2A call.

    Each asyncio task and each thread sees the envelope of its own call only.
    """
    envelope = _ENVELOPE.get()
    copied: A2AContext = {} if envelope is None else _copy_data(envelope)
    return copied


def _split_envelope(
    inputs: "Mapping[str, Any]",
) -> "tuple[dict[str, Any], A2AContext | None]":
    """Worker hook: split ``inputs`` into ``(inputs without the envelope, envelope)``.

    Returns a new dict (``inputs`` is not mutated) and a copy of the envelope, or None
    when the key is absent or holds None. Install the envelope with ``_set_envelope``.

    Raises:
        TypeError: ``inputs`` is not a mapping, or the envelope is neither a mapping
            nor None.
    """
    _require_mapping(inputs, "_split_envelope() inputs")
    # dict() reads any mapping _require_mapping lets through, even one without items().
    rest = dict(inputs)
    envelope = _take_envelope(rest)
    return rest, envelope


def _strip_envelope(inputs: "_T") -> "_T":
    """Worker hook of 0.2.x: remove the envelope from ``inputs`` and make it current.

    Pops ``A2A_PAYLOAD_KEY`` from a dict ``inputs`` (in place) and returns that same
    dict, after ``_set_envelope`` with the envelope, or with None when there is none, so
    a call never sees the previous call's envelope. Anything but a dict is returned
    unchanged (and the envelope cleared). The envelope stays set in the current context
    until the next call of this hook; new code uses ``_split_envelope`` and
    ``_use_envelope`` instead.

    Raises:
        TypeError: the envelope is neither a mapping nor None (``inputs`` is left as
            is, and no envelope is current).
    """
    # Cleared first, so that not even a failed call leaves the previous envelope behind.
    _set_envelope(None)
    if isinstance(inputs, dict):
        envelope = _take_envelope(inputs)
        if envelope is not None:
            _set_envelope(envelope)
    return inputs


def _take_envelope(inputs: "dict[str, Any]") -> "A2AContext | None":
    # Checked before the pop, so a malformed envelope leaves the inputs untouched.
    raw = inputs.get(A2A_PAYLOAD_KEY)
    if raw is not None:
        _require_mapping(raw, f"inputs[{A2A_PAYLOAD_KEY!r}] (the A2A envelope)", allow_none=True)
    inputs.pop(A2A_PAYLOAD_KEY, None)
    if raw is None:
        return None
    envelope: A2AContext = _copy_data(dict(raw))
    return envelope


def _set_envelope(envelope: "Mapping[str, Any] | None") -> "Token[dict[str, Any] | None]":
    """Worker hook: make a copy of ``envelope`` the current call's (None: no envelope).

    The change is confined to the current context (asyncio task or thread). Pass the
    returned token to ``_reset_envelope`` in the same context when the call ends.

    Raises:
        TypeError: ``envelope`` is neither a mapping nor None.
    """
    if envelope is None:
        return _ENVELOPE.set(None)
    _require_mapping(envelope, "_set_envelope() envelope", allow_none=True)
    return _ENVELOPE.set(_copy_data(dict(envelope)))


def _reset_envelope(token: "Token[dict[str, Any] | None]") -> None:
    """Worker hook: restore the envelope that was current before ``_set_envelope``."""
    _ENVELOPE.reset(token)


class _EnvelopeScope:
    """``with _use_envelope(envelope):`` sets the envelope and restores it on exit."""

    __slots__ = ("_envelope", "_tokens")

    def __init__(self, envelope: "Mapping[str, Any] | None") -> None:
        self._envelope = envelope
        self._tokens: list[Token[dict[str, Any] | None]] = []

    def __enter__(self) -> "A2AContext":
        self._tokens.append(_set_envelope(self._envelope))
        return context()

    def __exit__(self, *exc_info: object) -> None:
        _reset_envelope(self._tokens.pop())


def _use_envelope(envelope: "Mapping[str, Any] | None") -> "_EnvelopeScope":
    """Worker hook: a context manager running its block with ``envelope`` as current.

    ``with _use_envelope(envelope) as ctx:`` is ``_set_envelope`` on entry (``ctx`` is
    ``context()``) and ``_reset_envelope`` on exit. Use it within one task or thread.
    """
    return _EnvelopeScope(envelope)


def _require_mapping(value: object, what: str, *, allow_none: bool = False) -> None:
    if isinstance(value, dict) or (
        callable(getattr(value, "keys", None)) and hasattr(value, "__getitem__")
    ):
        return
    expected = "a mapping or None" if allow_none else "a mapping"
    raise TypeError(f"{what} must be {expected}, got {type(value).__name__}")


def _copy_data(value: "Any") -> "Any":
    # Envelopes are JSON data: copying nested dicts and lists keeps concurrent calls
    # and callers from sharing mutable state.
    try:
        return _copy_nested(value)
    except RecursionError:
        # Nested deeper than the stack allows here (a JSON parser lets about 1,000
        # levels through, and a worker calls this from deep in its own stack), or
        # holding itself: copied without recursion.
        return _copy_without_recursion(value)


def _copy_nested(value: "Any") -> "Any":
    if isinstance(value, dict):
        return {key: _copy_nested(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_nested(item) for item in value]
    return value


def _copy_without_recursion(value: "Any") -> "Any":
    """``_copy_nested`` for any depth: a container met twice (a cycle) is copied once."""
    if not isinstance(value, (dict, list)):
        return value
    root: Any = {} if isinstance(value, dict) else []
    copies = {id(value): root}
    pending = [(value, root)]
    while pending:
        source, target = pending.pop()
        for key, item in source.items() if isinstance(source, dict) else enumerate(source):
            copied = item
            if isinstance(item, (dict, list)):
                copied = copies.get(id(item))
                if copied is None:
                    copied = copies[id(item)] = {} if isinstance(item, dict) else []
                    pending.append((item, copied))
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


if not TYPE_CHECKING:

    def _build_a2a_context():
        # Deferred: importing typing costs more than the rest of this module.
        from typing import Any, TypedDict

        fields = {
            "protocol_version": int,
            "run_id": str,
            "parent_step_id": str,
            "caller_agent": str,
            "callee_agent": str,
            "endpoint": str,
            "idempotency_key": str,
            "deadline_at": str,
            "metadata": dict[str, Any],
            "trace_context": dict[str, str],
        }
        a2a_context = TypedDict("A2AContext", fields, total=False)
        a2a_context.__module__ = _PUBLIC_MODULE
        a2a_context.__doc__ = "The A2A envelope of the current call, as context() returns it."
        return a2a_context

    def __getattr__(name):
        if name == "A2AContext":
            value = globals()["A2AContext"] = _build_a2a_context()
            return value
        if name in _STAR_0_2 and name in __all__:
            import typing

            value = globals()[name] = getattr(typing, name)
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__():
        return sorted({*globals(), *__all__})
