"""Text the bridge can put on the wire: UTF-8 encodable, whatever a platform answered."""

from __future__ import annotations

from typing import Any

__all__ = ["is_wire_text", "wire_text", "wire_value"]


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


def wire_value(value: Any) -> Any:
    """A JSON value with every text in it (keys too) made :func:`wire_text`."""
    if isinstance(value, str):
        return wire_text(value)
    if isinstance(value, dict):
        return {wire_value(key): wire_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [wire_value(item) for item in value]
    return value
