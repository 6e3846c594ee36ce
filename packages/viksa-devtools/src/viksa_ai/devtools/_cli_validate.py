"""``viksa validate PATH...`` (also ``viksa-agent-validate``): validate agents on disk.

Exit codes: 0 every agent valid, 1 at least one invalid, 2 a usage error or an input
that cannot be read (missing path, no agent.json, malformed JSON, not an object) or
validated within the time limit (``VALIDATION_TIME_LIMIT_SECONDS``, as ``viksa dev``).
Output formats: ``text`` (one ``where: CODE message`` line per issue and a summary),
``json`` (one document), ``github`` (workflow annotations) and ``sarif`` (SARIF 2.1.0,
for code-scanning uploads).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from viksa_ai.devtools._terminal import printable
from viksa_ai.devtools.validate._issues import Issue, plural

__all__ = ["add_parser", "agent_paths", "agents_of_files", "report_lines", "validate_command"]

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
Validate agents before deploying them: the manifest's structure, its names and
references, and main.py (read with ast and compile-checked, never run): each endpoint's
@mcp_endpoint(description=...) async function and the inputs it reads.

PATH is a directory holding agent.json (main.py embedded in its files[], or beside
agent.json on disk when files[] lacks it), a JSON manifest file, or a folder of agents:
a directory without agent.json validates every agent folder below it (a linked agent
folder too; other links are not followed). A "$schema" key
in agent.json is for editors and is ignored.

Exit status: 0 all valid, 1 some agent invalid, 2 usage error or unreadable input.
"""

_EPILOG = """\
text output: one line per issue, WHERE: CODE message, where WHERE is
  FILE:LINE:COL for main.py on disk, MANIFEST:files[N]:LINE:COL for an embedded
  main.py, and MANIFEST:PATH (e.g. agent.json:agent_endpoints[2].inputs[0]) for the
  manifest; then one summary line per agent. Issue codes are listed in the
  viksa-devtools README.

examples:
  viksa validate examples/aviation_agent
  viksa validate agents/ --format github
  viksa validate agents/ --format sarif > viksa.sarif
  viksa-agent-validate ./agent.json --format json
"""


def add_parser(subparsers: Any, prog: str | None = None) -> None:
    """Add the ``validate`` subcommand to ``subparsers`` (``prog`` names it in messages)."""
    named = {} if prog is None else {"prog": prog}
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        **named,
        help="validate agent manifests and their main.py",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help="agent directory (holding agent.json) or JSON manifest file",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "github", "sarif"),
        default="text",
        help="output format (default: text)",
    )
    parser.add_argument(
        "--files",
        action="store_true",
        help="PATHs are changed files (as pre-commit passes them): validate each agent "
        "folder holding one; files outside agents are skipped",
    )
    parser.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too")
    parser.add_argument("--no-warnings", action="store_true", help="do not print warnings")
    parser.set_defaults(handler=validate_command)


@dataclass(frozen=True)
class _Result:
    """The outcome for one PATH: its issues, or why it could not be read."""

    path: str
    manifest_path: str | None = None
    main_path: str | None = None
    issues: tuple[Issue, ...] = ()
    unreadable: str | None = None
    hidden_warnings: int = 0
    """Warnings left out of ``issues`` by --no-warnings (they still fail --strict)."""

    def fails(self, strict: bool) -> bool:
        if strict and self.hidden_warnings:
            return True
        return any(issue.is_error or strict for issue in self.issues)


def validate_command(args: argparse.Namespace) -> int:
    """Run ``viksa validate`` for parsed ``args``; return the exit code."""
    paths = agents_of_files(args.paths) if args.files else agent_paths(args.paths)
    results = [_validate_path(path) for path in paths]
    for result in results:
        if result.unreadable is not None:
            _write(sys.stderr, f"viksa validate: {result.unreadable}")
    shown = [_visible(result, not args.no_warnings) for result in results]
    try:
        _RENDERERS[args.format](shown, args.strict, sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:  # `viksa validate ... | head`: the reader left; not an error
        pass
    if any(result.unreadable is not None for result in results):
        return EXIT_USAGE
    if any(result.fails(args.strict) for result in results):
        return EXIT_INVALID
    return EXIT_OK


_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})


def agent_paths(paths: Sequence[str]) -> list[str]:
    """``paths`` with each folder of agents (no agent.json in it) replaced by its agents.

    A folder below which no agent.json is found stays as given, so that reading it
    reports what was expected.
    """
    found: list[str] = []
    for path in paths:
        below = _agents_below(path)
        found.extend(below or [path])
    return found


def _agents_below(path: str) -> list[str]:
    try:
        if not os.path.isdir(path) or os.path.exists(os.path.join(path, "agent.json")):
            return []
    except (OSError, ValueError):
        return []
    return sorted(_walk_agents(path))


