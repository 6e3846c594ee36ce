"""``-i KEY=VALUE`` taken as the input's declared type, with a did-you-mean for typos."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from viksa_ai.devtools._suggest import did_you_mean

__all__ = ["InputError", "typed_input"]

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class InputError(ValueError):
    """An ``-i`` value that does not fit its input, or an unknown input name."""


def typed_input(text: str, declared: Mapping[str, str | None] | None) -> tuple[str, Any]:
    """Parse ``KEY=VALUE``; VALUE taken as the declared type of input KEY.

    ``declared`` maps each input the endpoint takes to its type (``string``,
    ``integer``, ``float``, ``boolean``, ``dict``, ``list``). A ``string`` keeps VALUE
    as text (``12345`` stays ``"12345"``); the others parse it. With ``declared`` None
    (types unknown), VALUE is JSON when it parses and text otherwise.
    """
    key, eq, raw = text.partition("=")
    if not eq or not key:
        missing = "has no '='" if not eq else "has no KEY before '='"
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise InputError(f"-i {shown!r} {missing}: give each input as KEY=VALUE, e.g. -i name=Ada")
    if declared is None:
        return key, _json_or_text(raw)
    if key not in declared:
        names = sorted(declared)
        raise InputError(
            f"-i {key}: no such input{did_you_mean(key, names)}; "
            f"this endpoint takes: {', '.join(names) or 'no inputs'}"
        )
    kind = (declared[key] or "").lower()
    try:
        return key, _PARSERS.get(kind, _json_or_text)(raw)
    except ValueError as exc:
        raise InputError(f"-i {key}: {exc} (input {key!r} is {_ARTICLE.get(kind, kind)})") from None


def _json_or_text(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw
    except RecursionError:
        raise ValueError("the JSON value is nested too deeply") from None


def _integer(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a whole number") from None


def _float(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"{raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{raw!r} is not a finite number")
    return value


def _boolean(raw: str) -> bool:
    word = raw.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError(f"{raw!r} is not a boolean: use true or false")


def _container(kind: type, name: str) -> Any:
    def parse(raw: str) -> Any:
        try:
            value = json.loads(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not JSON: give a JSON {name}") from None
        except RecursionError:
            raise ValueError("the JSON value is nested too deeply") from None
        if not isinstance(value, kind):
            raise ValueError(f"{raw!r} is not a JSON {name}")
        return value

    return parse


_PARSERS: dict[str, Any] = {
    "string": str,
    "integer": _integer,
    "float": _float,
    "boolean": _boolean,
    "dict": _container(dict, "object"),
    "list": _container(list, "array"),
}
_ARTICLE = {
    "string": "a string",
    "integer": "an integer",
    "float": "a float",
    "boolean": "a boolean",
    "dict": "a dict (a JSON object)",
    "list": "a list (a JSON array)",
}
