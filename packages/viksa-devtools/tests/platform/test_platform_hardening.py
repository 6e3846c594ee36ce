"""Secrets kept out of errors and logs, identity caching, the data file, restarts."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools.platform import LocalPlatform, Platform, PlatformConfig
from viksa_ai.devtools.platform.http._serve import (
    _uvicorn_config,
    configure_logging,
    redact_query,
)
from viksa_ai.devtools.platform.services._workflows import KIND as WORKFLOW_EXECUTION
from viksa_ai.devtools.platform.store._store import Kind, Store

# -- secrets never come back in errors or log lines -----------------------------------


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("/builder/secret/create", b'["name", "TOP-SECRET-VALUE"]'),
        ("/auth/individual/login", b'{"email": "a@b.c", "password": "TOP-SECRET-VALUE"'),
        ("/_dev/faults", b'{"spec": ["TOP-SECRET-VALUE"]}'),
    ],
)
async def test_422_items_never_echo_the_input(
    http: httpx.AsyncClient, route: str, body: bytes
) -> None:
    answer = await http.post(route, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert "TOP-SECRET-VALUE" not in answer.text
    items = answer.json()["detail"]
    assert items
    assert all(set(item) == {"loc", "msg", "type"} for item in items)


def test_the_access_log_never_shows_a_passphrase(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging()
    configure_logging()  # idempotent: one filter, not two
    access = logging.getLogger("uvicorn.access")
    assert len(access.filters) == len({type(f) for f in access.filters})
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # The exact call uvicorn's access logger makes.
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/builder/secret/sec_1?passphrase=hunter2&refresh_token=rt&limit=5",
            "1.1",
            200,
        )
    line = caplog.records[-1].getMessage()
    assert "hunter2" not in line
    assert "rt&" not in line
    assert "passphrase=***" in line
    assert "limit=5" in line
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # The dashboard's one-time sign-in link.
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "GET",
            "/dashboard/sign-in?token=vdl_one-time",
            "1.1",
            303,
        )
    assert "vdl_one-time" not in caplog.records[-1].getMessage()


_CREDENTIAL_KEYS = ("passphrase", "password", "api_key", "key", "secret", "token", "id_token")


@st.composite
def _encoded(draw: st.DrawFn, key: str) -> str:
    """``key`` as a client may write it in a query string: any of its characters
    percent-encoded (upper or lower case hex), which the app decodes all the same."""
    written = []
    for char in key:
        if draw(st.booleans()):
            hex_code = f"{ord(char):02X}"
            written.append("%" + (hex_code if draw(st.booleans()) else hex_code.lower()))
        else:
            written.append(char)
    return "".join(written)


@settings(database=None, derandomize=True)
@given(
    st.sampled_from(_CREDENTIAL_KEYS).flatmap(_encoded),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=8, max_size=20),
)
def test_the_access_log_redacts_a_credential_however_its_name_is_encoded(
    written: str, tail: str
) -> None:
    # The app reads ``%74oken=`` as ``token=``: the log line must hide its value too.
    value = f"Q{tail}"  # upper case: never a part of the rest of the line
    path = f"/dashboard/sign-in?limit=5&{written}={value}&after=1"
    shown = redact_query(path)
    assert value not in shown
    assert dict(parse_qsl(urlsplit(shown).query))["limit"] == "5"


@pytest.fixture
def uvicorn_loggers() -> Iterator[None]:
    """Put back what uvicorn.Config changes on its loggers (levels, handlers)."""
    loggers = [logging.getLogger(f"uvicorn{suffix}") for suffix in ("", ".error", ".access")]
    saved = [(lg.level, list(lg.handlers), lg.propagate, lg.disabled) for lg in loggers]
    yield
    for lg, (level, handlers, propagate, disabled) in zip(loggers, saved, strict=True):
        lg.setLevel(level)
        lg.handlers = handlers
        lg.propagate = propagate
        lg.disabled = disabled


@pytest.mark.usefixtures("uvicorn_loggers")
@pytest.mark.parametrize("access_log", [True, False])
def test_access_log_lines_show_at_the_default_log_level(access_log: bool) -> None:
    # `viksa dev --access-log` alone (log level warning) must print the request lines,
    # which uvicorn logs at INFO.
    _uvicorn_config(FastAPI(), log_level="warning", access_log=access_log)
    access = logging.getLogger("uvicorn.access")
    assert access.isEnabledFor(logging.INFO) is access_log
    assert not logging.getLogger("uvicorn.error").isEnabledFor(logging.INFO)


_LEAKY = """
from typing import Any, Dict

from ViksaAI import ViksaAuth, mcp_endpoint


@mcp_endpoint(description="Print the key, then fail quoting it")
async def leak(payload: Dict[str, Any]):
    key = ViksaAuth.get_param("svc", "api_key")
    print("using", key)
    raise RuntimeError(f"rejected key {key}")
