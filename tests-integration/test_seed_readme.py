"""The published seed README (``/work/shared/spec/seed-README.txt``) as a contract.

Every name it imports or mentions, every row of its tables (client methods with the
parameter names it shows, on ``ViksaClient`` and ``ViksaSyncClient``; ViksaAuth; the
environment variables; the error classes and their statuses; the ``ViksaApiError``
attributes; the models per module) and the snippets not already run over a socket by
``test_platform_live.py``, run here against the in-process local platform of the
devtools pytest plugin (fixtures ``viksa_platform`` and ``viksa_client``).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from viksa_ai import ViksaClient, ViksaNotFoundError, ViksaSyncClient, ViksaValidationError
from viksa_ai.client import (
    ClientConfig,
    ErrorDetail,
    RequestOptions,
    RetryConfig,
    ViksaApiError,
    ViksaError,
    ViksaTransportError,
)
from viksa_ai.devtools import (
    AgentValidationError,
    validate_a2a_envelope,
    validate_agent_manifest,
)
from viksa_ai.devtools.platform import LocalPlatform, SyncASGITransport
from viksa_ai.models.executor import AgentType, EndpointExecutionRequest
from viksa_ai.runtime import A2A_PAYLOAD_KEY, ViksaAuth, ViksaAuthError, attach_envelope, context

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
NO_RETRY = RetryConfig(max_retries=0)

# -- names the README imports or mentions, where it says they are ---------------------------

IMPORTS: list[tuple[str, str]] = [
    # "from viksa_ai.runtime import ViksaAuth, mcp_endpoint" and the A2A / injection sections
    *(
        ("viksa_ai.runtime", name)
        for name in (
            "ViksaAuth",
            "ViksaAuthError",
            "mcp_endpoint",
            "attach_envelope",
            "context",
            "A2A_PAYLOAD_KEY",
            "A2AContext",
            "_strip_envelope",
            "_set_envelope",
            "to_module_source",
        )
    ),
    ("viksa_ai.runtime.inject", "to_module_source"),
    # "from viksa_ai import ViksaClient, ViksaNotFoundError, ViksaValidationError"
    *(("viksa_ai", name) for name in ("ViksaClient", "ViksaNotFoundError", "ViksaValidationError")),
    ("viksa_ai.client", "ClientConfig"),
    ("viksa_ai.client", "RetryConfig"),
    ("viksa_ai.client", "ViksaClient"),
    ("viksa_ai.client", "ErrorDetail"),
    *(
        ("viksa_ai.devtools", name)
        for name in ("AgentValidationError", "validate_agent_manifest", "validate_a2a_envelope")
    ),
    ("viksa_ai.models.executor", "AgentType"),
    ("viksa_ai.models.executor", "EndpointExecutionRequest"),
]


@pytest.mark.parametrize(("module", "name"), IMPORTS, ids=[f"{m}:{n}" for m, n in IMPORTS])
def test_readme_import_exists(module: str, name: str) -> None:
    value = getattr(importlib.import_module(module), name)
    assert value is not None
    if not name.isupper() and name != "A2AContext":
        assert callable(value)


def test_inject_and_runtime_name_the_same_function() -> None:
    runtime = importlib.import_module("viksa_ai.runtime")
    inject = importlib.import_module("viksa_ai.runtime.inject")
    assert runtime.to_module_source() == inject.to_module_source()
    assert runtime.A2A_PAYLOAD_KEY == "__viksa_a2a__"


# "Data models" table: module -> types (the trailing "..." rows are open-ended).
MODELS: list[tuple[str, str]] = [
    *(
        ("viksa_ai.models.agent", name)
        for name in (
            "AgentCreationRequest",
            "AgentUpdateRequest",
            "AgentGenerationResponse",
            "AgentEndpoint",
            "AgentInput",
            "AgentOutput",
        )
    ),
    *(("viksa_ai.models.auth", n) for n in ("LoginRequest", "TokenResponse", "UserResponse")),
    *(("viksa_ai.models.a2a", n) for n in ("A2AEnvelope", "A2AResponse", "A2AStatus")),
    *(
        ("viksa_ai.models.executor", name)
        for name in (
            "EndpointExecutionRequest",
            "EndpointExecutionResponse",
            "AgentInvokeRequest",
            "AgentInvokeResponse",
        )
    ),
]


@pytest.mark.parametrize(("module", "name"), MODELS, ids=[f"{m}:{n}" for m, n in MODELS])
def test_readme_model_is_a_pydantic_model(module: str, name: str) -> None:
    model = getattr(importlib.import_module(module), name)
    if name == "A2AStatus":
        assert issubclass(model, Enum)
    else:
        assert issubclass(model, BaseModel)
        assert model.model_json_schema()["title"] == name


def test_readme_a2a_protocol_version_constant() -> None:
    from viksa_ai.models.a2a import A2A_PROTOCOL_VERSION, A2AEnvelope

    assert isinstance(A2A_PROTOCOL_VERSION, int)
    envelope = A2AEnvelope.model_validate(
        {"run_id": "run-123", "callee_agent": "my_agent", "endpoint": "my_agent.main.search"}
    )
    assert envelope.protocol_version == A2A_PROTOCOL_VERSION


def test_readme_pulse_models_are_the_executor_models() -> None:
    """``client.pulse``: "Typed models: EndpointExecutionRequest, ..." are the executor's."""
    request = EndpointExecutionRequest(
        agent_id="a",
        agent_type=AgentType.CLOUD,
        endpoint="my_agent.main.search",
        inputs={"query": "flights to LAX"},
    )
    assert request.endpoint == "my_agent.main.search"
    assert AgentType.CLOUD.value == "cloud"


A2A_KEYS = (
    "run_id",
    "parent_step_id",
    "caller_agent",
    "callee_agent",
    "endpoint",
    "idempotency_key",
    "deadline_at",
    "metadata",
)


@pytest.mark.parametrize("key", A2A_KEYS)
def test_readme_a2a_context_key(key: str) -> None:
    from viksa_ai.runtime import A2AContext

    assert key in A2AContext.__annotations__


# -- sub-clients and their method tables, on both clients -----------------------------------

SUBCLIENTS = [
    "auth",
    "auth.orgs",
    "auth.projects",
    "builder.agents",
    "builder.deploy",
    "builder.secrets",
    "builder.mcp",
    "chat",
    "chat.triggers",
    "chat.approvals",
    "pulse",
    "workflow",
    "workflow.executions",
    "scheduler",
    "marketplace",
    "marketplace.listings",
    "marketplace.workforce",
    "marketplace.publishers",
]

CLIENTS = [ViksaClient, ViksaSyncClient]


def _resolve(root: object, dotted: str) -> Any:
    for part in dotted.split("."):
        root = getattr(root, part)
    return root


