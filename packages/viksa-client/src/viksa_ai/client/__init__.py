"""Typed async and sync HTTP client for the Viksa AI platform API.

``ViksaClient`` (async) and ``ViksaSyncClient`` offer every operation of the platform
API with the same names. Both are built from one description of each call and one
request pipeline (auth and tenant headers, idempotency keys, retries with backoff,
single-flight token refresh, typed errors, decoding).

Names are imported on first use, so ``import viksa_ai.client`` stays cheap.
"""

# Only a module loaded at interpreter start is imported here: `typing` alone would
# double the cost of `import viksa_ai.client`. Type checkers treat any TYPE_CHECKING as true.
import sys as _sys

TYPE_CHECKING = False

if TYPE_CHECKING:
    from viksa_ai.client._async._client import ViksaClient
    from viksa_ai.client._async._stream import AsyncEventStream
    from viksa_ai.client._async._webhook import AsyncViksaWebhook
    from viksa_ai.client._config import (
        DEFAULT_BASE_URL,
        ClientConfig,
        HttpBackend,
        RequestOptions,
        RetryConfig,
    )
    from viksa_ai.client._error_mapping import parse_error_details, raise_for_response
    from viksa_ai.client._errors import (
        ErrorDetail,
        ViksaApiError,
        ViksaAuthenticationError,
        ViksaConfigError,
        ViksaConflictError,
        ViksaDecodeError,
        ViksaError,
        ViksaNotFoundError,
        ViksaPermissionError,
        ViksaRateLimitError,
        ViksaRepeatedPageError,
        ViksaResponseTooLargeError,
        ViksaServerError,
        ViksaTimeoutError,
        ViksaTransportError,
        ViksaValidationError,
    )
    from viksa_ai.client._recording import ResponseRecorder
    from viksa_ai.client._settings import ViksaInsecureTransportWarning
    from viksa_ai.client._sse import ServerSentEvent
    from viksa_ai.client._sync._client import ViksaSyncClient
    from viksa_ai.client._sync._stream import EventStream
    from viksa_ai.client._sync._webhook import ViksaWebhook
    from viksa_ai.client._webhook_client import WebhookClient

__version__ = "0.3.0"

_ERRORS = "viksa_ai.client._errors"
_CONFIG = "viksa_ai.client._config"

# Public name -> the private module that defines it.
_EXPORTS: dict[str, str] = {
    "ViksaClient": "viksa_ai.client._async._client",
    "ViksaSyncClient": "viksa_ai.client._sync._client",
    "AsyncEventStream": "viksa_ai.client._async._stream",
    "EventStream": "viksa_ai.client._sync._stream",
    "AsyncViksaWebhook": "viksa_ai.client._async._webhook",
    "ViksaWebhook": "viksa_ai.client._sync._webhook",
    "WebhookClient": "viksa_ai.client._webhook_client",
    "ClientConfig": _CONFIG,
    "RetryConfig": _CONFIG,
    "RequestOptions": _CONFIG,
    "HttpBackend": _CONFIG,
    "DEFAULT_BASE_URL": _CONFIG,
    "ResponseRecorder": "viksa_ai.client._recording",
    "ServerSentEvent": "viksa_ai.client._sse",
    "ViksaInsecureTransportWarning": "viksa_ai.client._settings",
    "ErrorDetail": _ERRORS,
    "ViksaError": _ERRORS,
    "ViksaConfigError": _ERRORS,
    "ViksaDecodeError": _ERRORS,
    "ViksaTransportError": _ERRORS,
    "ViksaTimeoutError": _ERRORS,
    "ViksaApiError": _ERRORS,
    "ViksaAuthenticationError": _ERRORS,
    "ViksaPermissionError": _ERRORS,
    "ViksaNotFoundError": _ERRORS,
    "ViksaConflictError": _ERRORS,
    "ViksaValidationError": _ERRORS,
    "ViksaRateLimitError": _ERRORS,
    "ViksaRepeatedPageError": _ERRORS,
    "ViksaResponseTooLargeError": _ERRORS,
    "ViksaServerError": _ERRORS,
    "parse_error_details": "viksa_ai.client._error_mapping",
    "raise_for_response": "viksa_ai.client._error_mapping",
}

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncEventStream",
    "AsyncViksaWebhook",
    "ClientConfig",
    "ErrorDetail",
    "EventStream",
    "HttpBackend",
    "RequestOptions",
    "ResponseRecorder",
    "RetryConfig",
    "ServerSentEvent",
    "ViksaApiError",
    "ViksaAuthenticationError",
    "ViksaClient",
    "ViksaConfigError",
    "ViksaConflictError",
    "ViksaDecodeError",
    "ViksaError",
    "ViksaInsecureTransportWarning",
    "ViksaNotFoundError",
    "ViksaPermissionError",
    "ViksaRateLimitError",
    "ViksaRepeatedPageError",
    "ViksaResponseTooLargeError",
    "ViksaServerError",
    "ViksaSyncClient",
    "ViksaTimeoutError",
    "ViksaTransportError",
    "ViksaValidationError",
    "ViksaWebhook",
    "WebhookClient",
    "__version__",
    "parse_error_details",
    "raise_for_response",
]


# Hidden from type checkers: they see the imports above, so a misspelt name is an error.
if not TYPE_CHECKING:

    def __getattr__(name: str) -> object:
        """Import a public name from its private module on first use (PEP 562)."""
        module_name = _EXPORTS.get(name)
        if module_name is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}", name=name)
        __import__(module_name)
        value = getattr(_sys.modules[module_name], name)
        globals()[name] = value  # later lookups skip __getattr__
        return value


def __dir__() -> list[str]:
    """The module's names, the lazy exports included."""
    return sorted(set(globals()) | set(_EXPORTS))
