"""The answers of the platform that stay plain dicts: one ``TypedDict`` per shape.

The client returns these answers as the JSON objects the platform sent (``agent["id"]``,
``page.get("total")`` work as in 0.2); these types only tell a type checker and an
editor what they hold. Nothing here runs at request time and nothing is validated: keys
marked ``NotRequired`` may be absent, ``X | None`` may be ``null``, and keys a newer
platform adds are kept in the dict at run time (read them with ``answer.get("key")``
after a cast, or with ``pydantic.TypeAdapter``, which accepts every type here).

Where the wire contract names no shape, the type is :data:`JSONObject` or
:data:`JSONValue`, never ``Any``. This module imports only ``typing_extensions``.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from typing_extensions import NotRequired, TypeAliasType, TypedDict

__all__ = [
    "ActiveExecution",
    "AgentDocument",
    "AgentEndpointDocument",
    "AgentFileDocument",
    "AgentMapping",
    "AgentPage",
    "AgentRevision",
    "AgentShare",
    "ApiKey",
    "ApiKeyPage",
    "Approval",
    "ApprovalPage",
    "Build",
    "Categories",
    "Category",
    "ChatReply",
    "Conversation",
    "ConversationPage",
    "CreatedApiKey",
    "CreatedTrigger",
    "DebugSession",
    "DebugState",
    "Deleted",
    "Deployment",
    "EndpointMapping",
    "ExecutionEvents",
    "ExecutionRecord",
    "ExecutionRecordPage",
    "ExecutionStatus",
    "FixedAgent",
    "Installation",
    "InstallationPage",
    "JSONObject",
    "JSONValue",
    "Listing",
    "ListingPage",
    "LoggedOut",
    "McpServer",
    "McpServerPage",
    "Message",
    "MessageSearch",
    "Org",
    "PlanUsage",
    "Project",
    "PublisherProfile",
    "RevisionPage",
    "Schedule",
    "SchedulePage",
    "ScheduleRun",
    "Secret",
    "SecretDeleted",
    "SecretPage",
    "SecretUsage",
    "SecretUse",
    "Session",
    "SessionPage",
    "SessionRevoked",
    "SessionsEnded",
    "StreamEvent",
    "TokenStats",
    "Trigger",
    "TriggerPage",
    "VaultStatus",
    "WebhookHealth",
    "WorkflowDefinition",
    "WorkflowExecution",
    "WorkflowExecutionPage",
    "WorkflowPage",
    "WorkflowRelated",
    "WorkflowStep",
    "WorkflowTask",
    "WorkforceListing",
    "WorkforcePage",
]

JSONValue = TypeAliasType(
    "JSONValue",
    "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None",
)
"""Any JSON value: narrow it with ``isinstance`` before use."""

JSONObject: TypeAlias = dict[str, JSONValue]
"""A JSON object whose shape the wire contract does not fix."""

# -- shared ------------------------------------------------------------------------------


class Deleted(TypedDict):
    """The answer of a delete: the id and ``deleted: true``."""

    id: str
    deleted: bool


# -- auth ----------------------------------------------------------------------------------


class LoggedOut(TypedDict):
    """``auth.logout`` / ``auth.logout_all``: how many sessions ended."""

    status: str
    sessions_ended: NotRequired[int]


class SessionsEnded(TypedDict):
    """``auth.revoke_all_sessions``: how many sessions ended."""

    sessions_ended: int


class SessionRevoked(TypedDict):
    """``auth.revoke_session``."""

    id: str
    revoked: bool


class Session(TypedDict):
    """One live session of the user (``current`` is the caller's own)."""

    id: str
    user_id: NotRequired[str]
    account_id: NotRequired[str]
    org_id: NotRequired[str | None]
    project_id: NotRequired[str | None]
    created_at: NotRequired[str]
    last_used_at: NotRequired[str]
    expires_at: NotRequired[str]
    current: NotRequired[bool]


class SessionPage(TypedDict):
    """``auth.list_sessions``."""

    sessions: list[Session]
    total: NotRequired[int]


class PlanUsage(TypedDict):
    """``auth.usage``: the plan, what the project holds and the plan's limits."""

    plan: NotRequired[str]
    account_id: NotRequired[str]
    org_id: NotRequired[str | None]
    project_id: NotRequired[str | None]
    usage: NotRequired[dict[str, int]]
    limits: NotRequired[JSONObject]


class ApiKey(TypedDict):
    """An API or worker key as listed: never its secret."""

    id: str
    name: str
    kind: NotRequired[str]
    description: NotRequired[str | None]
    prefix: NotRequired[str]
    account_id: NotRequired[str]
    user_id: NotRequired[str | None]
    org_id: NotRequired[str | None]
    project_id: NotRequired[str | None]
    scopes: NotRequired[list[str]]
    created_at: NotRequired[str]
    revoked: NotRequired[bool]
    revoked_at: NotRequired[str | None]


class CreatedApiKey(ApiKey):
    """A key just created: ``key`` is its secret value, shown in this answer only."""

    key: str


class ApiKeyPage(TypedDict):
    """One page of keys (``keys``)."""

    keys: list[ApiKey]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class Org(TypedDict):
    """An organization."""

    id: str
    name: NotRequired[str]
    account_id: NotRequired[str]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]


