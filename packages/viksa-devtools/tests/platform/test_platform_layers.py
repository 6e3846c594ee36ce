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
