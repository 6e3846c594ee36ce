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
# bytes go on the wire as they are: obs-text (0x80-0xff) is allowed, as h11 allows it.
_NAME_BYTES = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch
_VALUE_BYTES = re.compile(rb"(?:[\x21-\x7e\x80-\xff]+(?:[ \t]+[\x21-\x7e\x80-\xff]+)*)?").fullmatch


def check_headers(headers: Mapping[Any, object], where: str) -> None:
    """Refuse (``ViksaConfigError``) a header of ``headers`` that cannot be sent.

    ``where`` names the setting the headers came from, for the message. Names and values
    are ``str`` or ``bytes`` (which httpx also takes, and sends as they are).
    """
    for number, (name, value) in enumerate(headers.items(), start=1):
        if not isinstance(name, (str, bytes)):
            raise ViksaConfigError(
                f"{where}: header number {number} has a name of type {type(name).__name__}; "
                "header names and values are str (or bytes)"
            )
        if not (_NAME(name) if isinstance(name, str) else _NAME_BYTES(name)):
            # Not echoed either: a whole "Authorization: Bearer ..." line given as a name
            # would put the secret in the message.
            raise ViksaConfigError(
                f"{where}: header number {number} has a name that is not an HTTP token "
                "(letters, digits and !#$%&'*+-.^_`|~ only, no spaces or colons); "
                "give the name and the value separately"
            )
        if not isinstance(value, (str, bytes)):
            raise ViksaConfigError(
                f"{where}: the value of header {name!r} is of type {type(value).__name__}; "
                "header values are str (or bytes): convert it, or leave the header out"
            )
        if not (_VALUE(value) if isinstance(value, str) else _VALUE_BYTES(value)):
            # httpx would quote the whole value in its error, and aiohttp raise a bare
            # ValueError: refuse bytes here too, alike on both transports.
            raise ViksaConfigError(
                f"{where}: the value of header {name!r} holds a line break, a control or "
                "a non-ASCII character, or starts or ends with whitespace, so it cannot "
                "travel in an HTTP header (the value is not shown: it may be a secret); "
                "strip it or check where it was read from"
            )