class Project(TypedDict):
    """A project of an organization."""

    id: str
    org_id: NotRequired[str]
    name: NotRequired[str]
    account_id: NotRequired[str]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]


# -- builder -------------------------------------------------------------------------------


class AgentFileDocument(TypedDict):
    """A file of an agent document."""

    name: str
    content: str
    mime_type: str


class AgentEndpointDocument(TypedDict):
    """An endpoint of an agent document (``endpoint`` is ``alias.module.function``)."""

    name: str
    module: NotRequired[str]
    endpoint: NotRequired[str]
    description: NotRequired[str]
    status: NotRequired[str]
    inputs: NotRequired[list[JSONObject]]
    outputs: NotRequired[list[str]]
    execution_config: NotRequired[JSONObject | None]


class AgentDocument(TypedDict):
    """An agent as the builder stores it: the manifest plus its record fields."""

    id: str
    agent_name: str
    agent_alias: str
    agent_description: NotRequired[str]
    agent_type: NotRequired[str]
    files: NotRequired[list[AgentFileDocument]]
    requirements: NotRequired[list[str]]
    inputs: NotRequired[list[JSONObject]]
    outputs: NotRequired[list[JSONObject]]
    agent_endpoints: NotRequired[list[AgentEndpointDocument]]
    chrona_queue: NotRequired[JSONObject | None]
    auth_methods: NotRequired[JSONObject]
    org_id: NotRequired[str | None]
    project_id: NotRequired[str | None]
    revision: NotRequired[int]
    status: NotRequired[str]
    build_status: NotRequired[str]
    built_revision: NotRequired[int | None]
    last_build: NotRequired[JSONObject | None]
    deploy_status: NotRequired[str]
    deployed_revision: NotRequired[int | None]
    deployed_at: NotRequired[str | None]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    created_by: NotRequired[str | None]
    shared_with: NotRequired[list[JSONObject]]


class AgentPage(TypedDict):
    """One page of agents (``agents``, with ``total``)."""

    agents: list[AgentDocument]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class AgentRevision(TypedDict):
    """One revision of an agent; ``agent`` (the document then) when asked for one."""

    id: NotRequired[str]
    agent_id: NotRequired[str]
    revision: int
    changed_fields: NotRequired[list[str]]
    created_at: NotRequired[str]
    created_by: NotRequired[str | None]
    agent: NotRequired[AgentDocument]


class RevisionPage(TypedDict):
    """``agents.revisions``."""

    revisions: list[AgentRevision]
    total: NotRequired[int]


class AgentShare(TypedDict):
    """``agents.share``: who the agent is shared with now."""

    agent_id: str
    shared_with: list[JSONObject]


class Build(TypedDict):
    """``deploy.build``: a build job of an agent revision."""

    agent_id: str
    status: str
    build_id: NotRequired[str]
    revision: NotRequired[int]
    started_at: NotRequired[str]
    finished_at: NotRequired[str | None]
    issues: NotRequired[list[JSONValue]]
    build_status: NotRequired[str]


class Deployment(TypedDict):
    """``deploy.deploy`` / ``deploy.reconcile``: the deployed revision and endpoints."""

    agent_id: str
    status: str
    deployment_id: NotRequired[str]
    revision: NotRequired[int]
    deployed_at: NotRequired[str]
    endpoints: NotRequired[list[str]]
    changes: NotRequired[list[JSONValue]]


