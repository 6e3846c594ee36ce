"""Parsing and compile-checking agent code without running it.

``ast.parse`` builds the tree the rules read; ``compile()`` of that same tree (never
``exec``) then finds what only the compiler rejects (``return`` outside a function,
``nonlocal`` at module level, duplicate parameters...). Every failure, including the
``RecursionError``/``MemoryError`` of deeply nested or huge code, lone surrogates and
NUL bytes, becomes an :class:`Issue`. Python's own warnings (invalid escapes, ``is``
with a literal) become warnings.
"""

from __future__ import annotations

import ast
import inspect
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from types import CodeType

from viksa_ai.devtools.validate._gc import gc_paused
from viksa_ai.devtools.validate._issues import Issue, Severity
from viksa_ai.devtools.validate._recorded_warnings import recorded_warnings
from viksa_ai.devtools.validate._source import SourceText

__all__ = ["MAX_SOURCE_CHARS", "ParsedSource", "parse_source"]

MAX_SOURCE_CHARS = 1_600_000
"""Largest agent module validated (characters); bounds parse and compile time and memory.

A main.py of 5,000 typical endpoints (1.55M characters) parses and compiles in about
1.7 s on a busy 2-core machine. Code built to be slow to compile (one function holding
thousands of names and nested scopes: CPython's symbol table is quadratic there) takes
about a second at 65,000 characters and minutes at this cap: the time limit of
``_validation_workers`` bounds that case.
"""


@dataclass(frozen=True)
class ParsedSource:
    """The outcome of :func:`parse_source`.

    ``tree`` is None only when the text does not parse; code the compiler refuses
    still has its tree, so the rules can report everything else too.
    """

    source: SourceText
    tree: ast.Module | None
    issues: tuple[Issue, ...]
    async_generators: frozenset[tuple[str, int]] = frozenset()
    """(name, first line) of each function the module body defines (in if/try blocks
    too) that is an async generator: an ``async def`` holding ``yield``. The first line
    is the def's, or its first decorator's. Read from the compiled code."""


class _Located:
    """Builds issues located in one agent file."""

    def __init__(self, source: SourceText, file: str, path: str) -> None:
        self.source = source
        self.file = file
        self.path = path

    def issue(
        self,
        code: str,
        message: str,
        line: int | None = None,
        column: int | None = None,
        severity: Severity = "error",
    ) -> Issue:
        return Issue(
            code,
            message,
            path=self.path,
            file=self.file,
            line=line,
            column=column if line is not None else None,
            severity=severity,
        )

    def at_index(self, code: str, message: str, index: int) -> Issue:
        line, column = self.source.position_of_index(index)
        return self.issue(code, message, line, column)


