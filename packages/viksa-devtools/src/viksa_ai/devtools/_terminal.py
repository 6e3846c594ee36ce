"""Text from elsewhere made safe to write to a terminal.

What an agent or a platform wrote (an error, a traceback, printed output, a manifest's
names) can hold characters a terminal acts on rather than shows: C0 controls (but newline
and tab), DEL, C1 controls and bidirectional overrides. An escape sequence could set the
clipboard (OSC 52), retitle the window, clear the screen or hide text; an override
reorders a line. :func:`printable` shows each as ``\\uXXXX`` (a valid JSON escape too).
"""

from __future__ import annotations

import re

__all__ = ["printable"]

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to write to a terminal: each control character as ``\\uXXXX``."""
    return _CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