class VaultStatus(TypedDict):
    """``secrets.vault_status``."""

    status: str
    initialized: NotRequired[bool]
    sealed: NotRequired[bool]
    backend: NotRequired[str]
    secrets: NotRequired[int]


class Secret(TypedDict):
    """A vault secret's metadata; ``value`` only from ``get_secret``."""

    id: str
    name: str
    description: NotRequired[str | None]
    version: NotRequired[int]
    has_passphrase: NotRequired[bool]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    value: NotRequired[str]


class SecretPage(TypedDict):
    """One page of secrets (``secrets``)."""

    secrets: list[Secret]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class SecretUse(TypedDict):
    """Where an agent uses a secret."""

    agent_id: str
    agent_alias: NotRequired[str]
    method_id: NotRequired[str]
    param: NotRequired[str]


class SecretUsage(TypedDict):
    """``secrets.secret_usage``."""

    secret_id: str
    in_use: bool
    agents: list[SecretUse]


class SecretDeleted(Deleted):
    """``secrets.delete_secret``: the agents that used it (when forced)."""

    was_used_by: NotRequired[list[SecretUse]]


class McpServer(TypedDict):
    """A hosted MCP server record."""

    id: str
    name: str
    status: NotRequired[str]
    transport: NotRequired[str]
    agent_id: NotRequired[str | None]
    description: NotRequired[str | None]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    started_at: NotRequired[str | None]
    stopped_at: NotRequired[str | None]


class McpServerPage(TypedDict):
    """One page of MCP servers (``servers``)."""

    servers: list[McpServer]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class EndpointMapping(TypedDict):
    """One deployed endpoint of a mapping."""

    name: str
    endpoint: str
    module: NotRequired[str]
    status: NotRequired[str]
    inputs: NotRequired[list[str]]
    requires_approval: NotRequired[bool]


class AgentMapping(TypedDict):
    """``mappings.get``: the deployed endpoints of an agent."""

    agent_id: str
    endpoints: list[EndpointMapping]
    agent_alias: NotRequired[str]
    deployed_revision: NotRequired[int | None]


# -- executions (chat, pulse, triggers, webhooks) -------------------------------------------


ExecutionStatus: TypeAlias = Literal[
    "running", "awaiting_approval", "completed", "failed", "timeout", "rejected", "cancelled"
]
"""Where an endpoint execution stands (a filter of ``pulse.list_executions``).

Answers keep ``status`` a plain ``str``: a newer platform may add a state.
"""


class ExecutionRecord(TypedDict):
    """An endpoint execution: its status, then its ``response`` or ``error``."""

    execution_id: str
    status: str
    endpoint: str
    agent_id: NotRequired[str]
    source: NotRequired[str]
    response: NotRequired[JSONValue]
    error: NotRequired[str | None]
    error_kind: NotRequired[str | None]
    duration_ms: NotRequired[int | None]
    approval_id: NotRequired[str | None]
    created_at: NotRequired[str]
    finished_at: NotRequired[str | None]
    conversation_id: NotRequired[str]
    trigger_id: NotRequired[str]
    schedule_id: NotRequired[str]
    output: NotRequired[str]
    traceback: NotRequired[str | None]


class ExecutionRecordPage(TypedDict):
    """One page of executions (``executions``): a project's, or those of a trigger."""

    executions: list[ExecutionRecord]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class StreamEvent(TypedDict):
    """One event of a stream: ``type`` names it, the other keys depend on it.

    ``conversation``, ``intent``, ``message.delta`` (``content``), ``execution.started``,
    ``execution.<status>`` (the :class:`ExecutionRecord` keys), ``approval.requested``,
    ``result`` (the :class:`ChatReply` keys) ...
    """

    type: str
    conversation_id: NotRequired[str]
    execution_id: NotRequired[str]
    approval_id: NotRequired[str | None]
    content: NotRequired[str]
    status: NotRequired[str]
    endpoint: NotRequired[str]
    intent: NotRequired[str]
    response: NotRequired[JSONValue]
    error: NotRequired[str | None]
    at: NotRequired[str]


class ExecutionEvents(TypedDict):
    """``chat.execution_events``: what happened to an execution, in order."""

    execution_id: str
    events: list[StreamEvent]
    total: NotRequired[int]


class ActiveExecution(TypedDict):
    """``chat.active_execution``: the conversation's running execution, if any."""

    conversation_id: str
    active: bool
    execution: ExecutionRecord | None


