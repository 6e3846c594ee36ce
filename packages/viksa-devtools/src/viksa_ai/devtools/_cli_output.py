"""Output a person reads: highlighted JSON, readable errors, rounded durations.

Machine output (``--format json``) stays what scripts parse; it is the default when
stdout is not a terminal. Colour is used on terminals only, never with ``NO_COLOR`` set
(https://no-color.org) or ``--no-color``, and never when ``TERM=dumb``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from viksa_ai.devtools._terminal import printable

__all__ = [
    "format_duration",
    "highlight_json",
    "output_format",
    "print_failure",
    "print_result",
    "render_error",
    "render_value",
    "use_color",
]

_RESET = "\x1b[0m"
_KEY = "\x1b[34m"  # blue
_STRING = "\x1b[32m"  # green
_NUMBER = "\x1b[36m"  # cyan
_LITERAL = "\x1b[35m"  # magenta
_HEADLINE = "\x1b[1;31m"  # bold red
_DIM = "\x1b[2m"
_BOLD = "\x1b[1m"

# One JSON token as json.dumps writes it: a string (a key when a colon follows), a
# number, or a literal. Whitespace and punctuation pass through unchanged.
_TOKEN = re.compile(
    r'(?P<string>"(?:[^"\\]|\\.)*")(?P<colon>\s*:)?'
    r"|(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"|(?P<literal>\btrue\b|\bfalse\b|\bnull\b|\bNaN\b|-?\bInfinity\b)"
)


def use_color(no_color: bool, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour ``stream``: a terminal, no ``--no-color``, no ``NO_COLOR``."""
    env = os.environ if environ is None else environ
    if no_color or env.get("NO_COLOR") or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def output_format(requested: str | None, stream: TextIO) -> str:
    """``requested``, else ``text`` on a terminal and ``json`` for a pipe or a file."""
    if requested is not None:
        return requested
    isatty = getattr(stream, "isatty", None)
    return "text" if isatty and isatty() else "json"


def highlight_json(text: str) -> str:
    """``text`` (JSON as ``json.dumps`` writes it) with ANSI colours for each token."""

    def paint(match: re.Match[str]) -> str:
        if match.group("string") is not None:
            colon = match.group("colon")
            if colon is not None:
                return f"{_KEY}{match.group('string')}{_RESET}{colon}"
            return f"{_STRING}{match.group('string')}{_RESET}"
        if match.group("number") is not None:
            return f"{_NUMBER}{match.group('number')}{_RESET}"
        return f"{_LITERAL}{match.group('literal')}{_RESET}"

    return _TOKEN.sub(paint, text)


def render_value(value: Any, color: bool) -> str:
    """A result as indented JSON (non-ASCII kept readable), highlighted when ``color``."""
    from viksa_ai.devtools._json import dumps_json

    text = printable(dumps_json(value, indent=2))
    return highlight_json(text) if color else text


def format_duration(milliseconds: float | None) -> str:
    """``155 ms``, ``2.4 s``, ``3 min 5 s``: rounded for a person."""
    if milliseconds is None:
        return ""
    if milliseconds < 1000:
        return f"{round(milliseconds)} ms"
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def render_error(error: Mapping[str, Any], color: bool) -> str:
    """One headline (what failed, in a sentence) and, when there is one, the traceback.

    ``error`` is a runner error's ``to_dict()`` or an execution's error fields
    (``message``/``error``, ``kind``, ``traceback``, ``output``, ``hint``).
    """
    message = printable(str(error.get("message") or error.get("error") or "the call failed"))
    kind = printable(str(error.get("kind") or error.get("error_kind") or "error")).replace("_", " ")
    # "invalid input: invalid inputs: ..." says it twice.
    headline = message if message.lower().startswith(kind) else f"{kind}: {message}"
    lines = [_paint(headline, _HEADLINE, color)]
    traceback = error.get("traceback")
    if isinstance(traceback, str) and traceback.strip():
        lines.append("")
        lines.extend(_paint_traceback(printable(traceback.rstrip("\n")), color))
    output = error.get("output")
    if isinstance(output, str) and output.strip():
        lines.append("")
        lines.append(_paint("what the agent printed:", _BOLD, color))
        lines.extend(f"  {line}" for line in printable(output.rstrip("\n")).split("\n"))
    for key in ("hint", "available"):
        value = error.get(key)
        if value:
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            lines.append(_paint(f"{key}: {printable(shown)}", _BOLD, color))
    duration = error.get("duration_ms")
    if isinstance(duration, (int, float)):
        lines.append(_paint(f"after {format_duration(duration)}", _DIM, color))
    return "\n".join(lines)


def _paint_traceback(text: str, color: bool) -> list[str]:
    lines = text.splitlines()
    if not color:
        return lines
    painted = []
    for line in lines:
        if line.lstrip().startswith('File "'):
            painted.append(f"{_DIM}{line}{_RESET}")
        elif line and not line.startswith(" ") and not line.startswith("Traceback"):
            painted.append(f"{_HEADLINE}{line}{_RESET}")
        else:
            painted.append(line)
    return painted


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color else text


def print_result(value: Any, args: Any, duration_ms: Any = None) -> None:
    """Print a result: highlighted JSON and its duration on a terminal, else plain JSON."""
    from viksa_ai.devtools._json import dumps_json

    if output_format(args.format, sys.stdout) == "json":
        sys.stdout.write(dumps_json(value, indent=2) + "\n")
        sys.stdout.flush()
        return
    sys.stdout.write(render_value(value, use_color(args.no_color, sys.stdout)) + "\n")
    sys.stdout.flush()
    if isinstance(duration_ms, (int, float)):
        line = f"done in {format_duration(duration_ms)}"
        print(_paint(line, _DIM, use_color(args.no_color, sys.stderr)), file=sys.stderr)


def print_failure(error: Mapping[str, Any], args: Any) -> None:
    """Print a failure on stderr: ``{"error": ...}`` as JSON, or a headline and traceback."""
    from viksa_ai.devtools._json import dumps_json

    sys.stdout.flush()
    if output_format(args.format, sys.stdout) == "json":
        sys.stderr.write(dumps_json({"error": dict(error)}, indent=2) + "\n")
    else:
        sys.stderr.write(render_error(error, use_color(args.no_color, sys.stderr)) + "\n")
    sys.stderr.flush()
