"""Password hashing, HS256 JSON Web Tokens and opaque secrets, with the stdlib only.

The platform signs its own access tokens and verifies them; nobody else needs to, so a
small, strict HS256 implementation is enough and avoids a dependency.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

__all__ = [
    "TokenError",
    "decode_jwt",
    "encode_jwt",
    "hash_password",
    "hash_token",
    "new_id",
    "new_secret",
    "same_secret",
    "verify_password",
]

# scrypt parameters: OWASP's floor for interactive logins, cheap enough for tests.
_SCRYPT_N = 2**14
_SCRYPT_R = 8
_SCRYPT_P = 1
_JWT_HEADER = {"alg": "HS256", "typ": "JWT"}


class TokenError(Exception):
    """A token that is malformed, badly signed or expired; the message is safe to show."""


def new_id(prefix: str) -> str:
    """A fresh random identifier such as ``agt_3f9c...``."""
    return f"{prefix}_{secrets.token_hex(8)}"


def new_secret(prefix: str) -> str:
    """A fresh high-entropy secret (API key, refresh token, webhook token)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def _utf8(text: str) -> bytes:
    # JSON bodies may carry lone surrogates ("\\ud800"): hash them rather than fail with 500.
    return text.encode("utf-8", "surrogatepass")


def same_secret(sent: str | None, expected: str | None) -> bool:
    """Whether ``sent`` is the secret ``expected``, in constant time; never for a None.

    Compared as UTF-8 bytes: ``hmac.compare_digest`` refuses a str with a non-ASCII
    character (a 500), and a header may carry any latin-1 text.
    """
    if not sent or not expected:
        return False
    return hmac.compare_digest(_utf8(sent), _utf8(expected))


def hash_token(token: str) -> str:
    """The digest a high-entropy secret is stored and looked up by.

    Secrets made by :func:`new_secret` carry 256 random bits, so a plain SHA-256 is
    as strong as a slow hash here and keeps lookups by value cheap.
    """
    return hashlib.sha256(_utf8(token)).hexdigest()


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in a self-describing text form."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        _utf8(password), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password`."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        candidate = hashlib.scrypt(
            _utf8(password),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(digest) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(candidate.hex(), digest)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise TokenError("The token is not valid base64url.") from exc


def _sign(signing_input: bytes, key: bytes) -> str:
    return _b64encode(hmac.new(key, signing_input, hashlib.sha256).digest())


def encode_jwt(claims: dict[str, Any], key: bytes) -> str:
    """Sign ``claims`` as a compact HS256 JWT."""
    header = _b64encode(json.dumps(_JWT_HEADER, separators=(",", ":")).encode())
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    return f"{header}.{payload}.{_sign(signing_input, key)}"


def decode_jwt(token: str, key: bytes, *, now: float | None = None) -> dict[str, Any]:
    """Verify an HS256 JWT made by :func:`encode_jwt` and return its claims.

    Raises :class:`TokenError` when the token is malformed, signed with another key or
    algorithm, or past its ``exp``.
    """
    parts = token.split(".")
    # A header may carry any latin-1 text; a JWT is ASCII (and compare_digest needs it).
    if len(parts) != 3 or not token.isascii():
        raise TokenError("The token is not a JWT.")
    header_b64, payload_b64, signature = parts
    expected = _sign(f"{header_b64}.{payload_b64}".encode("ascii"), key)
    if not hmac.compare_digest(expected, signature):
        raise TokenError("The token signature is invalid.")
    try:
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
    except ValueError as exc:
        raise TokenError("The token is not valid JSON.") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise TokenError("The token uses an unsupported algorithm.")
    if not isinstance(claims, dict):
        raise TokenError("The token claims are not an object.")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or (time.time() if now is None else now) >= exp:
        raise TokenError("The access token has expired; refresh it or log in again.")
    return claims