class DebugState(TypedDict):
    """The debug session of an execution."""

    id: str
    state: str
    breakpoints: NotRequired[list[JSONValue]]
    started_at: NotRequired[str]


class DebugSession(TypedDict):
    """``chat.debug_*``: the debug session and the execution it follows."""

    execution_id: str
    debug: DebugState
    execution: NotRequired[ExecutionRecord]
    note: NotRequired[str]


class Approval(TypedDict):
    """A human-in-the-loop approval; ``execution`` once decided."""

    id: str
    status: str
    execution_id: NotRequired[str]
    agent_id: NotRequired[str]
    endpoint: NotRequired[str]
    requested_at: NotRequired[str]
    decided_at: NotRequired[str | None]
    decision: NotRequired[str | None]
    comment: NotRequired[str | None]
    decided_by: NotRequired[str | None]
    execution: NotRequired[ExecutionRecord]


class ApprovalPage(TypedDict):
    """``approvals.list`` (``approvals``)."""

    approvals: list[Approval]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class Trigger(TypedDict):
    """A chat trigger (a webhook bound to an endpoint); never its token."""

    id: str
    agent_id: str
    endpoint: str
    name: NotRequired[str]
    enabled: NotRequired[bool]
    require_token: NotRequired[bool]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    last_triggered_at: NotRequired[str | None]
    execution_count: NotRequired[int]
    token_prefix: NotRequired[str]
    webhook_url: NotRequired[str]


class CreatedTrigger(Trigger):
    """A trigger just created: ``webhook_token`` is shown in this answer only."""

    webhook_token: NotRequired[str]


class TriggerPage(TypedDict):
    """One page of triggers (``triggers``)."""

    triggers: list[Trigger]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class WebhookHealth(TypedDict):
    """``webhook.health``."""

    status: str
    trigger_id: NotRequired[str]
    enabled: NotRequired[bool]
    endpoint: NotRequired[str]


# -- chat ----------------------------------------------------------------------------------


class ChatReply(TypedDict):
    """``chat.indent_finder``: the assistant's reply and what it ran."""

    conversation_id: str
    response: str
    user_message_id: NotRequired[str]
    message_id: NotRequired[str]
    intent: NotRequired[str]
    execution: NotRequired[ExecutionRecord | None]
    endpoints: NotRequired[list[JSONObject] | None]
    deterministic: NotRequired[bool]
    note: NotRequired[str]


class Message(TypedDict):
    """A message of a conversation."""

    id: str
    conversation_id: str
    role: str
    content: NotRequired[str]
    created_at: NotRequired[str]
    tokens: NotRequired[int]
    intent: NotRequired[str]


class Conversation(TypedDict):
    """A conversation; ``messages`` from ``get_conversation``."""

    id: str
    title: NotRequired[str | None]
    workforce_id: NotRequired[str | None]
    metadata: NotRequired[JSONObject]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    message_count: NotRequired[int]
    messages: NotRequired[list[Message]]


class ConversationPage(TypedDict):
    """One page of conversations (``conversations``)."""

    conversations: list[Conversation]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class MessageSearch(TypedDict):
    """``chat.search``: the matching messages."""

    results: list[Message]
    query: NotRequired[str]
    total: NotRequired[int]