"""


async def test_vault_values_are_redacted_from_execution_errors_and_output(
    http: httpx.AsyncClient,
) -> None:
    value = "vault-value-9f3c"
    secret = (await http.post("/builder/secret/create", json={"name": "k", "value": value})).json()
    manifest = {
        "agent_name": "Leaky",
        "agent_alias": "leaky",
        "agent_description": "Leaks its key",
        "files": [{"name": "main.py", "content": _LEAKY, "mime_type": "python"}],
        "inputs": [],
        "outputs": [],
        "agent_endpoints": [{"name": "leak", "module": "main", "description": "d", "inputs": []}],
        "auth_methods": {"svc": {"api_key": {"secret_id": secret["id"]}}},
    }
    agent = (await http.post("/builder/agent/create", json=manifest)).json()
    for route in ("/builder/builder/", "/builder/deploy/"):
        assert (await http.post(route, json={"agent_id": agent["id"]})).status_code == 200
    body = {"agent_id": agent["id"], "agent_type": "cloud", "endpoint": "leaky.main.leak"}
    answer = (await http.post("/pulse/executor/execute", json=body)).json()
    assert answer["status"] == "failed"
    assert "rejected key ***" in answer["error"]
    assert "raise RuntimeError" in answer["traceback"]
    assert answer["output"] == "using ***\n"
    stored = await http.get(f"/pulse/executor/execution/{answer['execution_id']}")
    for text in (str(answer), stored.text):
        assert value not in text


# -- verified callers are kept, but never past a change -------------------------------


async def _user_bearer(http: httpx.AsyncClient, local: LocalPlatform) -> dict[str, str]:
    creds = local.credentials
    login = await http.post(
        "/auth/individual/login", json={"email": creds.email, "password": creds.password}
    )
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def test_a_cached_key_stops_working_when_its_project_is_deleted(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    creds = viksa_platform.credentials
    user = await _user_bearer(http, viksa_platform)
    project = (
        await http.post("/project/create", json={"name": "p", "org_id": creds.org_id}, headers=user)
    ).json()
    tenant = {**user, "X-Tenant-Project-Id": project["id"]}
    key = (await http.post("/auth/key/api", json={"name": "k"}, headers=tenant)).json()["key"]
    as_key = {"Authorization": f"Bearer {key}"}
    for _ in range(2):  # the second answer comes from the cache
        assert (await http.get("/builder/agent/list", headers=as_key)).status_code == 200
        assert (await http.get("/builder/agent/list", headers=tenant)).status_code == 200
    assert (await http.delete(f"/project/{project['id']}", headers=user)).status_code == 200
    assert (await http.get("/builder/agent/list", headers=as_key)).status_code == 401
    gone = await http.get("/builder/agent/list", headers=tenant)
    assert gone.status_code == 404


# 3 s: time for the first, cached check even on a loaded machine (at 1 s it came late).
@pytest.mark.parametrize("viksa_platform_config", [PlatformConfig(access_token_ttl=3)])
async def test_a_cached_access_token_still_expires(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    bearer = await _user_bearer(http, viksa_platform)
    assert (await http.get("/auth/me", headers=bearer)).status_code == 200
    for _ in range(80):
        answer = await http.get("/auth/me", headers=bearer)
        if answer.status_code != 200:
            break
        await asyncio.sleep(0.1)
    assert answer.status_code == 401
    assert answer.json()["detail"]["code"] == "token_expired"


# -- the data file ------------------------------------------------------------------


def test_inserts_find_the_next_sequence_number_through_an_index(tmp_path: Path) -> None:
    # A full scan per insert made every write slower as executions piled up.
    store = Store(tmp_path / "s.db")
    plan = store._conn.execute(
        "EXPLAIN QUERY PLAN SELECT COALESCE(MAX(seq), 0) + 1 FROM records WHERE kind = ?",
        ("execution",),
    ).fetchall()
    store.close()
    assert any("records_seq" in str(row[-1]) for row in plan), plan


def test_a_data_file_of_the_first_release_opens_and_gains_expiry(tmp_path: Path) -> None:
    data = tmp_path / "old.db"
    with sqlite3.connect(data) as old:
        old.executescript(
            "CREATE TABLE records (kind TEXT NOT NULL, id TEXT NOT NULL, scope TEXT NOT NULL,"
            " key TEXT, seq INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id));"
            "INSERT INTO records VALUES ('agent', 'a1', 'p', 'alias', 1, '{\"id\": \"a1\"}');"
        )
    old.close()
    store = Store(data)
    assert store.get("agent", "a1") == {"id": "a1"}
    store.insert("idempotency", {"id": "i1"}, scope="i", expires=0.0)
    assert store.purge_expired("idempotency", 1.0) == 1
    store.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_data_file_is_private_even_when_it_existed(tmp_path: Path) -> None:
    data = tmp_path / "state" / "platform.db"
    Store(data).close()
    assert data.parent.stat().st_mode & 0o777 == 0o700
    data.chmod(0o644)
    Store(data).close()
    assert data.stat().st_mode & 0o777 == 0o600


# -- restarts -------------------------------------------------------------------------


def test_runs_cut_by_a_restart_end_as_failed(tmp_path: Path) -> None:
    config = PlatformConfig(data_path=tmp_path / "platform.db")
    first = Platform(config)
    project = first.seed().project_id
    running: dict[str, Any] = {"id": "exe_cut", "status": "running", "error": None}
    waiting: dict[str, Any] = {"id": "exe_wait", "status": "awaiting_approval", "error": None}
    flow: dict[str, Any] = {"id": "wfx_cut", "status": "running", "error": None, "tasks": []}
    records: tuple[tuple[Kind, dict[str, Any]], ...] = (
        ("execution", running),
        ("execution", waiting),
        (WORKFLOW_EXECUTION, flow),
    )
    for kind, doc in records:
        first.store.insert(kind, doc, scope=project)
    first.close()
    second = Platform(config)
    cut = second.store.get("execution", "exe_cut")
    kept = second.store.get("execution", "exe_wait")
    flow_after = second.store.get(WORKFLOW_EXECUTION, "wfx_cut")
    second.close()
    assert cut is not None
    assert (cut["status"], cut["error_kind"]) == ("failed", "interrupted")
    assert cut["finished_at"] is not None
    assert kept is not None
    assert kept["status"] == "awaiting_approval"
    assert flow_after is not None
    assert flow_after["status"] == "failed"
    assert "retry" in flow_after["error"]
