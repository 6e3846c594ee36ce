"""Text the bridge can put on the wire: UTF-8 encodable, whatever a platform answered."""

from __future__ import annotations

from typing import Any

__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "MAX_TITLE_CHARS",
    "cut_text",
    "is_wire_text",
    "wire_text",
    "wire_value",
]

MAX_DESCRIPTION_CHARS = 1024
"""The most characters of a description a client sees: a tool's, an input's, an output's
(OpenAI's function descriptions stop at 1,024 too). An agent's text of any size would
otherwise sit in the context of every client of the bridge."""
MAX_TITLE_CHARS = 200
"""The most characters of a title a client sees: a tool's, an agent's name and alias."""
_ELLIPSIS = "\u2026"


def is_wire_text(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def wire_text(text: str) -> str:
    """``text`` with each lone surrogate (JSON's ``"\\ud800"``) written as ``\\ud800``.

    Python's json reads such escapes into a ``str`` that UTF-8 cannot encode; the SDK's
    stdio writer then raises and the bridge process ends.
    """
    return text if is_wire_text(text) else text.encode("utf-8", "backslashreplace").decode()


def cut_text(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut, it ends with an ellipsis (``…``).

    The cut falls between code points, and never between the two halves of a surrogate
    pair held as two code points: a lone half cannot be written as UTF-8.
    """
    if len(text) <= limit:
        return text
    head = text[: max(limit - len(_ELLIPSIS), 0)]
    if head and "\ud800" <= head[-1] <= "\udbff":
        head = head[:-1]
    return head + _ELLIPSIS


def wire_value(value: Any) -> Any:
    """A JSON value with every text in it (keys too) made :func:`wire_text`."""
    if isinstance(value, str):
        return wire_text(value)
    if isinstance(value, dict):
        return {wire_value(key): wire_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_value(item) for item in value]
    return value
