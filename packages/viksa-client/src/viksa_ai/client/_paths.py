"""Path building: caller-supplied ids become exactly one percent-encoded segment."""

from __future__ import annotations

import re
from urllib.parse import quote

__all__ = ["encode_segment", "render_path"]

_DOT_SEGMENTS = frozenset({"", ".", ".."})
# Ids made only of unreserved characters encode to themselves: skip quote() for them.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch


def encode_segment(value: str) -> str:
    """Percent-encode ``value`` as one path segment (``/`` and every reserved char escaped).

    ``""``, ``"."`` and ``".."`` are refused: URL normalisation would turn them into
    another route, whatever the encoding.
    """
    if not isinstance(value, str):
        raise TypeError(f"a path id must be a str, got {type(value).__name__}")
    if value in _DOT_SEGMENTS:
        shown = "an empty string" if not value else repr(value)
        raise ValueError(f"{shown} is not a valid id: pass the id of an existing resource")
    if _UNRESERVED(value):
        return value
    return quote(value, safe="")


def render_path(template: str, segments: tuple[str, ...]) -> str:
    """Fill the ``{}`` placeholders of ``template`` with the encoded ``segments``."""
    if not segments:
        return template
    return template.format(*[encode_segment(segment) for segment in segments])
