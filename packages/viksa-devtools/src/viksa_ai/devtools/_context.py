"""The shared state every validation rule reads: the manifest view and the parsed main.py."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from viksa_ai.devtools._code_index import EndpointCode, ModuleIndex
from viksa_ai.devtools._issues import Issue, Severity, join_path
from viksa_ai.devtools._manifest import ManifestView
from viksa_ai.devtools._parse import ParsedSource, parse_source
from viksa_ai.devtools._payload_usage import KeyRead
from viksa_ai.models.agent import AgentEndpoint, MimeType

__all__ = ["MAIN_FILE", "MAIN_MODULE", "MainModule", "Rule", "RuleContext"]

MAIN_FILE = "main.py"
MAIN_MODULE = "main"


@dataclass(frozen=True)
class MainModule:
    """main.py: its entry in ``files``, its parse result and (when it parsed) its index."""

    file_index: int
    parsed: ParsedSource
    index: ModuleIndex | None

    @property
    def path(self) -> str:
        """Manifest path of the file entry, e.g. ``files[0]``."""
        return join_path("files", self.file_index)


class RuleContext:
    """What a rule reads; analyses are computed once and shared between rules."""

    def __init__(self, view: ManifestView) -> None:
        self.view = view
        self.main = _load_main(view)

    @property
    def module(self) -> ModuleIndex | None:
        """The index of main.py, or None when there is no parsable main.py."""
        return self.main.index if self.main is not None else None

    @cached_property
    def main_endpoints(self) -> list[tuple[int, AgentEndpoint]]:
        """Endpoints of module ``main`` with an identifier name, with their indexes."""
        return [
            (index, endpoint)
            for index, endpoint in self.view.endpoints.items
            if endpoint.module == MAIN_MODULE and endpoint.name.isidentifier()
        ]

    @cached_property
    def endpoint_codes(self) -> list[tuple[int, AgentEndpoint, EndpointCode | None]]:
        """Each of :attr:`main_endpoints` with the analysis of its function in main.py.

        The analysis is None when the function is missing. Empty when main.py did not
        parse: the parse issues say why, and no code rule can run.
        """
        module = self.module
        if module is None:
            return []
        names = self.view.input_names
        return [
            (index, endpoint, module.endpoint_code(endpoint.name, names))
            for index, endpoint in self.main_endpoints
        ]

    def code_issue(
        self,
        code: str,
        message: str,
        node: ast.AST | KeyRead,
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
"""A validation rule: reads the context, yields the issues it finds."""


def _load_main(view: ManifestView) -> MainModule | None:
    for index, file in view.files.items:
        if file.name == MAIN_FILE and file.mime_type is MimeType.PYTHON:
            parsed = parse_source(file.content, file=MAIN_FILE, path=join_path("files", index))
            tree = parsed.tree
            return MainModule(index, parsed, ModuleIndex(parsed, tree) if tree else None)
    return None
