"""The client's errors at their 0.2 path, kept for 0.2 code.

``viksa_ai.client`` is their home now (``from viksa_ai.client import ViksaApiError``).
"""

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
    ViksaResponseTooLargeError,
    ViksaServerError,
    ViksaTimeoutError,
    ViksaTransportError,
    ViksaValidationError,
)

__all__ = [
    "ErrorDetail",
    "ViksaApiError",
    "ViksaAuthenticationError",
    "ViksaConfigError",
    "ViksaConflictError",
    "ViksaDecodeError",
    "ViksaError",
    "ViksaNotFoundError",
    "ViksaPermissionError",
    "ViksaRateLimitError",
    "ViksaResponseTooLargeError",
    "ViksaServerError",
    "ViksaTimeoutError",
    "ViksaTransportError",
    "ViksaValidationError",
    "parse_error_details",
    "raise_for_response",
]
