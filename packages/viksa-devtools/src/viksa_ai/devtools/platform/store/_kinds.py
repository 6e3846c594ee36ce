"""The kinds of record the platform stores: one typed set, checked wherever a kind is named."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["KINDS", "Kind"]

Kind = Literal[
    # accounts
    "account",
    "user",
    "org",
    "project",
    "key",
    "session",
    "used_refresh",
    "signing_key",
    # agents and their deployments
    "agent",
    "agent_revision",
    "deployment",
    "debug_session",
    # vault
    "secret",
    "secret_value",
    # engine and workflows
    "execution",
    "approval",
    "workflow",
    "workflow_execution",
    # triggers and scheduler
    "trigger",
    "schedule",
    # chat and MCP servers
    "conversation",
    "message",
    "mcp_server",
    # marketplace
    "listing",
    "installation",
    "publisher",
    "workforce",
    # the HTTP edge: stored answers of Idempotency-Key requests
    "idempotency",
    # platform settings (the meta table), counted as changes like a kind
    "meta",
]
"""A record kind: the ``kind`` column of the store."""

KINDS: frozenset[str] = frozenset(get_args(Kind))
"""Every :data:`Kind`, for checks at run time."""