def _walk_agents(top: str) -> Iterator[str]:
    for root, dirs, files in os.walk(top):
        # Hidden folders (.git, .venv) and installed packages hold no agents of the user.
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        if "agent.json" in files and root != top:
            dirs[:] = []
            yield root
            continue
        # os.walk does not enter a linked folder (a link loop would never end), but an
        # agent folder linked in (shared by two projects) is validated, not skipped.
        for name in dirs:
            linked = os.path.join(root, name)
            if os.path.islink(linked) and os.path.isfile(os.path.join(linked, "agent.json")):
                yield linked


def agents_of_files(files: Sequence[str]) -> list[str]:
    """The agent folders (holding agent.json) that hold ``files``, each once, in order."""
    found: dict[str, None] = {}
    for file in files:
        folder = os.path.dirname(os.path.abspath(file))
        while True:
            if os.path.isfile(os.path.join(folder, "agent.json")):
                found.setdefault(_shown_path(folder), None)
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    return list(found)


def _shown_path(folder: str) -> str:
    try:
        return os.path.relpath(folder)
    except ValueError:  # another drive than the working directory's (Windows)
        return folder


def report_lines(path: str) -> tuple[bool, list[str]]:
    """Validate one agent as ``viksa validate PATH`` does: (valid, its text report lines)."""
    result = _validate_path(path)
    if result.unreadable is not None:
        return False, [result.unreadable]
    lines = [
        f"{_location_text(result, issue)}: {_label(issue)} {issue.message}"
        for issue in result.issues
    ]
    return not result.fails(strict=False), [*lines, _summary(result, strict=False)]


def _validate_path(path: str) -> _Result:
    # Imported here so `viksa --help` and `viksa run` do not pay for pydantic models.
    from viksa_ai.devtools._validation_workers import ValidationTimeoutError, issues_with_limits
    from viksa_ai.devtools.validate._agent_source import AgentSourceError, read_manifest_source

    if not path:
        # Path("") is the working directory: an unset `viksa validate "$AGENT"` in CI
        # would check whatever agent sits there, and pass for the one it meant.
        return _Result(
            path, unreadable="an empty path: pass an agent directory or its JSON manifest"
        )
    if path == "-" and not os.path.lexists(path):
        return _Result(
            path,
            unreadable="-: standard input is not read: pass an agent directory or its JSON "
            "manifest (save piped JSON to a file first)",
        )
    try:
        source = read_manifest_source(Path(path))
    except AgentSourceError as exc:
        if _is_dir(path):  # no agent.json in it nor below it (see agent_paths)
            return _Result(path, unreadable=_not_an_agent(path))
        return _Result(path, unreadable=str(exc))
    # Small agents here (a plainly valid manifest without pydantic), others in a worker
    # process with a time limit, as viksa dev validates: compiling hostile code can take
    # minutes, and compile() cannot be interrupted in-process.
    try:
        issues = issues_with_limits(source.manifest)
    except ValidationTimeoutError as exc:
        return _Result(path, unreadable=f"{path}: {exc}")
    return _Result(
        path,
        manifest_path=str(source.manifest_path),
        main_path=str(source.main_path) if source.main_path is not None else None,
        issues=issues,
    )


def _is_dir(path: str) -> bool:
    try:
        return os.path.isdir(path) and not os.path.exists(os.path.join(path, "agent.json"))
    except (OSError, ValueError):
        return False


def _not_an_agent(path: str) -> str:
    return (
        f"{path}: no agent.json in this folder or any folder below it: pass an agent "
        "folder (agent.json with its main.py), a JSON manifest file, or a folder of agent "
        "folders; `viksa init PATH` creates an agent"
    )


def _visible(result: _Result, warnings: bool) -> _Result:
    if warnings:
        return result
    errors = tuple(issue for issue in result.issues if issue.is_error)
    hidden = len(result.issues) - len(errors)
    return dataclasses.replace(result, issues=errors, hidden_warnings=hidden)


def _where(result: _Result, issue: Issue) -> tuple[str, int | None, int | None, str]:
    """(file, line, column, manifest path) to show for ``issue``."""
    manifest = result.manifest_path or result.path
    if issue.file is not None and result.main_path is not None:
        return result.main_path, issue.line, issue.column, ""
    return manifest, issue.line, issue.column, issue.path


def _location_text(result: _Result, issue: Issue) -> str:
    file, line, column, path = _where(result, issue)
    parts = [file]
    if path:
        parts.append(path)
    if line is not None:
        parts.extend((str(line), str(column or 1)))
    return ":".join(parts)


def _label(issue: Issue) -> str:
    return issue.code if issue.is_error else f"{issue.code} (warning)"


def _summary(result: _Result, strict: bool) -> str:
    errors = sum(1 for issue in result.issues if issue.is_error)
    warnings = len(result.issues) - errors
    counts = [plural(errors, "error")] if errors else []
    if warnings:
        counts.append(plural(warnings, "warning"))
    if strict and result.hidden_warnings:
        counts.append(plural(result.hidden_warnings, "hidden warning"))
    state = "invalid" if result.fails(strict) else "valid"
    return f"{result.path}: {state}" + (f" ({', '.join(counts)})" if counts else "")