@pytest.fixture(params=CLIENTS, ids=lambda cls: cls.__name__)
def offline_client(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A client of each kind, never used for a call (only its shape is read)."""
    cls = request.param
    client = cls(access_token="t", base_url="http://127.0.0.1:9")
    yield client
    if cls is ViksaSyncClient:
        client.close()


@pytest.mark.parametrize("path", SUBCLIENTS)
def test_readme_subclient_tree(offline_client: Any, path: str) -> None:
    sub = _resolve(offline_client, path)
    assert type(sub).__module__.startswith("viksa_ai.client.")


# Each row: (sub-client, the README's method cell or one name of a compound cell).
# A cell "f(a, b, c=...)" promises positional parameters a, b in that order and a keyword c;
# "..." promises nothing more; a bare name promises a method.
METHOD_ROWS: list[tuple[str, str]] = [
    # client.auth
    ("auth", "login(email, password)"),
    ("auth", "refresh()"),
    ("auth", "me()"),
    ("auth", "switch_org(org_id)"),
    ("auth", "switch_project(project_id)"),
    ("auth", "logout()"),
    ("auth", "logout_all()"),
    ("auth", "usage()"),
    ("auth", "list_sessions()"),
    ("auth", "revoke_session(id)"),
    ("auth", "create_api_key"),
    ("auth", "list_api_keys"),
    ("auth", "revoke_api_key"),
    ("auth", "delete_api_key"),
    ("auth", "create_worker_key"),
    ("auth", "list_worker_keys"),
    ("auth", "validate_api_key(key)"),  # "await client.auth.validate_api_key("vk_...")"
    *(("auth.orgs", name) for name in ("create", "list", "get", "update", "delete")),
    *(("auth.projects", name) for name in ("create", "list", "get", "update", "delete")),
    # client.builder.agents
    ("builder.agents", "create(request)"),
    ("builder.agents", "list(skip, limit, search)"),
    ("builder.agents", "get(agent_id)"),
    ("builder.agents", "update(agent_id, request)"),
    ("builder.agents", "delete(agent_id)"),
    ("builder.agents", "set_endpoint_status(agent_id, name, enabled=...)"),
    ("builder.agents", "revisions"),
    ("builder.agents", "revision"),
    ("builder.agents", "share"),
    ("builder.agents", "set_status"),
    ("builder.agents", "iter_all()"),
    ("builder.agents", "iter_all(search=...)"),  # the pagination snippet
    # "secrets.update_secret, delete_secret, secret_usage" and "mcp.update, delete, ..."
    ("builder.secrets", "update_secret"),
    ("builder.secrets", "delete_secret"),
    ("builder.secrets", "secret_usage"),
    *(("builder.mcp", name) for name in ("update", "delete", "start", "stop")),
    # client.builder.deploy
    ("builder.deploy", "build(agent_id)"),
    ("builder.deploy", "deploy(agent_id)"),
    ("builder.deploy", "reconcile(agent_id)"),
    # client.builder.secrets
    ("builder.secrets", "vault_status()"),
    ("builder.secrets", "create_secret(name, value, description=...)"),
    ("builder.secrets", "list_secrets(skip, limit, search)"),
    ("builder.secrets", "get_secret(secret_id)"),
    # client.builder.mcp
    ("builder.mcp", "create(body)"),
    ("builder.mcp", "list(status, skip, limit)"),
    ("builder.mcp", "get(server_id)"),
    # client.chat
    ("chat", "indent_finder(message, conversation_id=..., workforce_id=...)"),
    ("chat", "stream_indent_finder(...)"),
    ("chat", "stream_indent_finder(message)"),  # the SSE snippet passes the message
    ("chat", "list_conversations(skip, limit)"),
    ("chat", "get_conversation(id)"),
    ("chat", "generate_agent(prompt)"),
    ("chat", "fix_agent(body)"),
    *(("chat", n) for n in ("cancel_execution", "active_execution", "stream_execution")),
    *(("chat", n) for n in ("patch_conversation", "delete_conversation", "search")),
    ("chat", "token_stats"),
    ("chat", "iter_conversations()"),
    *(("chat.approvals", name) for name in ("list", "get", "decide")),
    # client.chat.triggers
    ("chat.triggers", "create(body)"),
    ("chat.triggers", "list(skip, limit)"),
    ("chat.triggers", "get(trigger_id)"),
    ("chat.triggers", "update(trigger_id, body)"),
    ("chat.triggers", "delete(trigger_id)"),
    ("chat.triggers", "test(trigger_id)"),
    ("chat.triggers", "list_executions(trigger_id)"),
    # client.marketplace
    *(
        ("marketplace.listings", name)
        for name in ("create", "search", "list", "get", "publish", "install")
    ),
    *(("marketplace.workforce", name) for name in ("publish", "search", "install")),
    *(("marketplace.publishers", n) for n in ("create_profile", "me", "update_profile")),
    ("marketplace", "categories()"),
    ("marketplace", "installations()"),
    # client.pulse
    ("pulse", "execute(request)"),
    ("pulse", "invoke(request)"),
    # client.workflow
    ("workflow", "start(workflow_id, trigger_source=...)"),
    ("workflow", "get(workflow_id)"),
    ("workflow", "list(skip, limit)"),
    ("workflow", "delete(workflow_id)"),
    # client.workflow.executions
    ("workflow.executions", "create(workflow_id, schedule_id=...)"),
    ("workflow.executions", "get(execution_id)"),
    ("workflow.executions", "list(skip, limit)"),
    ("workflow.executions", "start(execution_id)"),
    *(
        ("workflow.executions", name)
        for name in ("retry", "stop", "delete", "patch_tasks", "list_for_workflow")
    ),
    # client.scheduler
    ("scheduler", "create(body)"),
    ("scheduler", "list(skip, limit)"),
    ("scheduler", "get(schedule_id)"),
    ("scheduler", "update(schedule_id, body)"),
    ("scheduler", "delete(schedule_id)"),
    ("scheduler", "pause(schedule_id)"),
    ("scheduler", "resume(schedule_id)"),
    ("scheduler", "run_now(schedule_id)"),
]

# The "_sync" rows exist on the async client only (the sync client's methods are sync).
SYNC_VARIANT_ROWS: list[tuple[str, str]] = [
    ("auth", "login_sync(...)"),
    ("auth", "refresh_sync()"),
    ("auth", "me_sync()"),
    ("pulse", "execute_sync(request)"),
]

_CELL = re.compile(r"^(?P<name>\w+)(?:\((?P<params>[^)]*)\))?$")


@dataclass(frozen=True)
class Promise:
    """What one README method cell promises about a signature."""

    name: str
    positional: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    var_positional: str | None = None
    # "f()" or "f(a, b=...)" shows a whole call; "f" and "f(...)" only name the method.
    whole_call: bool = False


def parse_cell(cell: str) -> Promise:
    match = _CELL.match(cell)
    assert match, f"unparsable README cell {cell!r}"
    positional: list[str] = []
    keywords: list[str] = []
    star: str | None = None
    whole_call = match["params"] is not None
    for raw in filter(None, (p.strip() for p in (match["params"] or "").split(","))):
        if raw == "...":
            whole_call = False
            continue
        if raw.startswith("*"):
            star = raw[1:]
        elif raw.endswith("=..."):
            keywords.append(raw.removesuffix("=..."))
        else:
            positional.append(raw)
    return Promise(match["name"], tuple(positional), tuple(keywords), star, whole_call)


def check_signature(method: Any, promise: Promise) -> None:
    """Assert that ``method`` accepts the call the README shows."""
    assert callable(method), f"{promise.name} is not callable"
    params = list(inspect.signature(method).parameters.values())
    positional = [
        p.name
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    got = positional[: len(promise.positional)]
    assert len(got) == len(promise.positional), (promise, positional)
    for shown, actual in zip(promise.positional, got, strict=True):
        # The README writes a bare "id" where the HTTP column has "{id}" (it also writes
        # get(agent_id) for GET /agent/{id}): the positional argument is the resource id.
        if shown == "id":
            assert actual == "id" or actual.endswith("_id"), (promise, positional)
        else:
            assert actual == shown, (promise, positional)
    names = {p.name for p in params}
    for keyword in promise.keywords:
        assert keyword in names, (promise, sorted(names))
    # Everything past what the README shows must be optional: the README calls work.
    required = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        and p.name not in promise.positional
        and p.name not in promise.keywords
        and not (p.name.endswith("_id") and "id" in promise.positional)
    ]
    if promise.whole_call:
        assert required == [], (promise, required)
    if promise.var_positional is not None:
        star = [p for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL]
        assert [p.name for p in star] == [promise.var_positional], (promise, params)


def _row_id(row: tuple[str, str]) -> str:
    return f"{row[0]}.{row[1]}"


@pytest.mark.parametrize("row", METHOD_ROWS, ids=_row_id)
def test_readme_method_row(offline_client: Any, row: tuple[str, str]) -> None:
    owner, cell = row
    promise = parse_cell(cell)
    method = getattr(_resolve(offline_client, owner), promise.name)
    check_signature(method, promise)
    if isinstance(offline_client, ViksaSyncClient):
        assert not inspect.iscoroutinefunction(method), f"{cell} must be sync on the sync client"


@pytest.mark.parametrize("row", SYNC_VARIANT_ROWS, ids=_row_id)
def test_readme_sync_variant_on_the_async_client(row: tuple[str, str]) -> None:
    owner, cell = row
    promise = parse_cell(cell)
    client = ViksaClient(access_token="t", base_url="http://127.0.0.1:9")
    method = getattr(_resolve(client, owner), promise.name)
    async_twin = getattr(_resolve(client, owner), promise.name.removesuffix("_sync"))
    assert inspect.iscoroutinefunction(async_twin)
    assert not inspect.iscoroutinefunction(method)
    check_signature(method, promise)
    # "Synchronous variant": the same parameters as the async method.
    assert list(inspect.signature(method).parameters) == list(
        inspect.signature(async_twin).parameters
    )


ROOT_ROWS: list[tuple[str, str]] = [
    ("ViksaClient", "from_env()"),
    ("ViksaClient", "from_api_key(key, validate=..., base_url=...)"),
    ("ViksaClient", "from_login(email, password, base_url=...)"),
    ("ViksaClient", "webhook(trigger_id, webhook_token=...)"),
    ("ViksaClient", "iter_sse_lines(response)"),
    ("client", "request(method, prefix, path)"),
    (
        "ViksaClient",
        "__init__(self, access_token=..., org_id=..., project_id=..., refresh_token=...,"
        " base_url=..., timeout=..., config=...)",
    ),
]


@pytest.mark.parametrize("cls", CLIENTS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("row", ROOT_ROWS, ids=lambda row: row[1].partition("(")[0])
def test_readme_root_client_row(cls: type[Any], row: tuple[str, str]) -> None:
    _, cell = row
    promise = parse_cell(cell.replace("self, ", ""))
    if promise.name == "__init__":
        target: Any = cls  # the constructor's signature, without self
    elif row[0] == "client":
        instance = cls(access_token="t", base_url="http://127.0.0.1:9")
        target = getattr(instance, promise.name)
        if cls is ViksaSyncClient:
            instance.close()
    else:
        target = getattr(cls, promise.name)
    check_signature(target, promise)
    if promise.name in {"iter_sse_lines", "webhook", "from_env", "from_api_key"}:
        # "ViksaClient.iter_sse_lines(response) is a static helper"; the others are
        # called on the class too.
        assert getattr(cls, promise.name).__qualname__.startswith(cls.__name__)
    if promise.name == "iter_sse_lines":
        assert isinstance(inspect.getattr_static(cls, "iter_sse_lines"), staticmethod)
    if cls is ViksaClient and promise.name == "from_login":
        assert inspect.iscoroutinefunction(cls.from_login)  # "await ViksaClient.from_login"


@pytest.mark.parametrize("method", ["invoke", "stream"])
def test_readme_webhook_methods(offline_client: Any, method: str) -> None:
    """``wh = ViksaClient.webhook("trigger-id", webhook_token=...)``; invoke and stream."""
    wh = type(offline_client).webhook("trigger-id", webhook_token="wh-token")
    # The README passes the event positionally and names no parameter.
    inspect.signature(getattr(wh, method)).bind({"event": "order.created"})
    assert inspect.iscoroutinefunction(wh.invoke) is not isinstance(offline_client, ViksaSyncClient)
    assert "wh-token" not in repr(wh)
    if isinstance(offline_client, ViksaSyncClient):
        wh.close()


def test_readme_debugger_hooks(offline_client: Any) -> None:
    """``executions/*/debug/*``: the chat client wraps the debugger routes."""
    hooks = sorted(name for name in dir(offline_client.chat) if name.startswith("debug_"))
    assert hooks == ["debug_inspect", "debug_resume", "debug_start", "debug_stop"]


def test_readme_positional_token() -> None:
    """``ViksaClient(token, config=...)``: the access token is the first positional."""
    params = list(inspect.signature(ViksaClient).parameters.values())
    assert params[0].name == "access_token"
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


# -- ViksaAuth: env names, method table and the snippets ------------------------------------


@pytest.fixture
def auth_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The variables the platform injects for an agent with two methods, one enabled."""
    for name in ("VIKSA_AUTH_ENABLED_METHODS", "VIKSA_AUTH_CONFIGURED_METHODS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIKSA_AUTH_CONFIGURED_METHODS", "oauth_client,bearer_token")
    monkeypatch.setenv("VIKSA_AUTH_ENABLED_METHODS", "bearer_token")
    monkeypatch.setenv("bearer_token.api_key", "bt-key")
    monkeypatch.setenv("bearer_token.region", "eu")
    monkeypatch.delenv("oauth_client.client_id", raising=False)
    return monkeypatch


def test_readme_viksa_auth_env_names() -> None:
    assert ViksaAuth.ENABLED_METHODS_ENV == "VIKSA_AUTH_ENABLED_METHODS"
    assert ViksaAuth.CONFIGURED_METHODS_ENV == "VIKSA_AUTH_CONFIGURED_METHODS"
    assert ViksaAuth.param_env_name("bearer_token", "api_key") == "bearer_token.api_key"


# (README method cell, call, expected result); each is run with ``auth_env``.
AUTH_ROWS: list[tuple[str, Any, Any]] = [
    (
        "get_configured_methods()",
        lambda: ViksaAuth.get_configured_methods(),
        ["oauth_client", "bearer_token"],
    ),
    (
        "is_method_configured(method_id)",
        lambda: ViksaAuth.is_method_configured("oauth_client"),
        True,
    ),
    ("get_enabled_methods()", lambda: ViksaAuth.get_enabled_methods(), ["bearer_token"]),
    ("is_method_enabled(method_id)", lambda: ViksaAuth.is_method_enabled("oauth_client"), False),
    (
        "get_param(method_id, param_name)",
        lambda: ViksaAuth.get_param("bearer_token", "api_key"),
        "bt-key",
    ),
    (
        "get_param(method_id, param_name)",
        lambda: ViksaAuth.get_param("oauth_client", "client_id"),
        None,
    ),
    (
        "require_param(method_id, param_name)",
        lambda: ViksaAuth.require_param("bearer_token", "api_key"),
        "bt-key",
    ),
    (
        "get_method_params(method_id)",
        lambda: ViksaAuth.get_method_params("bearer_token"),
        {"api_key": "bt-key", "region": "eu"},
    ),
    (
        "preferred_method(*candidates)",
        lambda: ViksaAuth.preferred_method("oauth_client", "bearer_token"),
        "bearer_token",
    ),
    ("preferred_method(*candidates)", lambda: ViksaAuth.preferred_method("oauth_client"), None),
    (
        "require_method(*candidates)",
        lambda: ViksaAuth.require_method("oauth_client", "bearer_token"),
        "bearer_token",
    ),
]


@pytest.mark.parametrize(
    ("cell", "call", "expected"),
    AUTH_ROWS,
    ids=[f"{row[0].partition('(')[0]}-{i}" for i, row in enumerate(AUTH_ROWS)],
)
def test_readme_viksa_auth_row(
    auth_env: pytest.MonkeyPatch, cell: str, call: Any, expected: Any
) -> None:
    check_signature(getattr(ViksaAuth, parse_cell(cell).name), parse_cell(cell))
    assert call() == expected


@pytest.mark.parametrize(
    "call",
    [
        lambda: ViksaAuth.require_param("oauth_client", "client_id"),
        lambda: ViksaAuth.require_method("oauth_client"),
    ],
    ids=["require_param", "require_method"],
)
def test_readme_viksa_auth_require_raises(auth_env: pytest.MonkeyPatch, call: Any) -> None:
    with pytest.raises(ViksaAuthError):
        call()


def _multi_method_snippet() -> dict[str, str]:
    """The README's "Multiple auth methods" snippet, returning what it read."""
    method = ViksaAuth.preferred_method("oauth_client", "bearer_token")
    if method == "oauth_client":
        client_id = ViksaAuth.require_param("oauth_client", "client_id")
        return {"method": method, "client_id": client_id}
    api_key = ViksaAuth.require_param("bearer_token", "api_key")
    return {"method": str(method), "api_key": api_key}


def test_readme_viksa_auth_multi_method_snippet(auth_env: pytest.MonkeyPatch) -> None:
    assert _multi_method_snippet() == {"method": "bearer_token", "api_key": "bt-key"}
    auth_env.setenv("VIKSA_AUTH_ENABLED_METHODS", "oauth_client,bearer_token")
    auth_env.setenv("oauth_client.client_id", "cid-1")
    assert _multi_method_snippet() == {"method": "oauth_client", "client_id": "cid-1"}


# -- installation ----------------------------------------------------------------------------


@pytest.mark.parametrize("tool", ["pytest", "ruff", "build"])
def test_readme_dev_extra(tool: str) -> None:
    """``pip install "viksa-ai[dev]"``: "With dev dependencies (tests, ruff, build)"."""
    import importlib.metadata

    requires = importlib.metadata.requires("viksa-ai") or []
    dev = [req.split(";")[0] for req in requires if "extra == 'dev'" in req]
    assert any(re.match(rf"{tool}\b", req) for req in dev), dev


def test_readme_requires_python_310() -> None:
    import importlib.metadata

    assert importlib.metadata.metadata("viksa-ai")["Requires-Python"] == ">=3.10"


# -- quick start: author an agent endpoint ------------------------------------------------


def _load_aviation_main() -> Any:
    spec = importlib.util.spec_from_file_location(
        "readme_aviation_main", EXAMPLES / "aviation_agent" / "main.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_readme_quick_start_endpoint_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick-start endpoint, with its credential injected and the API mocked."""
    import respx

    from viksa_ai.runtime import get_endpoint_info

    main = _load_aviation_main()
    info = get_endpoint_info(main.get_flights_between)
    assert info is not None
    assert info.description == "Get flights between source and destination"
    monkeypatch.delenv("aviationstack_api.api_key", raising=False)
    with pytest.raises(ViksaAuthError):
        await main.get_flights_between({"source": "JFK", "destination": "LAX"})
    monkeypatch.setenv("aviationstack_api.api_key", "av-key")
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get("https://api.aviationstack.com/v1/flights").respond(
            json={"data": [{"flight": {"iata": "AA1"}}]}
        )
        result = await main.get_flights_between({"source": "JFK", "destination": "LAX"})
    assert result == {"flights": [{"flight": {"iata": "AA1"}}]}
    sent = route.calls.last.request.url.params
    assert dict(sent) == {"access_key": "av-key", "dep_iata": "JFK", "arr_iata": "LAX"}


def test_readme_mcp_endpoint_convention() -> None:
    from viksa_ai.runtime import get_endpoint_info, mcp_endpoint

    @mcp_endpoint(description="Human-readable description for docs and UI")
    async def my_tool(payload: dict[str, Any]) -> Any:
        return payload["name"]

    info = get_endpoint_info(my_tool)
    assert info is not None
    assert info.description == "Human-readable description for docs and UI"
    assert inspect.iscoroutinefunction(my_tool)
    assert list(inspect.signature(my_tool).parameters) == ["payload"]


# -- A2A context ------------------------------------------------------------------------------


def test_readme_a2a_snippet_in_process() -> None:
    from viksa_ai.runtime import _reset_envelope, _set_envelope, _strip_envelope

    inputs = attach_envelope(
        {"source": "JFK", "destination": "LAX"},
        {"run_id": "run-123", "parent_step_id": "step-9"},
    )
    assert inputs[A2A_PAYLOAD_KEY] == {"run_id": "run-123", "parent_step_id": "step-9"}
    assert context() == {}
    token = _set_envelope(None)  # the 0.2 hook sets the envelope until the next call
    try:
        payload = _strip_envelope(inputs)  # 0.2 contract: pops the key in place, sets it
        assert payload is inputs
        assert payload == {"source": "JFK", "destination": "LAX"}
        ctx = context()
        assert (ctx.get("run_id"), ctx.get("parent_step_id")) == ("run-123", "step-9")
    finally:
        _reset_envelope(token)
    assert context() == {}


_CONTEXT_AGENT = """
from typing import Any, Dict

from viksa_ai.runtime import context, mcp_endpoint


@mcp_endpoint(description="Echo the A2A context")
async def whoami(payload: Dict[str, Any]):
    ctx = context()
    return {"run_id": ctx.get("run_id"), "parent": ctx.get("parent_step_id"),
            "source": payload.get("source"), "keys": sorted(payload)}
"""


async def test_readme_a2a_snippet_through_the_platform(viksa_client: ViksaClient) -> None:
    """The worker strips ``__viksa_a2a__``; ``context()`` inside the endpoint reads it."""
    agent = await viksa_client.builder.agents.create(
        {
            "agent_name": "Context",
            "agent_alias": "ctx_agent",
            "agent_description": "Echoes its A2A context",
            "files": [{"name": "main.py", "content": _CONTEXT_AGENT, "mime_type": "python"}],
            "inputs": [
                {"name": "source", "type": "string"},
                {"name": "destination", "type": "string"},
            ],
            "outputs": [],
            "agent_endpoints": [
                {
                    "name": "whoami",
                    "module": "main",
                    "description": "whoami",
                    "inputs": [{"input_ref": "source"}, {"input_ref": "destination"}],
                }
            ],
        }
    )
    await viksa_client.builder.deploy.build(agent["id"])
    await viksa_client.builder.deploy.deploy(agent["id"])
    inputs = attach_envelope(
        {"source": "JFK", "destination": "LAX"},
        {"run_id": "run-123", "parent_step_id": "step-9"},
    )
    result = await viksa_client.pulse.execute(
        EndpointExecutionRequest(
            agent_id=agent["id"],
            agent_type=AgentType.CLOUD,
            endpoint="ctx_agent.main.whoami",
            inputs=inputs,
        )
    )
    assert result.status == "completed", result.error
    assert result.response == {
        "run_id": "run-123",
        "parent": "step-9",
        "source": "JFK",
        "keys": ["destination", "source"],
    }


# -- injected ViksaAI.py --------------------------------------------------------------------


def test_readme_sync_injected_sdk_script_matches_the_fixture(tmp_path: Path) -> None:
    """``python scripts/sync_injected_sdk.py > /tmp/ViksaAI.py; diff ... expected``."""
    from viksa_ai.runtime import to_module_source

    out = tmp_path / "ViksaAI.py"
    with out.open("wb") as sink:
        subprocess.run(
            [sys.executable, str(REPO / "scripts" / "sync_injected_sdk.py")],
            stdout=sink,
            check=True,
            timeout=60,
            cwd=REPO,
        )
    expected = REPO / "tests" / "fixtures" / "ViksaAI.py.expected"
    diff = shutil.which("diff")
    if diff is not None:
        done = subprocess.run(
            [diff, str(out), str(expected)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout
    assert out.read_bytes() == expected.read_bytes() == to_module_source().encode("utf-8")


# -- dev tooling -------------------------------------------------------------------------------


def _aviation_manifest() -> dict[str, Any]:
    folder = EXAMPLES / "aviation_agent"
    manifest: dict[str, Any] = json.loads((folder / "agent.json").read_text(encoding="utf-8"))
    main = (folder / "main.py").read_text(encoding="utf-8")
    manifest["files"] = [{"name": "main.py", "content": main, "mime_type": "python"}]
    return manifest


def _validate_cli() -> str:
    script = Path(sys.executable).parent / "viksa-agent-validate"
    found = script if script.exists() else shutil.which("viksa-agent-validate")
    assert found is not None, "the viksa-agent-validate console script is not installed"
    return str(found)


def test_readme_cli_validates_the_aviation_example() -> None:
    done = subprocess.run(
        [_validate_cli(), "./examples/aviation_agent/"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout


def test_readme_cli_rejects_a_broken_agent(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(EXAMPLES / "aviation_agent", folder)
    main = folder / "main.py"
    main.write_text(main.read_text().replace("async def ", "def "), encoding="utf-8")
    done = subprocess.run(
        [_validate_cli(), str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "not async" in done.stdout + done.stderr


def test_readme_cli_reads_a_json_file_with_main_py_embedded(tmp_path: Path) -> None:
    """ "Expects agent.json (or any JSON file ...) ... including embedded main.py in files[]"."""
    manifest = tmp_path / "generated.json"
    manifest.write_text(json.dumps(_aviation_manifest()), encoding="utf-8")
    done = subprocess.run(
        [_validate_cli(), str(manifest)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"{manifest}: valid"


def test_readme_validate_agent_manifest() -> None:
    validated = validate_agent_manifest(_aviation_manifest())
    assert validated.agent_name == "Aviation Agent"
    broken = _aviation_manifest()
    broken["agent_endpoints"] = []
    with pytest.raises(AgentValidationError):
        validate_agent_manifest(broken)


def test_readme_validate_a2a_envelope() -> None:
    manifest = _aviation_manifest()
    endpoint = manifest["agent_endpoints"][0]
    inputs = manifest["inputs"]
    envelope = {
        "protocol_version": 1,
        "run_id": "run-123",
        "parent_step_id": "step-9",
        "callee_agent": "aviation_agent",
        "endpoint": "aviation_agent.main.get_flights_between",
        "payload": {"source": "JFK", "destination": "LAX"},
    }
    assert validate_a2a_envelope(envelope, endpoint, inputs) == []
    issues = validate_a2a_envelope({**envelope, "run_id": 5, "payload": {}}, endpoint, inputs)
    assert any(issue.startswith("run_id") for issue in issues), issues
    assert any("source" in issue for issue in issues), issues
    assert all(isinstance(issue, str) for issue in issues)


# -- the client against the in-process platform ---------------------------------------------


def _asgi(platform: LocalPlatform) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=platform.app), timeout=60)


async def test_readme_request_any_route(viksa_client: ViksaClient) -> None:
    """``client.request(method, prefix, path)`` for a route not yet wrapped."""
    page = await viksa_client.request("GET", "/builder", "/agent/list")
    typed = await viksa_client.builder.agents.list()
    assert page == typed
    assert page["total"] == len(page["agents"])


async def test_readme_client_config_with_a_positional_token(viksa_platform: LocalPlatform) -> None:
    creds = viksa_platform.credentials
    async with viksa_platform.async_client(access_token="unused") as login:
        token = (await login.auth.login(creds.email, creds.password)).access_token
    client = ViksaClient(
        token,
        config=ClientConfig(
            retry=RetryConfig(max_retries=5),
            idempotency_key="create-agent-42",
        ),
        org_id=creds.org_id,
        project_id=creds.project_id,
        base_url=viksa_platform.base_url,
        http_client=_asgi(viksa_platform),
    )
    async with client:
        with client.record_responses() as recorder:
            first = await client.builder.agents.create(_event_agent("idem_agent"))
            assert recorder.last.request.headers["Idempotency-Key"] == "create-agent-42"
            # The configured key goes with every write: the retried create is replayed.
            again = await client.builder.agents.create(_event_agent("idem_agent"))
            assert recorder.last.headers.get("Idempotent-Replayed") == "true"
        page = await client.builder.agents.list(search="idem_agent")
    assert again["id"] == first["id"]
    assert [a["id"] for a in page["agents"]] == [first["id"]]


async def test_readme_iter_sse_lines_on_a_custom_stream(viksa_platform: LocalPlatform) -> None:
    creds = viksa_platform.credentials
    headers = {
        "Authorization": f"Bearer {creds.api_key}",
        "X-Tenant-Org-Id": creds.org_id,
        "X-Tenant-Project-Id": creds.project_id,
    }
    async with (
        _asgi(viksa_platform) as http,
        http.stream(
            "POST",
            f"{viksa_platform.base_url}/chat/indent_finder/stream",
            json={"message": "Find my last deployment"},
            headers=headers,
        ) as response,
    ):
        assert response.status_code == 200
        events = [event async for event in ViksaClient.iter_sse_lines(response)]
    assert events
    assert all(isinstance(event, dict) for event in events)
    last = events[-1]
    assert isinstance(last, dict)
    assert last["type"] == "result"


async def test_readme_iter_conversations(viksa_client: ViksaClient) -> None:
    await viksa_client.chat.indent_finder("hello there")
    conversations = [conv async for conv in viksa_client.chat.iter_conversations()]
    page = await viksa_client.chat.list_conversations()
    assert [c["id"] for c in conversations] == [c["id"] for c in page["conversations"]]
    assert len(conversations) == 1


async def test_readme_validation_error_snippet(
    viksa_client: ViksaClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error-handling snippet's ``except ViksaValidationError`` branch."""
    broken = _event_agent("broken_agent")
    broken["agent_endpoints"] = []
    try:
        await viksa_client.builder.agents.create(broken)
    except ViksaNotFoundError as e:
        print(e.status_code, e.detail_message, e.request_id)
    except ViksaValidationError as e:
        print(e.body)
    printed = capsys.readouterr().out
    with pytest.raises(ViksaValidationError) as caught:
        await viksa_client.builder.agents.create(broken)
    assert printed.strip() == str(caught.value.body)
    assert caught.value.status_code == 422
    assert caught.value.details
    assert all(d.message and d.field for d in caught.value.details), caught.value.details
    assert printed.startswith("{'detail': [")


async def test_readme_api_error_attribute_table(viksa_client: ViksaClient) -> None:
    with pytest.raises(ViksaNotFoundError) as caught:
        await viksa_client.builder.agents.get("missing-id")
    e = caught.value
    message = "Agent 'missing-id' not found"
    assert e.status_code == 404
    assert (e.method, e.path, e.service) == ("GET", "/builder/agent/missing-id", "builder")
    assert e.body == {"detail": message}
    assert e.details == [ErrorDetail(message=message, field=None, code=None)]
    assert e.detail_message == message
    assert e.request_id is not None
    assert e.request_id.startswith("req_")
    assert e.retry_after is None


# "Error handling" table: status -> exception class, the faults sent by the local platform.
ERROR_ROWS: list[tuple[int, str]] = [
    (401, "ViksaAuthenticationError"),
    (403, "ViksaPermissionError"),
    (404, "ViksaNotFoundError"),
    (409, "ViksaConflictError"),
    (422, "ViksaValidationError"),
    (429, "ViksaRateLimitError"),
    (500, "ViksaServerError"),
    (502, "ViksaServerError"),
    (503, "ViksaServerError"),
    (418, "ViksaApiError"),
]


@pytest.mark.parametrize(("status", "name"), ERROR_ROWS, ids=[f"{s}-{n}" for s, n in ERROR_ROWS])
async def test_readme_error_table_row(
    viksa_platform: LocalPlatform, status: int, name: str
) -> None:
    import viksa_ai
    import viksa_ai.client

    cls = getattr(viksa_ai.client, name)
    assert getattr(viksa_ai, name) is cls
    assert issubclass(cls, ViksaApiError)
    spec = f"status={status};id=readme-{status}"
    if status == 429:
        spec += ";retry-after=7"
    async with viksa_platform.async_client(retry=NO_RETRY) as client:
        with pytest.raises(ViksaApiError) as caught:
            await client.auth.me(options=RequestOptions(extra_headers={"X-Viksa-Fault": spec}))
    assert type(caught.value) is cls
    assert caught.value.status_code == status
    assert caught.value.retry_after == (7.0 if status == 429 else None)


async def test_readme_transport_error_row() -> None:
    import socket

    import viksa_ai

    assert viksa_ai.ViksaTransportError is ViksaTransportError
    assert not issubclass(ViksaTransportError, ViksaApiError)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with ViksaClient(
        access_token="t", base_url=f"http://127.0.0.1:{port}", retry=NO_RETRY
    ) as client:
        with pytest.raises(ViksaTransportError):
            await client.auth.me()


async def test_readme_transient_statuses_are_retried(viksa_platform: LocalPlatform) -> None:
    """ "Retries: transient failures (429, 502, 503, 504) ... retry with backoff"."""
    assert set(RetryConfig().retry_status_codes) == {429, 502, 503, 504}
    fast = RetryConfig(max_retries=4, initial_delay=0.01, max_delay=0.05)
    async with viksa_platform.async_client(retry=fast) as client:
        for status in (429, 502, 503, 504):
            spec = f"status={status};count=2;id=transient-{status}"
            options = RequestOptions(extra_headers={"X-Viksa-Fault": spec})
            me = await client.auth.me(options=options)
            assert me.email == viksa_platform.credentials.email


# -- from_env variables and precedence (sync client: the login is blocking) ---------------


@pytest.fixture
def sync_platform() -> Iterator[tuple[LocalPlatform, SyncASGITransport]]:
    """A platform served to sync clients on a loop thread of its own."""
    local = LocalPlatform.start()
    transport = SyncASGITransport(local.app)
    try:
        yield local, transport
    finally:
        transport.run(local.aclose())
        transport.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "VIKSA_API_KEY",
        "VIKSA_ACCESS_TOKEN",
        "VIKSA_REFRESH_TOKEN",
        "VIKSA_EMAIL",
        "VIKSA_PASSWORD",
        "VIKSA_ORG_ID",
        "VIKSA_PROJECT_ID",
        "VIKSA_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _login_tokens(local: LocalPlatform, transport: SyncASGITransport) -> tuple[str, str]:
    with local.sync_client(transport) as client:
        tokens = client.auth.login(local.credentials.email, local.credentials.password)
    assert tokens.refresh_token is not None
    return tokens.access_token, tokens.refresh_token


# Which credential variables are set (valid or bogus) and which one must win.
ENV_ROWS: list[tuple[str, dict[str, str]]] = [
    ("VIKSA_API_KEY", {"VIKSA_API_KEY": "good", "VIKSA_ACCESS_TOKEN": "bad", "VIKSA_EMAIL": "bad"}),
    ("VIKSA_ACCESS_TOKEN", {"VIKSA_ACCESS_TOKEN": "good", "VIKSA_EMAIL": "bad"}),
    ("VIKSA_EMAIL + VIKSA_PASSWORD", {"VIKSA_EMAIL": "good"}),
]


@pytest.mark.parametrize(("winner", "setup"), ENV_ROWS, ids=[row[0] for row in ENV_ROWS])
def test_readme_from_env_first_match_wins(
    sync_platform: tuple[LocalPlatform, SyncASGITransport],
    clean_env: pytest.MonkeyPatch,
    winner: str,
    setup: dict[str, str],
) -> None:
    local, transport = sync_platform
    creds = local.credentials
    access, _ = _login_tokens(local, transport)
    good = {
        "VIKSA_API_KEY": creds.api_key,
        "VIKSA_ACCESS_TOKEN": access,
        "VIKSA_EMAIL": creds.email,
    }
    for name, quality in setup.items():
        clean_env.setenv(name, good[name] if quality == "good" else "bogus-value")
        if name == "VIKSA_EMAIL":
            password = creds.password if quality == "good" else "wrong-password"
            clean_env.setenv("VIKSA_PASSWORD", password)
    clean_env.setenv("VIKSA_ORG_ID", creds.org_id)
    clean_env.setenv("VIKSA_PROJECT_ID", creds.project_id)
    clean_env.setenv("VIKSA_BASE_URL", local.base_url)
    http = httpx.Client(transport=transport, timeout=60)
    with ViksaSyncClient.from_env(http_client=http) as client:
        assert (client.org_id, client.project_id) == (creds.org_id, creds.project_id)
        assert client.base_url == local.base_url
        assert client.auth.me().email == creds.email
        assert client.builder.agents.list(limit=1)["total"] == 0


def test_readme_from_env_refresh_token_refreshes_on_401(
    sync_platform: tuple[LocalPlatform, SyncASGITransport], clean_env: pytest.MonkeyPatch
) -> None:
    local, transport = sync_platform
    access, refresh = _login_tokens(local, transport)
    clean_env.setenv("VIKSA_ACCESS_TOKEN", access)
    clean_env.setenv("VIKSA_REFRESH_TOKEN", refresh)
    clean_env.setenv("VIKSA_BASE_URL", local.base_url)
    expire = RequestOptions(extra_headers={"X-Viksa-Fault": "expire-token;id=readme-refresh"})
    http = httpx.Client(transport=transport, timeout=60)
    with ViksaSyncClient.from_env(http_client=http, retry=NO_RETRY) as client:
        assert client.auth.me(options=expire).email == local.credentials.email
    clean_env.delenv("VIKSA_REFRESH_TOKEN")
    http = httpx.Client(transport=transport, timeout=60)
    with ViksaSyncClient.from_env(http_client=http, retry=NO_RETRY) as client:
        expire_again = RequestOptions(extra_headers={"X-Viksa-Fault": "expire-token;id=no-r"})
        with pytest.raises(ViksaApiError) as caught:
            client.auth.me(options=expire_again)
    assert caught.value.status_code == 401


def test_readme_default_base_url(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("VIKSA_API_KEY", "vk_unused")
    with ViksaSyncClient.from_env() as client:
        assert client.base_url == "https://api.viksaai.com"
    with ViksaSyncClient(access_token="t") as client:
        assert client.base_url == "https://api.viksaai.com"


def test_readme_from_api_key_with_validate(
    sync_platform: tuple[LocalPlatform, SyncASGITransport],
) -> None:
    """ "Project API key (optional validate=True to resolve org/project)"."""
    local, transport = sync_platform
    http = httpx.Client(transport=transport, timeout=60)
    with ViksaSyncClient.from_api_key(
        local.credentials.api_key, validate=True, base_url=local.base_url, http_client=http
    ) as client:
        assert (client.org_id, client.project_id) == (
            local.credentials.org_id,
            local.credentials.project_id,
        )
        assert client.auth.validate_api_key(local.credentials.api_key).valid is True


def _event_agent(alias: str) -> dict[str, Any]:
    main = (
        "from typing import Any, Dict\n\nfrom viksa_ai.runtime import mcp_endpoint\n\n\n"
        '@mcp_endpoint(description="Record an event")\n'
        "async def record(payload: Dict[str, Any]):\n"
        '    return {"event": payload.get("event")}\n'
    )
    return {
        "agent_name": "Events",
        "agent_alias": alias,
        "agent_description": "Records events",
        "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
        "inputs": [{"name": "event", "type": "string"}],
        "outputs": [],
        "agent_endpoints": [
            {
                "name": "record",
                "module": "main",
                "description": "record",
                "inputs": [{"input_ref": "event", "required": False}],
            }
        ],
    }


# -- the HTTP column of the method tables: what each call sends ------------------------------

_ID = "x1"
_BODY: dict[str, Any] = {"name": "n"}
_EXEC = {"agent_id": _ID, "agent_type": "cloud", "endpoint": "a.main.f", "inputs": {}}

# (sub-client, method, args, keyword args, README HTTP cell with {id} / {name} as _ID / "n1").
HTTP_ROWS: list[tuple[str, str, tuple[Any, ...], dict[str, Any], str]] = [
    ("auth", "login", ("you@example.com", "pw"), {}, "POST /auth/individual/login"),
    ("auth", "refresh", (), {}, "POST /auth/refresh"),
    ("auth", "me", (), {}, "GET /auth/me"),
    ("auth", "switch_org", (_ID,), {}, "POST /auth/switch-org"),
    ("auth", "switch_project", (_ID,), {}, "POST /auth/switch-project"),
    ("auth", "logout", (), {}, "POST /auth/logout*"),
    ("auth", "logout_all", (), {}, "POST /auth/logout*"),
    ("auth", "usage", (), {}, "GET /auth/usage"),
    ("auth", "create_api_key", ("k",), {}, "* /auth/key/api*"),
    ("auth", "list_api_keys", (), {}, "* /auth/key/api*"),
    ("auth", "revoke_api_key", (_ID,), {}, "* /auth/key/api*"),
    ("auth", "delete_api_key", (_ID,), {}, "* /auth/key/api*"),
    ("auth", "create_worker_key", ("k",), {}, "* /auth/key/worker*"),
    ("auth", "list_worker_keys", (), {}, "* /auth/key/worker*"),
    ("auth.orgs", "create", (_BODY,), {}, "* */org*"),
    ("auth.projects", "create", (_BODY,), {}, "* */project*"),
    ("builder.agents", "create", (_BODY,), {}, "POST /agent/create"),
    ("builder.agents", "list", (), {}, "GET /agent/list"),
    ("builder.agents", "get", (_ID,), {}, "GET /agent/x1"),
    ("builder.agents", "update", (_ID, _BODY), {}, "PUT /agent/x1"),
    ("builder.agents", "delete", (_ID,), {}, "DELETE /agent/x1"),
    (
        "builder.agents",
        "set_endpoint_status",
        (_ID, "n1"),
        {"enabled": False},
        "PATCH /agent/x1/endpoint/n1/status",
    ),
    ("builder.deploy", "build", (_ID,), {}, "POST /builder/"),
    ("builder.deploy", "deploy", (_ID,), {}, "POST /deploy/"),
    ("builder.deploy", "reconcile", (_ID,), {}, "POST /deploy/reconcile"),
    ("builder.secrets", "vault_status", (), {}, "GET /vault/status"),
    ("builder.secrets", "create_secret", ("n", "v"), {"description": "d"}, "POST /secret/create"),
    ("builder.secrets", "list_secrets", (), {}, "GET /secret/list"),
    ("builder.secrets", "get_secret", (_ID,), {}, "GET /secret/x1"),
    ("builder.mcp", "create", (_BODY,), {}, "POST /mcp/servers"),
    ("builder.mcp", "list", (), {}, "GET /mcp/servers"),
    ("builder.mcp", "get", (_ID,), {}, "GET /mcp/servers/x1"),
    ("chat", "indent_finder", ("hi",), {"conversation_id": _ID}, "POST /chat/indent_finder"),
    ("chat", "stream_indent_finder", ("hi",), {}, "POST /chat/indent_finder/stream"),
    ("chat", "list_conversations", (), {}, "GET /chat/conversations"),
    ("chat", "get_conversation", (_ID,), {}, "GET /chat/conversations/x1"),
    ("chat", "generate_agent", ("an agent",), {}, "POST /chat/generate/agent"),
    ("chat", "fix_agent", (_BODY,), {}, "POST /chat/fix/agent"),
    ("chat.triggers", "create", (_BODY,), {}, "POST /chat/trigger"),
    ("chat.triggers", "list", (), {}, "GET /chat/trigger"),
    ("chat.triggers", "get", (_ID,), {}, "GET /chat/trigger/x1"),
    ("chat.triggers", "update", (_ID, _BODY), {}, "PATCH /chat/trigger/x1"),
    ("chat.triggers", "delete", (_ID,), {}, "DELETE /chat/trigger/x1"),
    ("pulse", "execute", (_EXEC,), {}, "POST /pulse/executor/execute"),
    ("pulse", "invoke", (_EXEC,), {}, "POST /pulse/executor/invoke"),
    ("workflow", "start", (_ID,), {"trigger_source": "api"}, "POST /workflow/start"),
    ("workflow", "get", (_ID,), {}, "GET /workflow/id/x1"),
    ("workflow", "list", (), {}, "GET /workflow/list"),
    ("workflow", "delete", (_ID,), {}, "DELETE /workflow/x1"),
    ("workflow.executions", "create", (_ID,), {}, "POST /workflow/execution/create"),
    ("workflow.executions", "get", (_ID,), {}, "GET /workflow/execution/x1"),
    ("workflow.executions", "list", (), {}, "GET /workflow/execution/list"),
    ("workflow.executions", "start", (_ID,), {}, "POST /workflow/execution/x1/start"),
    ("scheduler", "create", (_BODY,), {}, "POST /scheduler/schedule/create"),
    ("scheduler", "list", (), {}, "GET /scheduler/schedule/list"),
    ("scheduler", "get", (_ID,), {}, "GET /scheduler/schedule/x1"),
    ("scheduler", "update", (_ID, _BODY), {}, "PATCH /scheduler/schedule/x1"),
    ("scheduler", "delete", (_ID,), {}, "DELETE /scheduler/schedule/x1"),
    ("scheduler", "pause", (_ID,), {}, "POST /scheduler/schedule/x1/pause"),
    ("scheduler", "resume", (_ID,), {}, "POST /scheduler/schedule/x1/resume"),
    ("scheduler", "run_now", (_ID,), {}, "POST /scheduler/schedule/x1/run-now"),
]

