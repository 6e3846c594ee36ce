"""Set the one version of every distribution, or check that every copy of it agrees.

    python scripts/bump_version.py 0.4.0         # write 0.4.0 to VERSION and every copy
    python scripts/bump_version.py --check       # exit 1 naming each copy that disagrees
    python scripts/bump_version.py --check --tag v0.4.0  # + the tag and its CHANGELOG entry
    python scripts/bump_version.py --check --dist dist   # + one wheel and sdist per member

The file VERSION at the repository root is the one source. Every other copy is written
by this script and checked by it (and by tests-integration/test_release.py); nobody
edits one by hand. The copies exist because each sdist must build on its own, outside
this repository, and because the injected ViksaAI.py is one standalone file:

- each workspace member's pyproject.toml: ``version`` and every ``==`` pin on a sibling;
- every ``__version__ = "..."`` under packages/*/src, and the injected-file fixture
  tests/fixtures/ViksaAI.py.expected;
- the ``name==version`` pins of commands in README.md and packages/*/README.md.

The client's User-Agent is built from ``viksa_ai.client.__version__`` and the local
platform reports the installed viksa-devtools version: neither holds a copy.

Standard library only, Python 3.10+: the release workflow runs it before any install.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION_FILE = "VERSION"
CHANGELOG_FILE = "CHANGELOG.md"
CHANGELOG_SECTIONS = ("Added", "Changed", "Removed", "Fixed", "Security")
INJECTED_FIXTURE = "tests/fixtures/ViksaAI.py.expected"

# A public PEP 440 version in its normalized form: 1.2.3, 1.2.3rc1, 1.2.3.post1, 1.2.3.dev4.
_PUBLIC_VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")
_PROJECT_TABLE = re.compile(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", re.MULTILINE | re.DOTALL)
_VERSION_FIELD = re.compile(r'^version = "([^"]*)"', re.MULTILINE)
_NAME_FIELD = re.compile(r'^name = "([^"]*)"', re.MULTILINE)
_DUNDER_VERSION = re.compile(r'^__version__ = "([^"]*)"', re.MULTILINE)
_WORKSPACE_MEMBERS = re.compile(
    r"^\[tool\.uv\.workspace\]\s*$.*?^members = \[([^\]]*)\]", re.MULTILINE | re.DOTALL
)


class VersionError(Exception):
    """A version, tag, CHANGELOG or set of built files that cannot be released as it is."""


@dataclass(frozen=True)
class Copy:
    """One place holding the version: the file, its line and the text of the version."""

    path: Path
    line: int
    value: str
    start: int  # offset of ``value`` in the file's text
    what: str

    def describe(self, root: Path) -> str:
        """``path:line: what is "value"`` with the path relative to ``root``."""
        return f'{self.path.relative_to(root)}:{self.line}: {self.what} is "{self.value}"'


def read_version(root: Path = ROOT) -> str:
    """The one version: the content of ``VERSION``."""
    version = (root / VERSION_FILE).read_text(encoding="utf-8").strip()
    check_version(version)
    return version


def check_version(version: str) -> None:
    """Raise VersionError unless ``version`` is a normalized public PEP 440 version."""
    if not _PUBLIC_VERSION.match(version):
        raise VersionError(
            f'"{version}" is not a normalized public version (PEP 440): use e.g. 0.4.0, '
            "0.4.0rc1, 0.4.0.post1"
        )


def workspace_members(root: Path = ROOT) -> dict[str, Path]:
    """Each workspace member's distribution name and folder, from the root pyproject."""
    found = _WORKSPACE_MEMBERS.search((root / "pyproject.toml").read_text(encoding="utf-8"))
    if found is None:
        raise VersionError("the root pyproject.toml has no [tool.uv.workspace] members")
    members: dict[str, Path] = {}
    for pattern in re.findall(r'"([^"]+)"', found.group(1)):
        for folder in sorted(root.glob(pattern)):
            project = folder / "pyproject.toml"
            if project.is_file():
                members[project_name(project)] = folder
    return members


def project_name(pyproject: Path) -> str:
    """The ``[project] name`` of a pyproject.toml."""
    table = _PROJECT_TABLE.search(pyproject.read_text(encoding="utf-8"))
    name = _NAME_FIELD.search(table.group(1)) if table else None
    if name is None:
        raise VersionError(f"{pyproject} has no [project] name")
    return name.group(1)


def _copy(path: Path, text: str, start: int, value: str, what: str) -> Copy:
    return Copy(path, text.count("\n", 0, start) + 1, value, start, what)


def _pin_pattern(names: list[str]) -> re.Pattern[str]:
    # A sibling's name, optional extras, then ==VERSION; never a longer name's tail.
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w.-])({alternatives})(\[[^\]]*\])?==([0-9][\w.+!-]*)")