def _render_text(results: Sequence[_Result], strict: bool, out: TextIO) -> None:
    readable = [result for result in results if result.unreadable is None]
    for result in readable:
        for issue in result.issues:
            _write(out, f"{_location_text(result, issue)}: {_label(issue)} {issue.message}")
    for result in readable:
        _write(out, _summary(result, strict))
    if len(results) > 1:
        valid = sum(1 for result in readable if not result.fails(strict))
        unreadable = len(results) - len(readable)
        tail = f", {unreadable} unreadable" if unreadable else ""
        _write(out, f"{valid} of {len(results)} agents valid{tail}")


def _render_json(results: Sequence[_Result], strict: bool, out: TextIO) -> None:
    agents: list[dict[str, Any]] = []
    for result in results:
        if result.unreadable is not None:
            agents.append({"path": result.path, "valid": False, "error": result.unreadable})
            continue
        issues = []
        for issue in result.issues:
            item = issue.to_dict()
            item["location"] = _location_text(result, issue)
            issues.append(item)
        errors = sum(1 for issue in result.issues if issue.is_error)
        agents.append(
            {
                "path": result.path,
                "manifest": result.manifest_path,
                "main": result.main_path,
                "valid": not result.fails(strict),
                "errors": errors,
                "warnings": len(result.issues) - errors,
                # Left out by --no-warnings: they still fail --strict, so say why.
                "hidden_warnings": result.hidden_warnings,
                "issues": issues,
            }
        )
    document = {"valid": all(agent["valid"] for agent in agents), "agents": agents}
    # ensure_ascii: messages may quote odd names (lone surrogates); keep it encodable.
    out.write(json.dumps(document, indent=2, ensure_ascii=True) + "\n")


def _render_github(results: Sequence[_Result], strict: bool, out: TextIO) -> None:
    for result in results:
        if result.unreadable is not None:
            _write(out, f"::error title=viksa validate::{_escape_data(result.unreadable)}")
            continue
        for issue in result.issues:
            file, line, column, path = _where(result, issue)
            properties = [f"file={_escape_property(file)}"]
            message = issue.message
            if path and line is not None:
                # Code embedded in the manifest: its lines are not the manifest's lines.
                message = f"{path} line {line}:{column or 1}: {message}"
            elif path:
                message = f"{path}: {message}"
            elif line is not None:
                properties.append(f"line={line}")
                properties.append(f"col={column or 1}")
            properties.append(f"title={_escape_property(issue.code)}")
            level = "error" if issue.is_error or strict else "warning"
            _write(out, f"::{level} {','.join(properties)}::{_escape_data(message)}")
        _write(out, _summary(result, strict))


_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _render_sarif(results: Sequence[_Result], strict: bool, out: TextIO) -> None:
    from viksa_ai.devtools.validate._codes import ISSUE_CODES

    sarif_results: list[dict[str, Any]] = []
    codes: set[str] = set()
    for result in results:
        if result.unreadable is not None:
            continue  # reported on stderr, with exit code 2: no file to annotate
        for issue in result.issues:
            codes.add(issue.code)
            file, line, column, path = _where(result, issue)
            message = issue.message
            if path and line is not None:
                message = f"{path} line {line}:{column or 1}: {message}"
            elif path:
                message = f"{path}: {message}"
            physical: dict[str, Any] = {"artifactLocation": {"uri": Path(file).as_posix()}}
            if line is not None and not path:
                physical["region"] = {"startLine": line, "startColumn": column or 1}
            sarif_results.append(
                {
                    "ruleId": issue.code,
                    "level": "error" if issue.is_error or strict else "warning",
                    "message": {"text": message},
                    "locations": [{"physicalLocation": physical}],
                }
            )
    rules = [
        {"id": code, "shortDescription": {"text": ISSUE_CODES.get(code, code)}}
        for code in sorted(codes)
    ]
    document = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "viksa validate",
                        "rules": rules,
                    }
                },
                "results": sarif_results,
            }
        ],
    }
    out.write(json.dumps(document, indent=2, ensure_ascii=True) + "\n")


def _write(out: TextIO, line: str) -> None:
    # Names quoted from a manifest may hold characters the terminal cannot encode, or
    # escape sequences it would act on (a manifest is anyone's): both shown escaped. A
    # newline too (in a folder's name): a line it started could forge a result, or be a
    # CI workflow command (`::error ...`, `::stop-commands::`).
    encoding = getattr(out, "encoding", None) or "utf-8"
    text = printable(line).replace("\n", "\\u000a")
    out.write(text.encode(encoding, "backslashreplace").decode(encoding) + "\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_RENDERERS = {
    "text": _render_text,
    "json": _render_json,
    "github": _render_github,
    "sarif": _render_sarif,
}
