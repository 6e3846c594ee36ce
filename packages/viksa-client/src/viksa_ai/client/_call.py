"""The description of one platform call, as the resources write it.

A resource method only says what to call: verb, service, path template and the ids to
put in it, query, body, how to read the answer. The pipeline does the rest.

The answer type of a call is the one its resource method declares (``-> AgentPage``):
``object_call`` and ``json_call`` are generic in their answer, so the type checker takes
it from the method's signature, and nothing converts or validates the dict at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Generic, NamedTuple, TypeVar

from viksa_ai.client._decode import as_json, as_object
from viksa_ai.client._paths import render_path

__all__ = [
    "AUTH",
    "BUILDER",
    "CHAT",
    "MARKETPLACE",
    "ORG",
    "PROJECT",
    "PULSE",
    "SCHEDULER",
    "WORKFLOW",
    "Call",
    "Service",
    "body_of",
    "json_call",
    "object_call",
    "query_of",
    "service_for_prefix",
]

T = TypeVar("T")


class Service(NamedTuple):
    """A platform service: its name (for errors and logs) and its gateway prefix."""

    name: str
    prefix: str


AUTH = Service("auth", "/auth")
ORG = Service("org", "/org")
PROJECT = Service("project", "/project")
BUILDER = Service("builder", "/builder")
CHAT = Service("chat", "/chat")
PULSE = Service("pulse", "/pulse")
WORKFLOW = Service("workflow", "/workflow")
SCHEDULER = Service("scheduler", "/scheduler")
MARKETPLACE = Service("marketplace", "/marketplace/api/v1/marketplace")


def service_for_prefix(prefix: str) -> Service:
    """The service of a caller-given prefix (for ``client.request``)."""
    cleaned = "/" + prefix.strip("/") if prefix.strip("/") else ""
    name = cleaned.strip("/").split("/")[0] or "platform"
    return Service(name, cleaned)


@dataclass(kw_only=True, slots=True)
class Call(Generic[T]):
    """One call: what to send and how to read the answer (``decode``). Never mutated.

    ``path`` is a template whose ``{}`` placeholders take ``segments``, each encoded as
    exactly one path segment. ``authenticated`` adds the credentials and tenant headers;
    ``adopts_tokens`` makes the client take the tokens of the answer, and ``switches_to``
    names the ``(org_id, project_id)`` a switch moves to (``None`` where it names none);
    ``secrets`` lists values of this call (a password, a secret) to scrub from errors and
    logs. ``decode_json``, when set, reads the answer's bytes in one step (a model's
    ``model_validate_json``); it must give what ``decode`` gives for the same answer, and
    any failure of it hands the answer to ``decode``, which says what is wrong.
    """

    method: str
    service: Service
    path: str
    decode: Callable[[Any], T]
    segments: tuple[str, ...] = ()
    # Out of the repr (tracebacks show it, error trackers keep it): a query or a body
    # may hold a secret, as `secrets` does.
    query: Mapping[str, Any] | None = field(default=None, repr=False)
    body: Any = field(default=None, repr=False)
    authenticated: bool = True
    adopts_tokens: bool = False
    switches_to: tuple[str | None, str | None] | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)
    raw_path: bool = False
    decode_json: Callable[[bytes], T] | None = field(default=None, repr=False)

    def target(self) -> str:
        """The path from the base URL, ids encoded, without ``query`` (a raw path is as
        the caller wrote it, with any query or fragment in it)."""
        path = self.path if self.raw_path else render_path(self.path, self.segments)
        return self.service.prefix + path

    def shown_target(self) -> str:
        """``target()`` fit for errors, logs and spans: a raw path's query and fragment
        (``/x?api_key=...``) cut off."""
        return _without_query(self.target())

    def __repr__(self) -> str:
        # The dataclass repr with a raw path shown as errors show it: the frames an error
        # passes hold the call (and the plan holding it), and error trackers show them.
        shown = {item.name: getattr(self, item.name) for item in fields(self) if item.repr}
        shown["path"] = _without_query(self.path)
        parts = ", ".join(f"{name}={value!r}" for name, value in shown.items())
        return f"{type(self).__name__}({parts})"


def _without_query(path: str) -> str:
    """``path`` up to any query or fragment."""
    return path.partition("?")[0].partition("#")[0]


def object_call(
    method: str,
    service: Service,
    path: str,
    *segments: str,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
    secrets: tuple[str, ...] = (),
) -> Call[T]:
    """A call whose answer is a JSON object (``{}`` when the body is empty).

    ``T`` is the answer type the caller declares (a ``TypedDict`` of viksa-models): the
    object is returned as decoded, a plain dict.
    """
    call: Call[Any] = Call(
        method=method,
        service=service,
        path=path,
        segments=segments,
        query=query,
        body=body,
        decode=as_object,
        secrets=secrets,
    )
    return call


def json_call(
    method: str,
    service: Service,
    path: str,
    *segments: str,
    query: Mapping[str, Any] | None = None,
    body: Any = None,
    secrets: tuple[str, ...] = (),
) -> Call[T]:
    """A call whose answer is any JSON value (``None`` when the body is empty).

    ``T`` is the answer type the caller declares (a ``TypedDict``, a list of them or
    ``JSONValue``); the value is returned as decoded.
    """
    call: Call[Any] = Call(
        method=method,
        service=service,
        path=path,
        segments=segments,
        query=query,
        body=body,
        decode=as_json,
        secrets=secrets,
    )
    return call


def query_of(**params: Any) -> dict[str, Any] | None:
    """Query parameters without the ``None`` ones (``None`` means "not sent")."""
    query = {name: value for name, value in params.items() if value is not None}
    return query or None


def body_of(**fields: Any) -> dict[str, Any]:
    """A JSON body without the ``None`` (optional, not given) fields."""
    return {name: value for name, value in fields.items() if value is not None}
