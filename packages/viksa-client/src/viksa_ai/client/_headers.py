"""Checks of the headers a caller adds (``default_headers``, ``extra_headers``...).

A header that cannot travel on the wire is refused before anything is sent, with the
same ``ViksaConfigError`` on every transport: left to them, httpx raises a transport
error quoting the whole value and aiohttp a bare ``ValueError``. Header values may hold
secrets (a gateway key), so the error names the header but never shows its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from viksa_ai.client._errors import ViksaConfigError

__all__ = ["check_headers"]

# RFC 9110: a name is a token; a value is visible ASCII with inner spaces or tabs.
# Non-ASCII is refused too: httpx encodes str headers as ASCII.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
_VALUE = re.compile(r"(?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?").fullmatch


def check_headers(headers: Mapping[Any, object], where: str) -> None:
    """Refuse (``ViksaConfigError``) a header of ``headers`` that cannot be sent.

    ``where`` names the setting the headers came from, for the message. Names and values
    that are not ``str`` (bytes, which httpx also takes) are left to the transport.
    """
    for number, (name, value) in enumerate(headers.items(), start=1):
        if isinstance(name, str) and not _NAME(name):
            # Not echoed either: a whole "Authorization: Bearer ..." line given as a name
            # would put the secret in the message.
            raise ViksaConfigError(
                f"{where}: header number {number} has a name that is not an HTTP token "
                "(letters, digits and !#$%&'*+-.^_`|~ only, no spaces or colons); "
                "give the name and the value separately"
            )
        if isinstance(value, str) and not _VALUE(value):
            raise ViksaConfigError(
                f"{where}: the value of header {name!r} holds a line break, a control or "
                "a non-ASCII character, or starts or ends with whitespace, so it cannot "
                "travel in an HTTP header (the value is not shown: it may be a secret); "
                "strip it or check where it was read from"
            )
