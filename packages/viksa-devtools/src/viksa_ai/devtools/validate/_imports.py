"""VX221: main.py imports a package that no entry of ``requirements`` provides.

A platform worker holds the standard library, viksa-runtime (``ViksaAI`` and
``viksa_ai.runtime``), the agent's own files and what its ``requirements`` install,
nothing else. Locally, an agent runs with the developer's interpreter, where
``httpx`` or ``pydantic`` are installed (viksa-ai itself depends on them): an import
that works there fails on every platform worker. This rule names such imports before a
deployment does, as ``deptry`` does for applications: every package main.py imports is
listed, even one another requirement happens to bring along (that one may stop).

A requirement provides an import when its PEP 503 normalized name is the import's top
module (``typing_extensions`` and ``typing-extensions``), starts with it and a dash
(``google-cloud-storage`` for ``google``), adds a usual prefix or suffix (``pyyaml``,
``python-dateutil``, ``psycopg2-binary``) or is known to provide it under another name
(``pillow`` for ``PIL``, :data:`_KNOWN`). Imports under ``if TYPE_CHECKING:`` or
``if __name__ == "__main__":`` (a worker imports main.py as a module), inside a
``try`` whose handler catches ``ImportError`` or a ``with suppress(ImportError):`` (an
optional dependency), under an ``if`` that tests the interpreter or the platform
(``sys.version_info``, ``sys.platform``, ``os.name``, ``find_spec``: either branch may be
the one a worker never runs), and relative ones are left out. When an entry of
``requirements`` names no package (a URL without ``#egg=``, a path, a pip option), what
it installs is unknown and the rule is silent.

The usual agent imports only the standard library and ``ViksaAI`` at module level: that
case is settled from the module's index without another look at the tree.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator

from viksa_ai.devtools.validate._code_index import TRY_STATEMENTS, ModuleIndex, never_on_import
from viksa_ai.devtools.validate._context import RuleContext
from viksa_ai.devtools.validate._issues import Issue

__all__ = ["import_issues", "requirement_names"]

_STDLIB = frozenset(sys.stdlib_module_names)
# Always importable on a worker: the injected runtime module, and the runtime itself.
_PROVIDED = frozenset({"ViksaAI", "viksa_ai", "viksa_ai.runtime"})
# Top modules whose package is named otherwise (normalized names; the first is suggested).
_KNOWN: dict[str, tuple[str, ...]] = {
    "PIL": ("pillow",),
    "bs4": ("beautifulsoup4",),
    "sklearn": ("scikit-learn",),
    "skimage": ("scikit-image",),
    "cv2": (
        "opencv-python",
        "opencv-python-headless",
        "opencv-contrib-python",
        "opencv-contrib-python-headless",
    ),
    "fitz": ("pymupdf",),
    "Crypto": ("pycryptodome", "pycrypto"),
    "Cryptodome": ("pycryptodomex",),
    "OpenSSL": ("pyopenssl",),
    "git": ("gitpython",),
    "googleapiclient": ("google-api-python-client",),
    "google.protobuf": ("protobuf",),  # a namespace package's module: its first two names
    "bson": ("pymongo",),
    "attr": ("attrs",),
    "dns": ("dnspython",),
    "MySQLdb": ("mysqlclient",),
    "websocket": ("websocket-client",),
    "socks": ("pysocks",),
    "grpc": ("grpcio",),
    "mpl_toolkits": ("matplotlib",),
    "pkg_resources": ("setuptools",),
    "markdown_it": ("markdown-it-py",),
    "faiss": ("faiss-cpu", "faiss-gpu"),
    "telegram": ("python-telegram-bot",),
    "win32api": ("pywin32",),
    "win32con": ("pywin32",),
    "jwt": ("pyjwt",),
    "yaml": ("pyyaml",),
    "dateutil": ("python-dateutil",),
    "dotenv": ("python-dotenv",),
    "docx": ("python-docx",),
    "pptx": ("python-pptx",),
    "magic": ("python-magic",),
    "multipart": ("python-multipart",),
    "jose": ("python-jose",),
    "serial": ("pyserial",),
    "zmq": ("pyzmq",),
    "nacl": ("pynacl",),
    "usb": ("pyusb",),
}
# viksa_ai's distributions: the package each subpackage comes from (viksa-ai has all).
_VIKSA = {
    "client": ("viksa-client", "viksa-mcp"),
    "models": ("viksa-models", "viksa-client", "viksa-devtools", "viksa-mcp"),
    "devtools": ("viksa-devtools",),
    "mcp_bridge": ("viksa-mcp",),
}
# Namespace packages: many distributions share the top module, each names the module
# path it installs (google-cloud-storage installs google.cloud.storage).
_NAMESPACES = frozenset({"google", "azure"})
# Under these, the distribution is named after three parts of the path, not two.
_DEEP_NAMESPACES = frozenset({"google.cloud", "azure.storage", "azure.mgmt", "azure.ai"})
# `from X import name` imports a package per name from these (viksa_ai's subpackages too).
_PER_NAME = frozenset({"viksa_ai"}) | _NAMESPACES | _DEEP_NAMESPACES
_AFFIXES = (("py", ""), ("python-", ""), ("", "-python"), ("", "-binary"), ("", "-py"))
_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:$|[\[(<>=!~;@ ])")
_EGG = re.compile(r"#egg=([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_SEPARATORS = re.compile(r"[-_.]+")
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})
# Names an `if` tests when its branches depend on the interpreter or the platform.
_ENVIRONMENT = frozenset(
    {"version_info", "hexversion", "platform", "implementation", "find_spec", "os.name"}
)


def _normalized(name: str) -> str:
    """PEP 503's normalized form of a package name."""
    return _SEPARATORS.sub("-", name).lower()