def find_copies(root: Path = ROOT) -> list[Copy]:
    """Every copy of the version in the repository (VERSION itself excluded)."""
    members = workspace_members(root)
    pins = _pin_pattern(list(members))
    copies: list[Copy] = []

    def add_pins(path: Path, text: str) -> None:
        for pin in pins.finditer(text):
            copies.append(_copy(path, text, pin.start(3), pin.group(3), f"the pin on {pin[1]}"))

    for name, folder in members.items():
        path = folder / "pyproject.toml"
        text = path.read_text(encoding="utf-8")
        table = _PROJECT_TABLE.search(text)
        field = _VERSION_FIELD.search(text, table.start(1), table.end(1)) if table else None
        if field is None:
            raise VersionError(f"{path} has no static [project] version of {name}")
        copies.append(_copy(path, text, field.start(1), field.group(1), f"the version of {name}"))
        add_pins(path, text)
        readme = folder / "README.md"
        if readme.is_file():
            add_pins(readme, readme.read_text(encoding="utf-8"))
        for module in sorted((folder / "src").rglob("*.py")):
            source = module.read_text(encoding="utf-8")
            for found in _DUNDER_VERSION.finditer(source):
                copies.append(_copy(module, source, found.start(1), found[1], "__version__"))
    fixture = root / INJECTED_FIXTURE
    if fixture.is_file():
        source = fixture.read_text(encoding="utf-8")
        for found in _DUNDER_VERSION.finditer(source):
            copies.append(_copy(fixture, source, found.start(1), found[1], "__version__"))
    readme = root / "README.md"
    add_pins(readme, readme.read_text(encoding="utf-8"))
    return copies


def disagreeing(root: Path = ROOT) -> list[str]:
    """A line per copy that differs from VERSION (empty when they all agree)."""
    version = read_version(root)
    return [copy.describe(root) for copy in find_copies(root) if copy.value != version]


def write_version(new: str, root: Path = ROOT) -> list[Path]:
    """Write ``new`` to VERSION and to every copy; return the files changed."""
    check_version(new)
    by_file: dict[Path, list[Copy]] = {}
    for copy in find_copies(root):
        by_file.setdefault(copy.path, []).append(copy)
    changed: list[Path] = []
    for path, copies in by_file.items():
        text = path.read_text(encoding="utf-8")
        # From the end, so the offsets of the copies not yet replaced stay right.
        for copy in sorted(copies, key=lambda c: c.start, reverse=True):
            text = text[: copy.start] + new + text[copy.start + len(copy.value) :]
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    version_file = root / VERSION_FILE
    if version_file.read_text(encoding="utf-8") != f"{new}\n":
        version_file.write_text(f"{new}\n", encoding="utf-8")
        changed.append(version_file)
    return changed


def changelog_entry(text: str, version: str) -> str:
    """The body of the CHANGELOG section ``## version`` (``## [version]`` or with a date)."""
    heading = re.compile(rf"^## \[?{re.escape(version)}\]?(?:\s.*)?$", re.MULTILINE)
    found = heading.search(text)
    if found is None:
        return ""
    following = re.compile(r"^## ", re.MULTILINE).search(text, found.end())
    return text[found.end() : following.start() if following else len(text)]


def changelog_problems(text: str, version: str) -> list[str]:
    """Why the CHANGELOG entry of ``version`` cannot ship (empty when it can)."""
    body = changelog_entry(text, version)
    if not body:
        return [f"{CHANGELOG_FILE} has no section '## {version}': write one before tagging"]
    sections = ", ".join(CHANGELOG_SECTIONS)
    problems = [
        f"{CHANGELOG_FILE} ## {version}: '### {title}' is not one of {sections}"
        for title in re.findall(r"^### (.*?)\s*$", body, flags=re.MULTILINE)
        if title not in CHANGELOG_SECTIONS
    ]
    if not re.search(r"^### .*\n+- ", body, flags=re.MULTILINE):
        problems.append(f"{CHANGELOG_FILE} ## {version} has no '### Added' (etc.) list of changes")
    return problems


def tag_problems(tag: str, root: Path = ROOT) -> list[str]:
    """Why ``tag`` cannot be released from this checkout (empty when it can)."""
    version = read_version(root)
    problems = []
    if tag != f"v{version}":
        problems.append(
            f'the tag "{tag}" is not "v{version}" (VERSION): tag the commit that set the '
            f"version, or run scripts/bump_version.py {tag.removeprefix('v')} and tag again"
        )
    changelog = (root / CHANGELOG_FILE).read_text(encoding="utf-8")
    return problems + changelog_problems(changelog, version)


def dist_problems(directory: Path, root: Path = ROOT) -> list[str]:
    """Why ``directory`` is not exactly one wheel and one sdist per member at VERSION."""
    version = read_version(root)
    wanted = set()
    for name in workspace_members(root):
        stem = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}"
        wanted |= {f"{stem}-py3-none-any.whl", f"{stem}.tar.gz"}
    present = {path.name for path in directory.iterdir() if path.suffix in {".whl", ".gz"}}
    return [f"missing from {directory}: {name}" for name in sorted(wanted - present)] + [
        f"not expected in {directory}: {name}" for name in sorted(present - wanted)
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("version", nargs="?", help="the new version, e.g. 0.4.0")
    parser.add_argument("--check", action="store_true", help="check; change nothing")
    parser.add_argument("--tag", help="with --check: the git tag to release (vVERSION)")
    parser.add_argument("--dist", type=Path, help="with --check: the folder of built files")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (this one)")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    if args.check == (args.version is not None):
        parser.error("give either a new version or --check")
    if not args.check and (args.tag or args.dist):
        parser.error("--tag and --dist go with --check")
    try:
        if args.version is not None:
            for path in write_version(args.version, root):
                print(f"updated {path.relative_to(root)}")
            print(f"Now add a '## {args.version}' section to {CHANGELOG_FILE}.")
            return 0
        problems = disagreeing(root)
        if args.tag is not None:
            problems += tag_problems(args.tag, root)
        if args.dist is not None:
            problems += dist_problems(args.dist, root)
        version = read_version(root)
    except VersionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if problems:
        print(f"VERSION is {version}, but:", *problems, sep="\n  ", file=sys.stderr)
        print(f"Run: python scripts/bump_version.py {version}", file=sys.stderr)
        return 1
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
