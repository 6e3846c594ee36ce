"""Auth params for an endpoint: parsing them, building the worker environment, redaction.

A secret is addressed as ``METHOD.PARAM`` (``aviationstack_api.api_key``), the name of
the environment variable a platform worker sets for it. Nothing here ever puts a
secret's value into a message, an error or a ``repr``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote, quote_plus

from viksa_ai.devtools.runner._envkeys import (
    CONFIGURED_METHODS_VAR,
    ENABLED_METHODS_VAR,
    METHOD_ID,
    PARAM_NAME,
)

__all__ = [
    "ANYWHERE_CHARS",
    "AuthConfig",
    "SecretsError",
    "parse_secret_assignment",
    "parse_secrets_text",
]

_REDACTED = "***"
ANYWHERE_CHARS = 8
"""A secret this long is masked even inside a longer word: no ordinary word holds one
by chance, and glued to other text (``f"{key}abc"``) it would be read whole."""


class SecretsError(ValueError):
    """A secret or a secrets file is malformed; the message never holds a value."""


def split_secret_name(name: str) -> tuple[str, str]:
    """Split ``METHOD.PARAM`` into its parts, or raise :class:`SecretsError`."""
    method, dot, param = name.partition(".")
    if not dot or not METHOD_ID.fullmatch(method) or not PARAM_NAME.fullmatch(param):
        # The name is not echoed: a mistyped argument may be the secret itself.
        raise SecretsError(
            "a secret name is not METHOD.PARAM: the method id is lower-case "
            "([a-z][a-z0-9_]*) and the param an identifier, e.g. bearer_token.api_key"
        )
    return method, param


def parse_secret_assignment(text: str) -> tuple[str, str]:
    """Parse ``METHOD.PARAM=VALUE`` (a ``--secret`` argument) into name and value."""
    name, eq, value = text.partition("=")
    if not eq:
        raise SecretsError("a secret is given as METHOD.PARAM=VALUE, e.g. bearer_token.api_key=...")
    name = name.strip()
    split_secret_name(name)
    return name, value


def parse_secrets_text(text: str) -> dict[str, str]:
    """Parse the text of a secrets file: a JSON object, or ``METHOD.PARAM=VALUE`` lines.

    JSON maps ``"METHOD.PARAM"`` to a string, or ``"METHOD"`` to an object of param
    strings. The line format skips blank lines and ``#`` comments, allows an
    ``export`` prefix and strips one pair of matching quotes around a value.
    """
    if text.lstrip().startswith("{"):
        return _parse_json_secrets(text)
    secrets: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        try:
            name, value = parse_secret_assignment(line)
        except SecretsError as exc:
            raise SecretsError(f"line {number}: {exc}") from None
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        secrets[name] = value
    return secrets


def _parse_json_secrets(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        # The decoder's message holds a position, never the document's text.
        raise SecretsError(f"secrets file is not valid JSON: {exc}") from None
    except RecursionError:
        raise SecretsError("secrets file is JSON nested too deeply") from None
    if not isinstance(data, dict):
        raise SecretsError("a JSON secrets file holds an object")
    secrets: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            if not METHOD_ID.fullmatch(key):
                raise SecretsError("a method id is not lower-case [a-z][a-z0-9_]*")
            for param, param_value in value.items():
                secrets[_checked_name(f"{key}.{param}", param_value)] = param_value
        else:
            secrets[_checked_name(key, value)] = value
    return secrets


def _checked_name(name: str, value: object) -> str:
    split_secret_name(name)
    if not isinstance(value, str):
        raise SecretsError(f"secret {name!r} must be a string, not {type(value).__name__}")
    return name


class AuthConfig:
    """The auth params of a call and the methods declared on the agent.

    ``secrets`` maps ``METHOD.PARAM`` to a value; ``declared`` maps each method the
    agent declares to its param names. Configured methods are the declared ones plus
    any named by a secret; a method is enabled when every declared param (or, for an
    undeclared method, every param given) has a non-empty value.
    """

    __slots__ = ("_declared", "_secrets")

    def __init__(
        self,
        secrets: Mapping[str, str] | None = None,
        declared: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._secrets: dict[str, str] = {}
        for name, value in (secrets or {}).items():
            if not isinstance(value, str):
                raise SecretsError(f"secret {name!r} must be a string, not {type(value).__name__}")
            split_secret_name(name)
            if not _fits_environment(value):
                raise SecretsError(
                    f"secret {name!r} holds a character no environment variable can carry "
                    "(a NUL or a lone surrogate): give it as plain text"
                )
            self._secrets[name] = value
        self._declared: dict[str, tuple[str, ...]] = {}
        for method, params in (declared or {}).items():
            if isinstance(params, str):
                # A str is a Sequence[str] too: "api_key" would declare a, p, i, ...
                raise TypeError(
                    f"auth_methods[{method!r}] must be a list of param names, not the "
                    f"string {params!r}: write [{params!r}]"
                )
            self._declared[method] = tuple(params)

    def with_secrets(self, secrets: Mapping[str, str]) -> AuthConfig:
        """The same declared methods with ``secrets`` instead of this config's."""
        return AuthConfig(secrets, self._declared)

    @property
    def configured_methods(self) -> list[str]:
        """Every method declared on the agent or named by a secret, in that order."""
        methods = list(self._declared)
        for name in self._secrets:
            method = name.partition(".")[0]
            if method not in methods:
                methods.append(method)
        return methods

    @property
    def enabled_methods(self) -> list[str]:
        """The configured methods whose params all have a value."""
        given: dict[str, list[str]] = {}
        for name, value in self._secrets.items():
            method, _, param = name.partition(".")
            if value:
                given.setdefault(method, []).append(param)
        enabled = []
        for method in self.configured_methods:
            params = self._declared.get(method) or ()
            if method in given and all(param in given[method] for param in params):
                enabled.append(method)
        return enabled

    def environment(self) -> dict[str, str]:
        """The environment variables a worker gives the endpoint for this config."""
        env = {name: value for name, value in self._secrets.items() if value}
        env[ENABLED_METHODS_VAR] = ",".join(self.enabled_methods)
        env[CONFIGURED_METHODS_VAR] = ",".join(self.configured_methods)
        return env

    def secret_values(self) -> list[str]:
        """The secret values, for redaction only."""
        return list(self._secrets.values())

    def redactor(self) -> Redactor:
        """A :class:`Redactor` for this config's secret values."""
        return Redactor(self._secrets.values())

    def __repr__(self) -> str:
        names = ", ".join(sorted(self._secrets))
        return f"AuthConfig(secrets=[{names}], configured={self.configured_methods})"


