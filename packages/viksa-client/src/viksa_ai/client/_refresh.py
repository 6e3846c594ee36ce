"""Token policy: when a 401 is answered by a refresh, single-flight bookkeeping, API keys.

The async client and its sync twin run the single-flight refresh and make the calls;
every decision is taken here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from viksa_ai.client._call import AUTH, Call
from viksa_ai.client._decode import token_response
from viksa_ai.client._error_mapping import scrub_cut
from viksa_ai.client._errors import (
    ErrorDetail,
    ViksaApiError,
    ViksaAuthenticationError,
    ViksaConfigError,
    ViksaError,
)
from viksa_ai.client._logging import logger

if TYPE_CHECKING:
    from viksa_ai.client._pipeline import Plan
    from viksa_ai.client._settings import Settings
    from viksa_ai.models.auth import KeyValidationResponse, TokenResponse

__all__ = [
    "adopt_key_tenant",
    "failed_refresh",
    "refresh_call",
    "refresh_failure",
    "refresh_wanted",
    "wants_refresh",
]

# The answers of /auth/refresh that refuse the refresh token rather than fail to serve it.
_REFUSED = frozenset({400, 401, 403})


def wants_refresh(plan: Plan, settings: Settings, response: httpx.Response) -> bool:
    """Whether a 401 should be answered by one token refresh and a replay.

    Login and refresh send no token (``authenticated`` is false); a switch does, so an
    expired one is refreshed like any other call's.
    """
    return (
        response.status_code == 401 and plan.call.authenticated and settings.credentials.can_refresh
    )


def refresh_wanted(settings: Settings, generation: int) -> bool:
    """In the refresh flight: refresh now (True), or replay with a newer token (False).

    Raises ``ViksaAuthenticationError`` when the refresh of that token already failed,
    so calls failing together cause one refresh attempt, never one each.
    """
    credentials = settings.credentials
    if credentials.generation != generation:
        return False
    if credentials.failed_generation == generation:
        raise refresh_failure(None)
    logger.info("the access token was refused (401): refreshing it, then replaying the call")
    return True


def refresh_call(settings: Settings) -> Call[TokenResponse]:
    """The call that exchanges the refresh token for new tokens."""
    token = settings.credentials.refresh_token
    if not token:
        raise ViksaConfigError(
            "refresh() needs a refresh token: pass refresh_token= to the client or log in"
        )
    return Call(
        method="POST",
        service=AUTH,
        path="/refresh",
        body={"refresh_token": token},
        decode=token_response,
        authenticated=False,
        adopts_tokens=True,
        secrets=(token,),
    )


def refresh_failure(cause: BaseException | None) -> ViksaAuthenticationError:
    """The error raised when the access token could not be refreshed."""
    status, body, request_id, details = 401, None, None, []
    if isinstance(cause, ViksaApiError):
        status, body, request_id = cause.status_code, cause.body, cause.request_id
        details = cause.details
        reason = cause.detail_message
    elif cause is not None:
        reason = str(cause) or type(cause).__name__
    else:
        reason = "an earlier refresh of the same token failed"
    first = ErrorDetail(f"token refresh failed ({reason}); log in again", code="refresh_failed")
    return ViksaAuthenticationError(
        status_code=status,
        method="POST",
        path=AUTH.prefix + "/refresh",
        service=AUTH.name,
        body=body,
        details=[first, *details],
        request_id=request_id,
    )


def failed_refresh(settings: Settings, generation: int, cause: ViksaError) -> None:
    """Raise the error of a failed refresh of the token of ``generation``.

    Returns instead when the token changed meanwhile (a blocking twin, a login): the call
    is replayed with it. A refusal of the refresh token is remembered, so the calls that
    failed with the same token raise at once instead of each trying again. A transient
    failure (network, timeout, 5xx, 429) is raised as it is and not remembered: the next
    401 tries the refresh again.
    """
    credentials = settings.credentials
    if credentials.generation != generation:
        return
    if not _refused(cause):
        logger.info(
            "the token refresh failed (%s): the next 401 will try again", type(cause).__name__
        )
        raise cause
    logger.info("the token refresh was refused: calls refused with this token will not retry it")
    credentials.failed_generation = generation
    raise refresh_failure(cause) from cause


def _refused(cause: ViksaError) -> bool:
    """Whether the platform refused the refresh token itself (no use trying it again)."""
    return isinstance(cause, ViksaApiError) and cause.status_code in _REFUSED


def adopt_key_tenant(settings: Settings, result: KeyValidationResponse) -> None:
    """Check an API key validation answer and take the org and project it names."""
    if not result.valid:
        # The platform's reason may quote the key: scrubbed, and cut to a readable length.
        reason = scrub_cut(result.error or "no reason given", settings.credentials.secrets(), 300)
        raise ViksaAuthenticationError(
            status_code=401,
            method="POST",
            path=AUTH.prefix + "/key/validate/api",
            service=AUTH.name,
            details=[
                ErrorDetail(
                    f"the API key is not valid ({reason}): create a new key in the console",
                    code="invalid_api_key",
                )
            ],
        )
    credentials = settings.credentials
    credentials.org_id = credentials.org_id or result.org_id
    credentials.project_id = credentials.project_id or result.project_id