def requirement_names(requirements: Iterable[str]) -> frozenset[str] | None:
    """The normalized package names ``requirements`` install; None if one is unreadable.

    An entry is a PEP 508 requirement (``httpx>=0.27``, ``pandas[excel]; python_version
    >= "3.10"``, ``name @ url``) or a URL with ``#egg=name``; blank entries and comments
    are skipped. A path, a bare URL or a pip option makes the whole set unknown.
    """
    names: set[str] = set()
    for entry in requirements:
        text = entry.split(" #", 1)[0].strip()
        if not text or text.startswith("#"):
            continue
        egg = _EGG.search(text)
        if egg is not None:
            names.add(_normalized(egg.group(1)))
            continue
        if "://" in text.split("@", 1)[0] or text.startswith(("-", ".", "/", "~")):
            return None
        match = _NAME.match(text)
        if match is None:
            return None
        names.add(_normalized(match.group(1)))
    return frozenset(names)


def _candidates(module: str) -> tuple[str, ...]:
    """The package names that provide the top module of ``module`` (suggested first)."""
    root, _, rest = module.partition(".")
    if root == "viksa_ai":
        sub = rest.partition(".")[0]
        return (*_VIKSA.get(sub, ()), "viksa-ai")
    known = _KNOWN.get(root) or _KNOWN.get(".".join(module.split(".", 2)[:2]))
    if root in _NAMESPACES:
        return (*(known or ()), _normalized(_shown(module)))
    base = _normalized(root)
    affixed = tuple(f"{before}{base}{after}" for before, after in _AFFIXES)
    return (*(known or ()), base, *affixed)


def _provided_by(module: str, names: frozenset[str]) -> bool:
    if any(name in names for name in _candidates(module)):
        return True
    prefix = _normalized(module.partition(".")[0]) + "-"
    return any(name.startswith(prefix) for name in names)


def _local_modules(file_names: Iterable[str]) -> frozenset[str]:
    """Top modules the agent's own files define (``utils.py``, ``helpers/...``)."""
    roots: set[str] = set()
    for name in file_names:
        first = name.replace("\\", "/").lstrip("./").split("/", 1)[0]
        roots.add(first.removesuffix(".py"))
    return frozenset(roots)


def _imported(statement: ast.Import | ast.ImportFrom) -> Iterator[tuple[str, ast.AST]]:
    """The absolute modules a statement imports (``viksa_ai`` ones to the subpackage)."""
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            yield alias.name, alias
    elif statement.level == 0 and statement.module:
        if statement.module in _PER_NAME:
            # `from google.cloud import storage`: the package is named after the name.
            for alias in statement.names:
                yield f"{statement.module}.{alias.name}", alias
        else:
            yield statement.module, statement


def _external(module: str) -> bool:
    """Whether ``module`` comes from neither the standard library nor viksa-runtime."""
    root = module.partition(".")[0]
    if root == "viksa_ai":
        parts = module.split(".", 2)
        return len(parts) > 1 and parts[1] != "runtime"
    return root not in _STDLIB and root not in _PROVIDED