class Redactor:
    """Replaces secret values in text with ``***`` where they stand as values.

    Besides the raw value it replaces the forms an error message or traceback is likely
    to hold: percent-encoded (URLs), ``repr`` (``f"{key!r}"``) and JSON string escapes.
    A value of :data:`ANYWHERE_CHARS` characters or more is replaced wherever it stands,
    even glued to other letters (``f"{key}abc"``); a shorter one only where it is not part
    of a longer word: a secret ``r`` leaves ``SyntaxError`` alone, while ``token=r`` and
    ``'r'`` become ``token=***`` and ``'***'``.
    """

    __slots__ = ("_needles", "_pattern")

    def __init__(self, values: Iterable[str]) -> None:
        needles = set()
        for value in values:
            if value:
                needles.update(
                    {
                        value,
                        quote(_url_bytes(value), safe=""),
                        quote_plus(_url_bytes(value)),
                        # Escaped forms differ from the raw value for quotes, backslashes
                        # and control or non-ASCII characters.
                        repr(value)[1:-1],
                        json.dumps(value)[1:-1],
                        json.dumps(value, ensure_ascii=False)[1:-1],
                    }
                )
        # Longest first, so a secret containing another is replaced whole.
        self._needles = sorted(needles, key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(_standalone(needle) for needle in self._needles))
            if self._needles
            else None
        )

    def __call__(self, text: str | None) -> str | None:
        if not text or self._pattern is None:
            return text
        return self._pattern.sub(_REDACTED, text)

    def __repr__(self) -> str:
        return f"Redactor({len(self._needles)} values)"


def _fits_environment(value: str) -> bool:
    """Whether ``value`` can be an environment variable's value, as the child gets it."""
    if "\0" in value:
        return False
    try:
        os.fsencode(value)
    except UnicodeEncodeError:
        # Not raised from here: that error's args hold the whole value.
        return False
    return True


def _url_bytes(value: str) -> bytes:
    """``value`` as the bytes a URL would percent-encode.

    A lone surrogate (an undecodable byte of the environment, ``surrogateescape``)
    cannot be UTF-8, and ``quote`` on the str would raise an error holding the value.
    """
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def _standalone(needle: str) -> str:
    """A pattern matching ``needle`` unless a word character continues one of its ends
    (a needle of :data:`ANYWHERE_CHARS` or more: wherever it is)."""
    if len(needle) >= ANYWHERE_CHARS:
        return re.escape(needle)
    left = r"(?<!\w)" if re.match(r"\w", needle[0]) else ""
    right = r"(?!\w)" if re.match(r"\w", needle[-1]) else ""
    return f"{left}{re.escape(needle)}{right}"
