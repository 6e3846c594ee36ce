"""Every route of api.md: method, path, query and body, on the async and the sync client."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pytest
import respx

from viksa_ai.client import ViksaClient, ViksaSyncClient
from viksa_ai.models.agent import AgentCreationRequest, AgentGenerationResponse, AgentUpdateRequest
from viksa_ai.models.auth import KeyValidationResponse, TokenResponse, UserResponse
from viksa_ai.models.executor import (
    AgentInvokeRequest,
    AgentInvokeResponse,
    AgentType,
    EndpointExecutionRequest,
    EndpointExecutionResponse,
)

MP = "/marketplace/api/v1/marketplace"

TOKENS = {
    "access_token": "tok-access-2",
    "refresh_token": "tok-refresh-2",
    "token_type": "bearer",
    "expires_in": 3600,
    "user_id": "u1",
    "account_id": "a1",
}
USER = {"id": "u1", "email": "me@example.com", "account_id": "a1", "name": "Me"}
KEY_OK = {"valid": True, "org_id": "o1", "project_id": "p1", "scopes": ["read"]}
EXECUTION = {"status": "ok", "execution_id": "e1", "endpoint": "a.main.f", "response": {"n": 1}}
INVOCATION = {"status": "queued", "invocation_id": "i1", "endpoint": "a.main.f"}
MANIFEST = {
    "agent_name": "flights",
    "agent_description": "Finds flights",
    "files": [{"name": "main.py", "content": "", "mime_type": "python"}],
}
SSE_BODY = b'data: {"step": 1}\n\ndata: {"step": 2}\n\ndata: [DONE]\n\n'

NEW_AGENT = AgentCreationRequest(
    agent_name="flights",
    agent_alias="flights",
    agent_description="Finds flights",
)
EXECUTE = EndpointExecutionRequest(
    agent_id="ag1",
    agent_type=AgentType.CLOUD,
    endpoint="my_agent.main.search",
    inputs={"query": "flights to LAX"},
)
INVOKE = AgentInvokeRequest(agent_id="ag1", agent_type=AgentType.CLOUD, endpoint="a.main.f")


@dataclass(frozen=True)
class Case:
    """One operation and the request it must send."""

    name: str
    op: Callable[[Any], Any]
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    answer: Any = None
    returns: type | None = None
    stream: bool = False
    authenticated: bool = True
    many: bool = False  # the operation answers a list of one answer per request


def _cases() -> list[Case]:
    c = Case
    return [
        # auth
        c(
            "auth.login",
            lambda v: v.auth.login("me@example.com", "pw"),
            "POST",
            "/auth/individual/login",
            body={"email": "me@example.com", "password": "pw"},
            answer=TOKENS,
            returns=TokenResponse,
            authenticated=False,
        ),
        c(
            "auth.refresh",
            lambda v: v.auth.refresh(),
            "POST",
            "/auth/refresh",
            body={"refresh_token": "tok-refresh-1"},
            answer=TOKENS,
            returns=TokenResponse,
            authenticated=False,
        ),
        c("auth.me", lambda v: v.auth.me(), "GET", "/auth/me", answer=USER, returns=UserResponse),
        c(
            "auth.switch_org",
            lambda v: v.auth.switch_org("o2"),
            "POST",
            "/auth/switch-org",
            body={"org_id": "o2"},
            answer=TOKENS,
            returns=TokenResponse,
        ),
        c(
            "auth.switch_project",
            lambda v: v.auth.switch_project("p2"),
            "POST",
            "/auth/switch-project",
            body={"project_id": "p2"},
            answer=TOKENS,
            returns=TokenResponse,
        ),
        c("auth.logout", lambda v: v.auth.logout(), "POST", "/auth/logout"),
        c("auth.logout_all", lambda v: v.auth.logout_all(), "POST", "/auth/logout-all"),
        c("auth.usage", lambda v: v.auth.usage(), "GET", "/auth/usage", answer={"calls": 3}),
        c(
            "auth.list_sessions",
            lambda v: v.auth.list_sessions(),
            "GET",
            "/auth/sessions",
            answer=[],
        ),
        c(
            "auth.revoke_session",
            lambda v: v.auth.revoke_session("s1"),
            "DELETE",
            "/auth/sessions/s1",
        ),
        c(
            "auth.revoke_all_sessions",
            lambda v: v.auth.revoke_all_sessions(),
            "DELETE",
            "/auth/sessions",
        ),
        c(
            "auth.validate_api_key",
            lambda v: v.auth.validate_api_key("vk_1"),
            "POST",
            "/auth/key/validate/api",
            body={"api_key": "vk_1"},
            answer=KEY_OK,
            returns=KeyValidationResponse,
        ),
        c(
            "auth.create_api_key",
            lambda v: v.auth.create_api_key("ci", "for CI"),
            "POST",
            "/auth/key/api",
            body={"name": "ci", "description": "for CI"},
            answer={"id": "k"},
        ),
        c(
            "auth.create_api_key-min",
            lambda v: v.auth.create_api_key("ci"),
            "POST",
            "/auth/key/api",
            body={"name": "ci"},
            answer={"id": "k"},
        ),
        c(
            "auth.list_api_keys",
            lambda v: v.auth.list_api_keys(5, 10),
            "GET",
            "/auth/key/api",
            query={"skip": "5", "limit": "10"},
            answer={"keys": []},
        ),
        c(
            "auth.revoke_api_key",
            lambda v: v.auth.revoke_api_key("k1"),
            "POST",
            "/auth/key/api/k1/revoke",
        ),
        c(
            "auth.delete_api_key",
            lambda v: v.auth.delete_api_key("k1"),
            "DELETE",
            "/auth/key/api/k1",
        ),
        c(
            "auth.create_worker_key",
            lambda v: v.auth.create_worker_key("w", "d"),
            "POST",
            "/auth/key/worker",
            body={"name": "w", "description": "d"},
            answer={"id": "w"},
        ),
        c(
            "auth.list_worker_keys",
            lambda v: v.auth.list_worker_keys(),
            "GET",
            "/auth/key/worker",
            query={"skip": "0", "limit": "50"},
            answer={"keys": []},
        ),
        c("auth.orgs.list", lambda v: v.auth.orgs.list(), "GET", "/org/list", answer=[]),
        c(
            "auth.orgs.create",
            lambda v: v.auth.orgs.create({"name": "Acme"}),
            "POST",
            "/org/create",
            body={"name": "Acme"},
            answer={"id": "o"},
        ),
        c("auth.orgs.get", lambda v: v.auth.orgs.get("o1"), "GET", "/org/o1", answer={"id": "o1"}),
        c(
            "auth.orgs.update",
            lambda v: v.auth.orgs.update("o1", {"name": "B"}),
            "PUT",
            "/org/o1",
            body={"name": "B"},
            answer={"id": "o1"},
        ),
        c("auth.orgs.delete", lambda v: v.auth.orgs.delete("o1"), "DELETE", "/org/o1"),
        c(
            "auth.projects.create",
            lambda v: v.auth.projects.create({"name": "P"}),
            "POST",
            "/project/create",
            body={"name": "P"},
            answer={"id": "p"},
        ),
        c(
            "auth.projects.list",
            lambda v: v.auth.projects.list("o1"),
            "GET",
            "/project/list/o1",
            answer=[],
        ),
        c(
            "auth.projects.get",
            lambda v: v.auth.projects.get("p1"),
            "GET",
            "/project/p1",
            answer={"id": "p1"},
        ),
        c(
            "auth.projects.update",
            lambda v: v.auth.projects.update("p1", {"name": "Q"}),
            "PUT",
            "/project/p1",
            body={"name": "Q"},
            answer={"id": "p1"},
        ),
        c("auth.projects.delete", lambda v: v.auth.projects.delete("p1"), "DELETE", "/project/p1"),
        # builder
        c(
            "builder.agents.create",
            lambda v: v.builder.agents.create(NEW_AGENT),
            "POST",
            "/builder/agent/create",
            body=NEW_AGENT.to_wire(),
            answer={"id": "ag1"},
        ),
        c(
            "builder.agents.create-dict",
            lambda v: v.builder.agents.create({"agent_name": "x"}),
            "POST",
            "/builder/agent/create",
            body={"agent_name": "x"},
            answer={"id": "ag1"},
        ),
        c(
            "builder.agents.list",
            lambda v: v.builder.agents.list(limit=10),
            "GET",
            "/builder/agent/list",
            query={"skip": "0", "limit": "10"},
            answer={"agents": [], "total": 0},
        ),
        c(
            "builder.agents.list-search",
            lambda v: v.builder.agents.list(20, 10, "flight"),
            "GET",
            "/builder/agent/list",
            query={"skip": "20", "limit": "10", "search": "flight"},
            answer={"agents": []},
        ),
        c(
            "builder.agents.get",
            lambda v: v.builder.agents.get("ag1"),
            "GET",
            "/builder/agent/ag1",
            answer={"agent_name": "flights"},
        ),
        c(
            "builder.agents.update",
            lambda v: v.builder.agents.update("ag1", AgentUpdateRequest(agent_description="New")),
            "PUT",
            "/builder/agent/ag1",
            body={"agent_description": "New"},
            answer={"id": "ag1"},
        ),
        c(
            "builder.agents.delete",
            lambda v: v.builder.agents.delete("ag1"),
            "DELETE",
            "/builder/agent/ag1",
        ),
        c(
            "builder.agents.set_status",
            lambda v: v.builder.agents.set_status("ag1", enabled=False),
            "PATCH",
            "/builder/agent/ag1/status",
            body={"status": "disabled"},
            answer={},
        ),
        c(
            "builder.agents.set_endpoint_status",
            lambda v: v.builder.agents.set_endpoint_status("ag1", "search", enabled=True),
            "PATCH",
            "/builder/agent/ag1/endpoint/search/status",
            body={"status": "enabled"},
            answer={},
        ),
        c(
            "builder.agents.revisions",
            lambda v: v.builder.agents.revisions("ag1"),
            "GET",
            "/builder/agent/ag1/revisions",
            answer=[],
        ),
        c(
            "builder.agents.revision",
            lambda v: v.builder.agents.revision("ag1", 3),
            "GET",
            "/builder/agent/ag1/revisions/3",
            answer={"revision": 3},
        ),
        c(
            "builder.agents.share",
            lambda v: v.builder.agents.share("ag1", {"user": "u2"}),
            "POST",
            "/builder/agent/ag1/share",
            body={"user": "u2"},
            answer={},
        ),
        c(
            "builder.deploy.build",
            lambda v: v.builder.deploy.build("ag1"),
            "POST",
            "/builder/builder/",
            body={"agent_id": "ag1"},
            answer={"job": "j"},
        ),
        c(
            "builder.deploy.deploy",
            lambda v: v.builder.deploy.deploy("ag1"),
            "POST",
            "/builder/deploy/",
            body={"agent_id": "ag1"},
            answer={},
        ),
        c(
            "builder.deploy.reconcile",
            lambda v: v.builder.deploy.reconcile("ag1"),
            "POST",
            "/builder/deploy/reconcile",
            body={"agent_id": "ag1"},
            answer={},
        ),
        c(
            "builder.secrets.vault_status",
            lambda v: v.builder.secrets.vault_status(),
            "GET",
            "/builder/vault/status",
            answer={"configured": True},
        ),
        c(
            "builder.secrets.create_secret",
            lambda v: v.builder.secrets.create_secret(
                "db", "s3cret", description="DB", passphrase="pp"
            ),
            "POST",
            "/builder/secret/create",
            body={"name": "db", "value": "s3cret", "description": "DB", "passphrase": "pp"},
            answer={"id": "s1"},
        ),
        c(
            "builder.secrets.create_secret-min",
            lambda v: v.builder.secrets.create_secret("db", "v"),
            "POST",
            "/builder/secret/create",
            body={"name": "db", "value": "v"},
            answer={},
        ),
        c(
            "builder.secrets.list_secrets",
            lambda v: v.builder.secrets.list_secrets(0, 5, "db"),
            "GET",
            "/builder/secret/list",
            query={"skip": "0", "limit": "5", "search": "db"},
            answer={"secrets": []},
        ),
        c(
            "builder.secrets.get_secret",
            lambda v: v.builder.secrets.get_secret("s1"),
            "GET",
            "/builder/secret/s1",
            answer={"id": "s1"},
        ),
        c(
            "builder.secrets.get_secret-pass",
            lambda v: v.builder.secrets.get_secret("s1", "pp"),
            "GET",
            "/builder/secret/s1",
            query={"passphrase": "pp"},
            answer={"id": "s1"},
        ),
        c(
            "builder.secrets.update_secret",
            lambda v: v.builder.secrets.update_secret("s1", {"value": "n"}),
            "PUT",
            "/builder/secret/s1",
            body={"value": "n"},
            answer={},
        ),
        c(
            "builder.secrets.delete_secret",
            lambda v: v.builder.secrets.delete_secret("s1"),
            "DELETE",
            "/builder/secret/s1",
        ),
        c(
            "builder.secrets.delete_secret-force",
            lambda v: v.builder.secrets.delete_secret("s1", force=True),
            "DELETE",
            "/builder/secret/s1",
            query={"force": "true"},
        ),
        c(
            "builder.secrets.secret_usage",
            lambda v: v.builder.secrets.secret_usage("s1"),
            "GET",
            "/builder/secret/s1/usage",
            answer=[],
        ),
        c(
            "builder.mcp.create",
            lambda v: v.builder.mcp.create({"name": "m"}),
            "POST",
            "/builder/mcp/servers",
            body={"name": "m"},
            answer={"id": "m1"},
        ),
        c(
            "builder.mcp.list",
            lambda v: v.builder.mcp.list("running", 0, 5),
            "GET",
            "/builder/mcp/servers",
            query={"status": "running", "skip": "0", "limit": "5"},
            answer={"servers": []},
        ),
        c(
            "builder.mcp.get",
            lambda v: v.builder.mcp.get("m1"),
            "GET",
            "/builder/mcp/servers/m1",
            answer={"id": "m1"},
        ),
        c(
            "builder.mcp.update",
            lambda v: v.builder.mcp.update("m1", {"name": "n"}),
            "PATCH",
            "/builder/mcp/servers/m1",
            body={"name": "n"},
            answer={},
        ),
        c(
            "builder.mcp.delete",
            lambda v: v.builder.mcp.delete("m1"),
            "DELETE",
            "/builder/mcp/servers/m1",
        ),
        c(
            "builder.mcp.start",
            lambda v: v.builder.mcp.start("m1"),
            "POST",
            "/builder/mcp/servers/m1/start",
            answer={},
        ),
        c(
            "builder.mcp.stop",
            lambda v: v.builder.mcp.stop("m1"),
            "POST",
            "/builder/mcp/servers/m1/stop",
            answer={},
        ),
        c(
            "builder.mappings.get",
            lambda v: v.builder.mappings.get("x1"),
            "GET",
            "/builder/mappings/x1",
            answer={"id": "x1"},
        ),
        c(
            "builder.mappings.get_many",
            lambda v: v.builder.mappings.get_many(["x1"]),
            "GET",
            "/builder/mappings/x1",
            answer={"id": "x1"},
            many=True,
        ),
        # chat
        c(
            "chat.indent_finder",
            lambda v: v.chat.indent_finder(
                "hi", conversation_id="c1", workforce_id="w1", metadata={"k": 1}
            ),
            "POST",
            "/chat/indent_finder",
            body={
                "message": "hi",
                "conversation_id": "c1",
                "workforce_id": "w1",
                "metadata": {"k": 1},
            },
            answer={"reply": "hello"},
        ),
        c(
            "chat.indent_finder-min",
            lambda v: v.chat.indent_finder("hi"),
            "POST",
            "/chat/indent_finder",
            body={"message": "hi"},
            answer={"reply": "hello"},
        ),
        c(
            "chat.stream_indent_finder",
            lambda v: v.chat.stream_indent_finder("hi", conversation_id="c1"),
            "POST",
            "/chat/indent_finder/stream",
            body={"message": "hi", "conversation_id": "c1"},
            stream=True,
        ),
        c(
            "chat.message",
            lambda v: v.chat.message({"text": "t"}),
            "POST",
            "/chat/message",
            body={"text": "t"},
            answer={},
        ),
        c(
            "chat.list_conversations",
            lambda v: v.chat.list_conversations(10, 20),
            "GET",
            "/chat/conversations",
            query={"skip": "10", "limit": "20"},
            answer={"conversations": []},
        ),
        c(
            "chat.get_conversation",
            lambda v: v.chat.get_conversation("c1"),
            "GET",
            "/chat/conversations/c1",
            answer={"id": "c1"},
        ),
        c(
            "chat.patch_conversation",
            lambda v: v.chat.patch_conversation("c1", {"title": "T"}),
            "PATCH",
            "/chat/conversations/c1",
            body={"title": "T"},
            answer={},
        ),
        c(
            "chat.delete_conversation",
            lambda v: v.chat.delete_conversation("c1"),
            "DELETE",
            "/chat/conversations/c1",
        ),
        c(
            "chat.delete_message",
            lambda v: v.chat.delete_message("m1"),
            "DELETE",
            "/chat/messages/m1",
        ),
        c(
            "chat.search",
            lambda v: v.chat.search({"q": "x"}),
            "POST",
            "/chat/search",
            body={"q": "x"},
            answer=[],
        ),
        c(
            "chat.token_stats",
            lambda v: v.chat.token_stats(days=7),
            "GET",
            "/chat/stats/tokens",
            query={"days": "7"},
            answer={"total": 1},
        ),
        c(
            "chat.generate_agent",
            lambda v: v.chat.generate_agent("a flight agent"),
            "POST",
            "/chat/generate/agent",
            body={"prompt": "a flight agent"},
            answer=MANIFEST,
            returns=AgentGenerationResponse,
        ),
        c(
            "chat.fix_agent",
            lambda v: v.chat.fix_agent({"agent_id": "ag1"}),
            "POST",
            "/chat/fix/agent",
            body={"agent_id": "ag1"},
            answer={},
        ),
        c(
            "chat.cancel_execution",
            lambda v: v.chat.cancel_execution("c1"),
            "POST",
            "/chat/execution/c1/cancel",
        ),
        c(
            "chat.active_execution",
            lambda v: v.chat.active_execution("c1"),
            "GET",
            "/chat/execution/c1/active",
            answer={"execution_id": "e"},
        ),
        c(
            "chat.stream_execution",
            lambda v: v.chat.stream_execution("c1"),
            "GET",
            "/chat/execution/c1/stream",
            stream=True,
        ),
        c(
            "chat.execution_events",
            lambda v: v.chat.execution_events("e1"),
            "GET",
            "/chat/executions/e1/events",
            answer=[],
        ),
        c(
            "chat.debug_start",
            lambda v: v.chat.debug_start("e1", {"breakpoints": ["s"]}),
            "POST",
            "/chat/executions/e1/debug/start",
            body={"breakpoints": ["s"]},
        ),
        c(
            "chat.debug_resume",
            lambda v: v.chat.debug_resume("e1", {}),
            "POST",
            "/chat/executions/e1/debug/resume",
            body={},
        ),
        c(
            "chat.debug_inspect",
            lambda v: v.chat.debug_inspect("e1", {"var": "x"}),
            "POST",
            "/chat/executions/e1/debug/inspect",
            body={"var": "x"},
        ),
        c(
            "chat.debug_stop",
            lambda v: v.chat.debug_stop("e1"),
            "POST",
            "/chat/executions/e1/debug/stop",
        ),
        c(
            "chat.approvals.list",
            lambda v: v.chat.approvals.list(status="pending"),
            "GET",
            "/chat/approvals",
            query={"status": "pending"},
            answer=[],
        ),
        c(
            "chat.approvals.get",
            lambda v: v.chat.approvals.get("ap1"),
            "GET",
            "/chat/approvals/ap1",
            answer={"id": "ap1"},
        ),
        c(
            "chat.approvals.decide",
            lambda v: v.chat.approvals.decide("ap1", {"approved": True}),
            "POST",
            "/chat/approvals/ap1/decision",
            body={"approved": True},
            answer={},
        ),
        c(
            "chat.triggers.create",
            lambda v: v.chat.triggers.create({"name": "t"}),
            "POST",
            "/chat/trigger",
            body={"name": "t"},
            answer={"id": "t1"},
        ),
        c(
            "chat.triggers.list",
            lambda v: v.chat.triggers.list(0, 10),
            "GET",
            "/chat/trigger",
            query={"skip": "0", "limit": "10"},
            answer={"triggers": []},
        ),
        c(
            "chat.triggers.get",
            lambda v: v.chat.triggers.get("t1"),
            "GET",
            "/chat/trigger/t1",
            answer={"id": "t1"},
        ),
        c(
            "chat.triggers.update",
            lambda v: v.chat.triggers.update("t1", {"name": "u"}),
            "PATCH",
            "/chat/trigger/t1",
            body={"name": "u"},
            answer={},
        ),
        c(
            "chat.triggers.delete",
            lambda v: v.chat.triggers.delete("t1"),
            "DELETE",
            "/chat/trigger/t1",
        ),
        c(
            "chat.triggers.test",
            lambda v: v.chat.triggers.test("t1", {"event": "x"}),
            "POST",
            "/chat/trigger/t1/test",
            body={"event": "x"},
            stream=True,
        ),
        c(
            "chat.triggers.test-nobody",
            lambda v: v.chat.triggers.test("t1"),
            "POST",
            "/chat/trigger/t1/test",
            stream=True,
        ),
        c(
            "chat.triggers.list_executions",
            lambda v: v.chat.triggers.list_executions("t1", limit=5),
            "GET",
            "/chat/trigger/t1/executions",
            query={"limit": "5"},
            answer=[],
        ),
        # pulse
        c(
            "pulse.execute",
            lambda v: v.pulse.execute(EXECUTE),
            "POST",
            "/pulse/executor/execute",
            body=EXECUTE.to_wire(),
            answer=EXECUTION,
            returns=EndpointExecutionResponse,
        ),
        c(
            "pulse.invoke",
            lambda v: v.pulse.invoke(INVOKE),
            "POST",
            "/pulse/executor/invoke",
            body=INVOKE.to_wire(),
            answer=INVOCATION,
            returns=AgentInvokeResponse,
        ),
        c(
            "pulse.list_executions",
            lambda v: v.pulse.list_executions(),
            "GET",
            "/pulse/executor/executions",
            query={"skip": "0", "limit": "50"},
            answer={"executions": [EXECUTION], "total": 1, "skip": 0, "limit": 50},
        ),
        c(
            "pulse.list_executions-filtered",
            lambda v: v.pulse.list_executions(
                10,
                5,
                agent_id="ag 1",
                status="failed",
                since=datetime(2026, 12, 6, 21, 30, tzinfo=timezone.utc),
                until="2026-12-06T22:00:00",
            ),
            "GET",
            "/pulse/executor/executions",
            query={
                "skip": "10",
                "limit": "5",
                "agent_id": "ag 1",
                "status": "failed",
                "since": "2026-12-06T21:30:00+00:00",
                "until": "2026-12-06T22:00:00",
            },
            answer={"executions": [], "total": 0, "skip": 10, "limit": 5},
        ),
        # workflow
        c(
            "workflow.start",
            lambda v: v.workflow.start("wf1", trigger_source="api"),
            "POST",
            "/workflow/start",
            body={"workflow_id": "wf1", "trigger_source": "api"},
            answer={},
        ),
        c(
            "workflow.start-min",
            lambda v: v.workflow.start("wf1"),
            "POST",
            "/workflow/start",
            body={"workflow_id": "wf1"},
            answer={},
        ),
        c(
            "workflow.get",
            lambda v: v.workflow.get("wf1"),
            "GET",
            "/workflow/id/wf1",
            answer={"id": "wf1"},
        ),
        c(
            "workflow.patch",
            lambda v: v.workflow.patch("wf1", {"name": "n"}),
            "PATCH",
            "/workflow/id/wf1",
            body={"name": "n"},
            answer={},
        ),
        c(
            "workflow.list",
            lambda v: v.workflow.list(0, 25),
            "GET",
            "/workflow/list",
            query={"skip": "0", "limit": "25"},
            answer={"workflows": []},
        ),
        c("workflow.delete", lambda v: v.workflow.delete("wf1"), "DELETE", "/workflow/wf1"),
        c(
            "workflow.related",
            lambda v: v.workflow.related("wf1"),
            "GET",
            "/workflow/related/wf1",
            answer=[],
        ),
        c(
            "workflow.clone",
            lambda v: v.workflow.clone({"workflow_id": "wf1"}),
            "POST",
            "/workflow/clone",
            body={"workflow_id": "wf1"},
            answer={},
        ),
        c(
            "workflow.rerun",
            lambda v: v.workflow.rerun({"execution_id": "x"}),
            "POST",
            "/workflow/rerun",
            body={"execution_id": "x"},
            answer={},
        ),
        c(
            "workflow.execute",
            lambda v: v.workflow.execute("wf1", {"inputs": {}}),
            "POST",
            "/workflow/wf1/execute",
            body={"inputs": {}},
            answer={},
        ),
        c(
            "workflow.execute-nobody",
            lambda v: v.workflow.execute("wf1"),
            "POST",
            "/workflow/wf1/execute",
            answer={},
        ),
        c(
            "workflow.executions.create",
            lambda v: v.workflow.executions.create("wf1", schedule_id="s"),
            "POST",
            "/workflow/execution/create",
            body={"workflow_id": "wf1", "schedule_id": "s"},
            answer={},
        ),
        c(
            "workflow.executions.get",
            lambda v: v.workflow.executions.get("x1"),
            "GET",
            "/workflow/execution/x1",
            answer={"id": "x1"},
        ),
        c(
            "workflow.executions.list",
            lambda v: v.workflow.executions.list(5, 5),
            "GET",
            "/workflow/execution/list",
            query={"skip": "5", "limit": "5"},
            answer={"executions": []},
        ),
        c(
            "workflow.executions.list_for_workflow",
            lambda v: v.workflow.executions.list_for_workflow("wf1", skip=0),
            "GET",
            "/workflow/execution/workflow/wf1/list",
            query={"skip": "0"},
            answer=[],
        ),
        c(
            "workflow.executions.start",
            lambda v: v.workflow.executions.start("x1"),
            "POST",
            "/workflow/execution/x1/start",
            answer={},
        ),
        c(
            "workflow.executions.retry",
            lambda v: v.workflow.executions.retry("x1"),
            "POST",
            "/workflow/execution/x1/retry",
            answer={},
        ),
        c(
            "workflow.executions.cancel",
            lambda v: v.workflow.executions.cancel("x1"),
            "POST",
            "/workflow/execution/x1/cancel",
            answer={},
        ),
        c(
            "workflow.executions.stop",
            lambda v: v.workflow.executions.stop("x1"),
            "POST",
            "/workflow/execution/x1/stop",
            answer={},
        ),
        c(
            "workflow.executions.delete",
            lambda v: v.workflow.executions.delete("x1"),
            "DELETE",
            "/workflow/execution/x1",
        ),
        c(
            "workflow.executions.patch_tasks",
            lambda v: v.workflow.executions.patch_tasks("x1", {"tasks": []}),
            "PATCH",
            "/workflow/execution/x1/tasks",
            body={"tasks": []},
            answer={},
        ),
        # scheduler
        c(
            "scheduler.create",
            lambda v: v.scheduler.create({"cron": "* * * * *"}),
            "POST",
            "/scheduler/schedule/create",
            body={"cron": "* * * * *"},
            answer={},
        ),
        c(
            "scheduler.list",
            lambda v: v.scheduler.list(),
            "GET",
            "/scheduler/schedule/list",
            query={"skip": "0", "limit": "50"},
            answer={"schedules": []},
        ),
        c(
            "scheduler.get",
            lambda v: v.scheduler.get("s1"),
            "GET",
            "/scheduler/schedule/s1",
            answer={"id": "s1"},
        ),
        c(
            "scheduler.update",
            lambda v: v.scheduler.update("s1", {"cron": "0 * * * *"}),
            "PATCH",
            "/scheduler/schedule/s1",
            body={"cron": "0 * * * *"},
            answer={},
        ),
        c(
            "scheduler.delete",
            lambda v: v.scheduler.delete("s1"),
            "DELETE",
            "/scheduler/schedule/s1",
        ),
        c(
            "scheduler.pause",
            lambda v: v.scheduler.pause("s1"),
            "POST",
            "/scheduler/schedule/s1/pause",
            answer={},
        ),
        c(
            "scheduler.resume",
            lambda v: v.scheduler.resume("s1"),
            "POST",
            "/scheduler/schedule/s1/resume",
            answer={},
        ),
        c(
            "scheduler.run_now",
            lambda v: v.scheduler.run_now("s1"),
            "POST",
            "/scheduler/schedule/s1/run-now",
            answer={},
        ),
        # marketplace
        c(
            "marketplace.listings.create",
            lambda v: v.marketplace.listings.create({"agent_id": "a"}),
            "POST",
            f"{MP}/listings",
            body={"agent_id": "a"},
            answer={"id": "l1"},
        ),
        c(
            "marketplace.listings.search",
            lambda v: v.marketplace.listings.search(q="flight"),
            "GET",
            f"{MP}/listings/search",
            query={"q": "flight"},
            answer=[],
        ),
        c(
            "marketplace.listings.list",
            lambda v: v.marketplace.listings.list(skip=0, limit=5),
            "GET",
            f"{MP}/listings",
            query={"skip": "0", "limit": "5"},
            answer={"listings": []},
        ),
        c(
            "marketplace.listings.get",
            lambda v: v.marketplace.listings.get("l1"),
            "GET",
            f"{MP}/listings/l1",
            answer={"id": "l1"},
        ),
        c(
            "marketplace.listings.publish",
            lambda v: v.marketplace.listings.publish("l1"),
            "POST",
            f"{MP}/listings/l1/publish",
            answer={},
        ),
        c(
            "marketplace.listings.install",
            lambda v: v.marketplace.listings.install("l1", {"project": "p"}),
            "POST",
            f"{MP}/listings/l1/install",
            body={"project": "p"},
            answer={},
        ),
        c(
            "marketplace.workforce.publish",
            lambda v: v.marketplace.workforce.publish({"name": "w"}),
            "POST",
            f"{MP}/workforce/publish",
            body={"name": "w"},
            answer={},
        ),
        c(
            "marketplace.workforce.search",
            lambda v: v.marketplace.workforce.search(q="ops"),
            "GET",
            f"{MP}/workforce/search",
            query={"q": "ops"},
            answer=[],
        ),
        c(
            "marketplace.workforce.get",
            lambda v: v.marketplace.workforce.get("w1"),
            "GET",
            f"{MP}/workforce/w1",
            answer={"id": "w1"},
        ),
        c(
            "marketplace.workforce.install",
            lambda v: v.marketplace.workforce.install("w1", {}),
            "POST",
            f"{MP}/workforce/w1/install",
            body={},
            answer={},
        ),
        c(
            "marketplace.publishers.create_profile",
            lambda v: v.marketplace.publishers.create_profile({"name": "Me"}),
            "POST",
            f"{MP}/publishers/profile",
            body={"name": "Me"},
            answer={},
        ),
        c(
            "marketplace.publishers.me",
            lambda v: v.marketplace.publishers.me(),
            "GET",
            f"{MP}/publishers/me",
            answer={"name": "Me"},
        ),
        c(
            "marketplace.publishers.update_profile",
            lambda v: v.marketplace.publishers.update_profile({"name": "You"}),
            "PUT",
            f"{MP}/publishers/profile",
            body={"name": "You"},
            answer={},
        ),
        c(
            "marketplace.categories",
            lambda v: v.marketplace.categories(),
            "GET",
            f"{MP}/categories",
            answer=[],
        ),
        c(
            "marketplace.installations",
            lambda v: v.marketplace.installations(limit=3),
            "GET",
            f"{MP}/install",
            query={"limit": "3"},
            answer=[],
        ),
        # client.request for unwrapped routes
        c(
            "client.request",
            lambda v: v.request("GET", "/builder", "/workforce/x", params={"a": 1}),
            "GET",
            "/builder/workforce/x",
            query={"a": "1"},
            answer={"ok": True},
        ),
        c(
            "client.request-post",
            lambda v: v.request("post", "chat", "trigger/t/x", json={"b": 2}),
            "POST",
            "/chat/trigger/t/x",
            body={"b": 2},
            answer={"ok": True},
        ),
    ]


CASES = _cases()


def _mock(api: respx.MockRouter, case: Case) -> respx.Route:
    route = api.route(method=case.method, path=case.path)
    if case.stream:
        return route.respond(200, content=SSE_BODY, headers={"content-type": "text/event-stream"})
    if case.answer is None:
        return route.respond(204)
    return route.respond(200, json=case.answer)


def _check_request(route: respx.Route, case: Case) -> None:
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == case.method
    assert request.url.path == case.path
    assert dict(request.url.params) == case.query
    if case.body is None:
        assert request.content == b""
    else:
        assert json.loads(request.content) == case.body
    if case.authenticated:
        assert request.headers["authorization"] == "Bearer tok-access-1"
    else:
        assert "authorization" not in request.headers


def _check_answer(result: Any, case: Case) -> None:
    if case.stream:
        assert result == [{"step": 1}, {"step": 2}]
    elif case.many:
        assert result == [case.answer]
    elif case.returns is not None:
        assert isinstance(result, case.returns)
        model: Any = result
        assert (
            model.model_dump(mode="json", exclude_none=True).items()
            >= {k: v for k, v in case.answer.items() if v is not None}.items()
        )
    else:
        assert result == case.answer


def test_every_operation_has_a_case(
    make_client: Callable[..., ViksaClient], operations: Callable[[object], dict[str, Any]]
) -> None:
    """The table covers every operation of every sub-client, and nothing else."""
    covered = {case.name.split("-")[0] for case in CASES}
    # Paginators (test_pagination) and the blocking _sync variants (test_sync_twin)
    # are tested on their own.
    expected = {
        name
        for name in operations(make_client())
        if not name.split(".")[-1].startswith("iter_") and not name.endswith("_sync")
    }
    assert covered == expected | {"client.request"}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_async_route(
    api: respx.MockRouter, make_client: Callable[..., ViksaClient], case: Case
) -> None:
    route = _mock(api, case)
    client = make_client(refresh_token="tok-refresh-1")
    outcome = case.op(client)
    if case.stream:
        result: Any = [event async for event in outcome]
    else:
        assert inspect.isawaitable(outcome)
        result = await outcome
    _check_request(route, case)
    _check_answer(result, case)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_sync_route(
    api: respx.MockRouter, make_sync_client: Callable[..., ViksaSyncClient], case: Case
) -> None:
    route = _mock(api, case)
    client = make_sync_client(refresh_token="tok-refresh-1")
    outcome = case.op(client)
    result = list(outcome) if case.stream else outcome
    _check_request(route, case)
    _check_answer(result, case)
