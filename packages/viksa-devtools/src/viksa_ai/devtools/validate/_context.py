"""The shared state every validation rule reads: the manifest view and the parsed main.py."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable

from viksa_ai.devtools.validate._code_index import ModuleIndex
from viksa_ai.devtools.validate._issues import Issue, Severity
from viksa_ai.devtools.validate._manifest import ManifestView
from viksa_ai.devtools.validate._parse import ParsedSource, parse_source
from viksa_ai.models import MimeType

__all__ = ["MAIN_FILE", "MAIN_MODULE", "MainModule", "Rule", "RuleContext", "parse_main"]

MAIN_FILE = "main.py"
MAIN_MODULE = "main"


class MainModule:
    """main.py: its entry in ``files``, its parse result and (when it parsed) its index.

    ``path`` is the manifest path of the file's entry (``files[0]``), where code issues
    are located in the manifest.
    """

    __slots__ = ("file_index", "index", "parsed", "path")

    def __init__(self, file_index: int, parsed: ParsedSource) -> None:
        self.file_index = file_index
        self.parsed = parsed
        self.path = f"files[{file_index}]"  # join_path("files", file_index), inline
        tree = parsed.tree
        self.index = ModuleIndex(parsed.source, tree) if tree is not None else None


def parse_main(view: ManifestView) -> MainModule | None:
    """Parse and compile-check the manifest's main.py; None when it has none."""
    for index, file in view.files.items:
        if file.name == MAIN_FILE and file.mime_type is MimeType.PYTHON:
            parsed = parse_source(file.content, file=MAIN_FILE, path=f"files[{index}]")
            return MainModule(index, parsed)
    return None


class RuleContext:
    """What a rule reads: the manifest view and main.py (parsed, with its index).

    ``module`` is the index of main.py (None when there is no parsable main.py: the
    parse issues say why, and no code rule can run).
    """

    __slots__ = ("main", "module", "view")

    def __init__(self, view: ManifestView, main: MainModule | None) -> None:
        self.view = view
        self.main = main
        self.module = main.index if main is not None else None

    def code_issue(
        self,
        code: str,
        message: str,
        node: ast.AST,
        *,
        severity: Severity = "error",
        input: str | None = None,
    ) -> Issue:
        """An issue located at ``node`` in main.py."""
        main = self.main
        if main is None or main.index is None:
            raise RuntimeError("code_issue() needs a parsed main.py")  # a rule's bug
        line, column = main.index.position(node)
        return Issue(
            code,
            message,
            path=main.path,
            file=MAIN_FILE,
            line=line,
            column=column,
            severity=severity,
            input=input,
        )


Rule = Callable[[RuleContext], Iterable[Issue]]
"""A rule on the whole manifest: reads the context, yields the issues it finds."""
