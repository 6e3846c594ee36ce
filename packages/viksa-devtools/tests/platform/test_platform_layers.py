"""The platform's layers: services and the store never import the HTTP framework.

Services fail with domain errors; one handler at the edge renders them in the wire's
``{"detail": ...}`` shapes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.services._errors import (
    ConflictError,
    DomainError,
    ForbiddenError,
    InvalidError,
    NotAuthenticatedError,
    NotFoundError,
    UnavailableError,
)
from viksa_ai.devtools.platform.store._kinds import KINDS

_PLATFORM = Path(__file__).parents[2] / "src" / "viksa_ai" / "devtools" / "platform"
_WEB_FRAMEWORKS = ("fastapi", "starlette", "uvicorn")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["services", "store"])
def test_the_inner_layers_never_import_the_web_framework(layer: str) -> None:
    modules = sorted((_PLATFORM / layer).glob("*.py"))
    assert modules
    if layer == "services":
        assert {"_chat.py", "_chat_runs.py", "_marketplace.py"} <= {p.name for p in modules}
    offending = {
        path.name: sorted(n for n in _imports(path) if n.split(".")[0] in _WEB_FRAMEWORKS)
        for path in modules
    }
    assert {name: found for name, found in offending.items() if found} == {}


@pytest.mark.parametrize(
    ("layer", "outer"),
    [("store", (".platform.services", ".platform.http")), ("services", (".platform.http",))],
)
def test_a_layer_never_imports_the_layers_above_it(layer: str, outer: tuple[str, ...]) -> None:
    for path in (_PLATFORM / layer).glob("*.py"):
        assert not [n for n in _imports(path) if any(o in n for o in outer)], path.name


_ROUTE_MODULES = sorted(
    [
        *(_PLATFORM / "http" / "_routes").glob("*.py"),
        *(_PLATFORM / "http" / "_dashboard").glob("*.py"),
    ]
)
# What a route module may take from the store: the type of the records it answers.
_STORE_TYPES = {"Doc"}


def _store_access(tree: ast.AST) -> list[str]:
    """Where a module reaches the store itself: ``x.store`` or a store name imported."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "store":
            found.append(f"line {node.lineno}: .store")
        elif isinstance(node, ast.ImportFrom) and ".platform.store" in (node.module or ""):
            found.extend(
                f"line {node.lineno}: imports {alias.name}"
                for alias in node.names
                if alias.name not in _STORE_TYPES
            )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith("._deps"):
            # The HTTP layer's record lookup reads the store: ownership is a service's.
            found.extend(
                f"line {node.lineno}: imports {alias.name}"
                for alias in node.names
                if alias.name == "owned"
            )
    return found


def test_the_store_access_check_finds_what_it_forbids() -> None:
    source = (
        "from viksa_ai.devtools.platform.store._store import Doc, KeyTakenError\n"
        "from viksa_ai.devtools.platform.http._deps import PlatformDep, owned\n"
        "def route(platform):\n"
        "    return platform.store.get('agent', 'x')\n"
    )
    assert _store_access(ast.parse(source)) == [
        "line 1: imports KeyTakenError",
        "line 2: imports owned",
        "line 4: .store",
    ]


@pytest.mark.parametrize("path", _ROUTE_MODULES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_routes_reach_records_only_through_services(path: Path) -> None:
    # Routes parse, call one service method and answer: the services own the records.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _store_access(tree) == []


def test_every_route_module_is_checked() -> None:
    names = {path.name for path in _ROUTE_MODULES}
    assert {"chat.py", "marketplace.py", "pulse.py", "_routes.py"} <= names


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("x"), 404),
        (ConflictError("x"), 409),
        (ForbiddenError("x"), 403),
        (NotAuthenticatedError("x"), 401),
        (InvalidError("x"), 400),
        (InvalidError([{"loc": ["body"], "msg": "m", "type": "t"}], status=422), 422),
        (UnavailableError("x"), 503),
    ],
)
def test_each_domain_error_carries_its_status(error: DomainError, status: int) -> None:
    assert error.status_code == status
    assert error.message


def test_a_list_detail_reads_as_its_messages() -> None:
    error = InvalidError([{"loc": ["body", "a"], "msg": "first"}, {"msg": "second"}], status=422)
    assert error.message == "first; second"


def test_record_kinds_are_one_set() -> None:
    assert {"agent", "execution", "workflow_execution", "idempotency"} <= KINDS


async def test_a_domain_error_is_answered_in_the_wire_shape(
    viksa_platform: LocalPlatform, http: httpx.AsyncClient
) -> None:
    missing = await http.get("/pulse/executor/execution/exe_nothing")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Execution 'exe_nothing' not found"}
    anonymous = await http.get(
        "/pulse/executor/execution/exe_nothing", headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert anonymous.json()["detail"]["code"] == "not_authenticated"


def _awaits_in_transactions(source: str) -> list[int]:
    """Lines of ``await`` (or ``async for``/``async with``) inside a ``transaction()`` block."""
    found: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.With, ast.AsyncWith)):
            continue
        opened = any(
            isinstance(item.context_expr, ast.Call)
            and isinstance(item.context_expr.func, ast.Attribute)
            and item.context_expr.func.attr == "transaction"
            for item in node.items
        )
        if not opened:
            continue
        stack: list[ast.AST] = list(node.body)
        while stack:
            inner = stack.pop()
            if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue  # defined here, run elsewhere
            if isinstance(inner, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
                found.append(inner.lineno)
            stack.extend(ast.iter_child_nodes(inner))
    return sorted(found)


def test_no_transaction_spans_an_await() -> None:
    # The store is one connection: a request served while a transaction waits writes
    # into it, and a rollback then undoes what that request was told it stored.
    modules = sorted(_PLATFORM.rglob("*.py"))
    assert _PLATFORM / "services" / "_marketplace.py" in modules
    spanning = {
        str(path.relative_to(_PLATFORM)): lines
        for path in modules
        if (lines := _awaits_in_transactions(path.read_text(encoding="utf-8")))
    }
    assert spanning == {}


def test_the_transaction_check_finds_what_it_forbids() -> None:
    source = (
        "async def f(store, g):\n"
        "    with store.transaction():\n"
        "        await g()\n"
        "    with store.transaction():\n"
        "        async def later():\n"
        "            await g()\n"
    )
    assert _awaits_in_transactions(source) == [3]