def parse_source(text: str, *, file: str = "main.py", path: str = "") -> ParsedSource:
    """Parse and compile-check ``text``; never raises for any input text.

    ``file`` and ``path`` locate the issues (``path`` is the file's manifest entry,
    e.g. ``files[0]``). A leading byte-order mark is ignored, as CPython does.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    source = SourceText(text)
    at = _Located(source, file, path)
    if len(text) > MAX_SOURCE_CHARS:
        message = (
            f"{file} has {len(text):,} characters, more than the {MAX_SOURCE_CHARS:,} the "
            "validator reads: split it into modules"
        )
        return ParsedSource(source, None, (at.issue("VX204", message),))
    issues: list[Issue] = []
    generators: frozenset[tuple[str, int]] = frozenset()
    with gc_paused(), recorded_warnings() as caught:
        tree = _parse(text, at, issues)
        if tree is not None:
            code = _compile(tree, text, at, issues)
            if code is not None and "yield" in text:  # a C-level scan: rarely true
                generators = _async_generators(code)
    if caught:  # Python rarely warns
        issues.extend(_warning_issues(caught, at))
    return ParsedSource(source, tree, tuple(issues), generators)


def _async_generators(code: CodeType) -> frozenset[tuple[str, int]]:
    return frozenset(
        (const.co_name, const.co_firstlineno)
        for const in code.co_consts
        if type(const) is CodeType and const.co_flags & inspect.CO_ASYNC_GENERATOR
    )


def _parse(text: str, at: _Located, issues: list[Issue]) -> ast.Module | None:
    try:
        return ast.parse(text, filename=at.file)
    except SyntaxError as exc:
        issues.append(_syntax_issue("VX201", exc, at, byte_columns=False))
    except UnicodeError as exc:
        issues.append(_unicode_issue(exc, text, at))
    except ValueError as exc:  # Python 3.10 reports NUL bytes as ValueError
        issues.append(_nul_issue(text, at) if "\0" in text else at.issue("VX201", str(exc)))
    except (RecursionError, MemoryError):
        issues.append(_too_deep(at, "parse"))
    return None


def _compile(tree: ast.Module, text: str, at: _Located, issues: list[Issue]) -> CodeType | None:
    """The module's code object, or None when Python refuses it (an issue says why)."""
    try:
        return compile(tree, at.file, "exec", flags=0, dont_inherit=True)
    except SyntaxError as exc:
        issues.append(_syntax_issue("VX202", exc, at, byte_columns=True))
        return None
    except RecursionError:
        pass  # converting a deep tree back to C recurses in Python; the text may not
    except (MemoryError, ValueError, TypeError, OverflowError):
        issues.append(_too_deep(at, "compile"))
        return None
    try:
        return compile(text, at.file, "exec", flags=0, dont_inherit=True)
    except SyntaxError as exc:
        issues.append(_syntax_issue("VX202", exc, at, byte_columns=True))
    except (RecursionError, MemoryError, ValueError, TypeError, OverflowError):
        issues.append(_too_deep(at, "compile"))
    return None


def _syntax_issue(code: str, exc: SyntaxError, at: _Located, *, byte_columns: bool) -> Issue:
    message = exc.msg or "invalid syntax"
    if "null bytes" in message and "\0" in at.source.text:
        return _nul_issue(at.source.text, at)
    line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
    column: int | None = None
    if line is not None and isinstance(exc.offset, int) and exc.offset > 0:
        # The parser counts characters; the compiler counts UTF-8 bytes from the tree.
        column = at.source.char_column(line, exc.offset - 1) if byte_columns else exc.offset
    what = "Python cannot parse" if code == "VX201" else "Python refuses to compile"
    return at.issue(code, f"{what} {at.file}: {message}", line, column)


def _unicode_issue(exc: UnicodeError, text: str, at: _Located) -> Issue:
    start = getattr(exc, "start", None)
    index = start if isinstance(start, int) and 0 <= start < len(text) else 0
    char = text[index] if text else ""
    message = (
        f"{at.file} contains a character that is not valid Unicode text "
        f"(U+{ord(char):04X}, a lone surrogate): remove it or write it as an escape"
        if char
        else f"{at.file} is not valid Unicode text"
    )
    return at.at_index("VX203", message, index)


def _nul_issue(text: str, at: _Located) -> Issue:
    message = f"{at.file} contains a NUL character (U+0000): Python source cannot hold one"
    return at.at_index("VX201", message, text.index("\0"))


def _too_deep(at: _Located, stage: str) -> Issue:
    return at.issue(
        "VX205",
        f"{at.file} is nested too deeply for Python to {stage} (or too large): "
        "flatten the deepest expressions or blocks",
    )


def _warning_issues(caught: list[warnings.WarningMessage], at: _Located) -> Iterator[Issue]:
    seen: set[tuple[int | None, str]] = set()
    for record in caught:
        if not issubclass(record.category, (SyntaxWarning, DeprecationWarning)):
            continue
        line = record.lineno if record.lineno > 0 else None
        key = (line, str(record.message))
        if key in seen:
            continue
        seen.add(key)
        yield at.issue("VX206", f"Python warns: {record.message}", line, severity="warning")