class TokenStats(TypedDict):
    """``chat.token_stats``."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    messages: NotRequired[int]
    counting: NotRequired[str]
    deterministic: NotRequired[bool]


class FixedAgent(TypedDict):
    """``chat.fix_agent``: the manifest after the fix pass, and what is still wrong."""

    agent: JSONObject
    fixed: NotRequired[bool]
    valid: NotRequired[bool]
    issues: NotRequired[list[JSONValue]]
    deterministic: NotRequired[bool]
    note: NotRequired[str]


# -- workflow ------------------------------------------------------------------------------


class WorkflowStep(TypedDict):
    """A step of a workflow: an endpoint of an agent with its inputs."""

    agent_id: str
    endpoint: str
    id: NotRequired[str]
    name: NotRequired[str]
    inputs: NotRequired[JSONObject]


class WorkflowDefinition(TypedDict):
    """A workflow definition."""

    id: str
    name: NotRequired[str]
    steps: NotRequired[list[WorkflowStep]]
    status: NotRequired[str]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    cloned_from: NotRequired[str]


class WorkflowPage(TypedDict):
    """One page of workflows (``workflows``)."""

    workflows: list[WorkflowDefinition]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class WorkflowTask(TypedDict):
    """The run of one step in a workflow execution."""

    step_id: str
    status: str
    name: NotRequired[str]
    agent_id: NotRequired[str]
    endpoint: NotRequired[str]
    inputs: NotRequired[JSONObject]
    execution_id: NotRequired[str | None]
    response: NotRequired[JSONValue]
    error: NotRequired[str | None]


class WorkflowExecution(TypedDict):
    """An execution of a workflow, with its tasks."""

    id: str
    workflow_id: str
    status: str
    created_at: NotRequired[str]
    started_at: NotRequired[str | None]
    finished_at: NotRequired[str | None]
    error: NotRequired[str | None]
    schedule_id: NotRequired[str | None]
    trigger_source: NotRequired[str | None]
    rerun_of: NotRequired[str]
    tasks: NotRequired[list[WorkflowTask]]


class WorkflowExecutionPage(TypedDict):
    """One page of workflow executions (``executions``)."""

    executions: list[WorkflowExecution]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class WorkflowRelated(TypedDict):
    """``workflow.related``: the executions and schedules of a workflow."""

    workflow_id: str
    executions: NotRequired[list[WorkflowExecution]]
    schedules: NotRequired[list[JSONObject]]


# -- scheduler -----------------------------------------------------------------------------


class Schedule(TypedDict):
    """A schedule: what it runs, how often, and when next."""

    id: str
    status: str
    name: NotRequired[str]
    agent_id: NotRequired[str]
    endpoint: NotRequired[str]
    workflow_id: NotRequired[str]
    inputs: NotRequired[JSONObject]
    interval_seconds: NotRequired[int]
    cron: NotRequired[str]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    run_count: NotRequired[int]
    last_run_at: NotRequired[str | None]
    next_run_at: NotRequired[str | None]


class SchedulePage(TypedDict):
    """One page of schedules (``schedules``)."""

    schedules: list[Schedule]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class ScheduleRun(TypedDict):
    """``scheduler.run_now``: the run started now."""

    schedule_id: str
    run: JSONObject
    run_count: NotRequired[int]


# -- marketplace ---------------------------------------------------------------------------


class PublisherProfile(TypedDict):
    """Your publisher profile."""

    id: str
    display_name: NotRequired[str]
    bio: NotRequired[str]
    account_id: NotRequired[str]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]


class Listing(TypedDict):
    """An agent listing of the marketplace."""

    id: str
    name: str
    status: str
    description: NotRequired[str]
    agent_id: NotRequired[str]
    agent_alias: NotRequired[str]
    category: NotRequired[str]
    publisher_id: NotRequired[str]
    account_id: NotRequired[str]
    manifest: NotRequired[JSONObject]
    installs: NotRequired[int]
    created_at: NotRequired[str]
    published_at: NotRequired[str | None]


class ListingPage(TypedDict):
    """One page of listings (``listings``)."""

    listings: list[Listing]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class WorkforceListing(TypedDict):
    """A workforce listing: a team of agents (and their workflow) published together."""

    id: str
    name: str
    status: NotRequired[str]
    category: NotRequired[str]
    agent_ids: NotRequired[list[str]]
    agents: NotRequired[list[JSONObject]]
    workflow: NotRequired[JSONObject | None]
    publisher_id: NotRequired[str]
    account_id: NotRequired[str]
    installs: NotRequired[int]
    created_at: NotRequired[str]
    published_at: NotRequired[str | None]


class WorkforcePage(TypedDict):
    """One page of workforces (``workforces``)."""

    workforces: list[WorkforceListing]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class Installation(TypedDict):
    """An installed listing or workforce: the agents it created in your project."""

    id: str
    kind: str
    agent_ids: list[str]
    listing_id: NotRequired[str]
    workforce_id: NotRequired[str]
    project_id: NotRequired[str]
    installed_at: NotRequired[str]
    agent: NotRequired[AgentDocument]
    workflow: NotRequired[JSONObject | None]


class InstallationPage(TypedDict):
    """``marketplace.installations`` (``installations``)."""

    installations: list[Installation]
    total: NotRequired[int]
    skip: NotRequired[int]
    limit: NotRequired[int]


class Category(TypedDict):
    """A catalog category."""

    id: str
    name: str


class Categories(TypedDict):
    """``marketplace.categories``."""

    categories: list[Category]