def import_issues(ctx: RuleContext, module: ModuleIndex) -> Iterator[Issue]:
    """VX221 (warning): main.py imports a package that no requirement installs."""
    requirements = ctx.view.requirements
    main = ctx.main
    if requirements is None or main is None or main.parsed.tree is None:
        return
    statements = module.imports
    # Every import at module level: the only ones unless the text says "import" more often.
    if main.parsed.source.text.count("import") <= len(statements) and not any(
        _external(name) for statement in statements for name, _ in _imported(statement)
    ):
        return
    names = requirement_names(requirements)
    if names is None:
        return
    local = _local_modules(file.name for _, file in ctx.view.files.items)
    reported: set[str] = set()
    for statement in _unguarded_imports(main.parsed.tree.body):
        for name, node in _imported(statement):
            shown = _shown(name)
            if (
                shown in reported
                or not _external(name)
                or name.partition(".")[0] in local
                or _provided_by(name, names)
            ):
                continue
            reported.add(shown)
            yield ctx.code_issue("VX221", _message(name), node, severity="warning")


def _shown(module: str) -> str:
    """What an import is named by: its top module, ``viksa_ai``'s subpackage, or a
    namespace package's module (``google.cloud.storage``)."""
    root, _, rest = module.partition(".")
    if root == "viksa_ai":
        sub = rest.partition(".")[0]
        return f"viksa_ai.{sub}" if sub in _VIKSA else "viksa_ai"  # the meta-package's names
    if root in _NAMESPACES and rest:
        parts = module.split(".", 3)
        depth = 3 if ".".join(parts[:2]) in _DEEP_NAMESPACES and len(parts) > 2 else 2
        return ".".join(parts[:depth])
    return root


def _message(module: str) -> str:
    shown = _shown(module)
    package = _candidates(module)[0]
    return (
        f"main.py imports {shown!r}, which no entry of requirements installs: a platform "
        "worker has only the standard library, viksa-runtime and the agent's "
        "requirements, so the import fails there even where it works locally: add "
        f"{package!r} to requirements"
    )


def _unguarded_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that runs unguarded, at any depth, in source order.

    Left out: ``if TYPE_CHECKING:`` / ``if __name__ == "__main__":`` / ``if False:``
    bodies (never run when the worker imports main.py), an ``if`` on the interpreter or
    platform, and the body of a ``try`` whose handlers catch ``ImportError`` or of
    ``with suppress(ImportError)`` (the agent copes without the package).
    """
    stack: list[ast.stmt] = body[::-1]
    while stack:
        statement = stack.pop()
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            yield statement
            continue
        nested: list[ast.stmt] = []
        if isinstance(statement, ast.If):
            if _tests_environment(statement.test):
                continue
            if not never_on_import(statement.test):
                nested.extend(statement.body)
            nested.extend(statement.orelse)
        elif isinstance(statement, ast.Match):
            for case in statement.cases:
                nested.extend(case.body)
        else:
            if not _optional_block(statement):
                nested.extend(getattr(statement, "body", ()))
            for handler in getattr(statement, "handlers", ()):
                nested.extend(handler.body)
            nested.extend(getattr(statement, "orelse", ()))
            nested.extend(getattr(statement, "finalbody", ()))
        stack.extend(reversed(nested))


def _tests_environment(test: ast.expr) -> bool:
    """Whether an ``if`` tests the Python version, the platform or an installed module."""
    for node in ast.walk(test):
        if isinstance(node, ast.Attribute):
            spelled = f"os.{node.attr}" if _is_name(node.value, "os") else node.attr
        elif isinstance(node, ast.Name):
            spelled = node.id
        else:
            continue
        if spelled in _ENVIRONMENT:
            return True
    return False


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _optional_block(statement: ast.stmt) -> bool:
    """A ``try`` that catches ``ImportError``, or ``with suppress(ImportError):``."""
    if isinstance(statement, TRY_STATEMENTS):
        for handler in statement.handlers:
            if handler.type is None or _names_import_error(handler.type):
                return True
    elif isinstance(statement, (ast.With, ast.AsyncWith)):
        for item in statement.items:
            call = item.context_expr
            if (
                isinstance(call, ast.Call)
                and _spelled(call.func) == "suppress"
                and any(_names_import_error(arg) for arg in call.args)
            ):
                return True
    return False


def _names_import_error(caught: ast.expr) -> bool:
    types = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    return any(_spelled(node) in _IMPORT_ERRORS for node in types)


def _spelled(node: ast.expr) -> str:
    """The last name of ``a.b.c`` or ``c`` (empty for other expressions)."""
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