_MOCK_BASE = "https://api.viksaai.test"


async def _drive(result: Any) -> None:
    """Finish a call: await it, or read a stream to its end."""
    if inspect.isawaitable(result):
        result = await result
    if hasattr(result, "__aiter__"):
        async for _ in result:
            pass
    elif hasattr(result, "__iter__") and hasattr(result, "close"):
        for _ in result:
            pass


@pytest.mark.parametrize("cls", CLIENTS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize(
    "row", HTTP_ROWS, ids=[f"{r[0]}.{r[1]}-{r[4].split()[0]}" for r in HTTP_ROWS]
)
async def test_readme_http_column(
    cls: type[Any], row: tuple[str, str, tuple[Any, ...], dict[str, Any], str]
) -> None:
    import fnmatch

    import respx

    owner, name, args, kwargs, cell = row
    verb, _, route = cell.partition(" ")
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith("/stream"):
            return httpx.Response(
                200, text="data: [DONE]\n\n", headers={"content-type": "text/event-stream"}
            )
        return httpx.Response(200, json={})

    client = cls(
        access_token="t",
        refresh_token="r",
        org_id="org",
        project_id="prj",
        base_url=_MOCK_BASE,
        retry=NO_RETRY,
    )
    try:
        with respx.mock(base_url=_MOCK_BASE, assert_all_called=False) as mock:
            mock.route().mock(side_effect=answer)
            method = getattr(_resolve(client, owner), name)
            # An empty answer may not decode into the typed result: only the request counts.
            with contextlib.suppress(ViksaError, ValueError):
                await _drive(method(*args, **kwargs))
    finally:
        if cls is ViksaSyncClient:
            client.close()
        else:
            await client.aclose()
    assert sent, f"{owner}.{name} sent nothing"
    request = sent[0]
    assert verb == "*" or request.method == verb, (request.method, request.url)
    assert fnmatch.fnmatchcase(request.url.path, "*" + route), request.url.path
    if name not in {"login", "refresh"}:
        assert request.headers["Authorization"] == "Bearer t"
        assert request.headers["X-Tenant-Org-Id"] == "org"
        assert request.headers["X-Tenant-Project-Id"] == "prj"
