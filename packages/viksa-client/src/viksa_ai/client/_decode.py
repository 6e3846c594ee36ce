"""Readers of answers: JSON values, JSON objects and the typed models.

The models are imported on first use, so importing the client does not build them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from viksa_ai.client._errors import ViksaDecodeError

if TYPE_CHECKING:
    from viksa_ai.client._sse import ServerSentEvent
    from viksa_ai.models.agent import AgentGenerationResponse
    from viksa_ai.models.auth import KeyValidationResponse, TokenResponse, UserResponse
    from viksa_ai.models.executor import AgentInvokeResponse, EndpointExecutionResponse

__all__ = [
    "RAW_LIMIT",
    "agent_generation",
    "as_json",
    "as_object",
    "event_json",
    "execution_response",
    "execution_response_json",
    "invoke_response",
    "invoke_response_json",
    "json_bytes",
    "key_validation",
    "parse_body",
    "to_json_body",
    "token_response",
    "user_response",
]

RAW_LIMIT = 2000
"""How much of an answer a ``ViksaDecodeError`` keeps in ``raw`` (characters or bytes)."""


def parse_body(content: bytes) -> Any:
    """The JSON value of an answer body; ``None`` for an empty body."""
    if not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the stack
        raw = content[:RAW_LIMIT].decode("utf-8", "replace")
        raise ViksaDecodeError(
            "the platform answered a body that is not JSON (or nests too deeply to "
            "decode); `raw` holds its text",
            raw=raw,
        ) from None


def as_json(data: Any) -> Any:
    """Any JSON value, as decoded."""
    return data


def as_object(data: Any) -> dict[str, Any]:
    """A JSON object (``{}`` for an empty answer)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ViksaDecodeError(
            f"expected a JSON object, the platform answered {type(data).__name__}",
            raw=json.dumps(data)[:RAW_LIMIT],
        )
    return data


# The C scanner json.loads itself ends in (typeshed does not declare the attribute);
# it raises StopIteration when no JSON value starts at the index.
_scan_once: Callable[[str, int], tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009


def event_json(event: str | ServerSentEvent) -> Any:
    """The JSON value of a stream event (or of its data); ``ViksaDecodeError`` if not JSON."""
    text = event if event.__class__ is str else event.data  # type: ignore[union-attr]
    # json.loads spends more time checking the text's ends than parsing a small object:
    # parse first, and let json.loads judge only the rare text with spaces or errors.
    try:
        value, end = _scan_once(text, 0)
        if end == len(text):
            return value
    except (StopIteration, ValueError, RecursionError):
        pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the stack
        # Cut: the server names the type, and may make it as long as a whole event.
        kind = "message" if isinstance(event, str) else event.event[:100]
        raise ViksaDecodeError(
            f"stream event {kind!r} holds data that is not JSON; `raw` holds it",
            raw=text,
            event=kind,
        ) from None


def to_json_body(value: Any) -> Any:
    """The JSON-ready form of a request body: models are dumped, the rest passes."""
    if value.__class__ is dict:
        return value
    to_wire = getattr(value, "to_wire", None)
    if callable(to_wire):
        return to_wire()
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, Mapping) and not isinstance(value, dict):
        return dict(value)
    return value


# httpx's encoding of ``json=`` (0.28): compact, UTF-8, NaN refused. One encoder for every
# call: json.dumps builds a new one whenever it is given options.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def json_bytes(value: Any) -> bytes:
    """The bytes of a JSON-ready request body, as httpx's ``json=`` encodes them.

    Raises ``TypeError`` or ``ValueError`` (``RecursionError`` when nested deeper than the
    stack) for a value JSON cannot encode, as ``json.dumps`` does.
    """
    return _ENCODER.encode(value).encode("utf-8")


def token_response(data: Any) -> TokenResponse:
    """Read a ``TokenResponse`` whose access token can be sent as a header."""
    from viksa_ai.client._credentials import check_answered_token
    from viksa_ai.models.auth import TokenResponse

    tokens = TokenResponse.model_validate(data)
    check_answered_token(tokens)
    return tokens


def user_response(data: Any) -> UserResponse:
    """Read a ``UserResponse``."""
    from viksa_ai.models.auth import UserResponse

    return UserResponse.model_validate(data)


def key_validation(data: Any) -> KeyValidationResponse:
    """Read a ``KeyValidationResponse``."""
    from viksa_ai.models.auth import KeyValidationResponse

    return KeyValidationResponse.model_validate(data)


def execution_response(data: Any) -> EndpointExecutionResponse:
    """Read an ``EndpointExecutionResponse``."""
    from viksa_ai.models.executor import EndpointExecutionResponse

    return EndpointExecutionResponse.model_validate(data)


def invoke_response(data: Any) -> AgentInvokeResponse:
    """Read an ``AgentInvokeResponse``."""
    from viksa_ai.models.executor import AgentInvokeResponse

    return AgentInvokeResponse.model_validate(data)


# One-step readers of the answer's bytes (a ``Call``'s ``decode_json``): pydantic parses
# and validates together, skipping the dicts json.loads builds. Their failures are not
# shown: the pipeline then reads the answer with the readers above.


def execution_response_json(content: bytes) -> EndpointExecutionResponse:
    """``execution_response`` of an answer's bytes."""
    from viksa_ai.models.executor import EndpointExecutionResponse

    return EndpointExecutionResponse.model_validate_json(content)


def invoke_response_json(content: bytes) -> AgentInvokeResponse:
    """``invoke_response`` of an answer's bytes."""
    from viksa_ai.models.executor import AgentInvokeResponse

    return AgentInvokeResponse.model_validate_json(content)


def agent_generation(data: Any) -> AgentGenerationResponse:
    """Read an ``AgentGenerationResponse`` as answered: a draft breaking the manifest rules
    (no ``main.py``, a secure agent without a queue) is returned, not refused."""
    from viksa_ai.models.agent import READ_AS_ANSWERED, AgentGenerationResponse

    return AgentGenerationResponse.model_validate(data, context=READ_AS_ANSWERED)
