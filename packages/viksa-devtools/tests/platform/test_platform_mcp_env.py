"""An MCP server's ``env`` values (API keys, typically) never come back in an answer.

Answers show each name with ``***``; an update sending ``***`` keeps the stored value;
only :meth:`McpServers.environment` (for whatever runs the server) gives the values.
How they are kept in the data file: ``test_platform_at_rest.py``.
"""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform
from viksa_ai.devtools.platform.services._mcp_servers import ENV_MASK
from viksa_ai.devtools.platform.services._records import Caller

KEY = "MCP-ENV-VALUE-5d2a91"
OTHER = "MCP-ENV-OTHER-77b0c3"
SERVERS = "/builder/mcp/servers"


def _caller(platform: LocalPlatform) -> Caller:
    credentials = platform.credentials
    return Caller(credentials.account_id, credentials.project_id)


async def test_no_answer_about_a_server_shows_its_env_values(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"name": "files", "command": "npx", "env": {"API_KEY": KEY, "REGION": "eu"}}
    with caplog.at_level(logging.DEBUG):
        created = await http.post(SERVERS, json=body)
        assert created.status_code == 201, created.text
        base = f"{SERVERS}/{created.json()['id']}"
        answers = [
            created,
            await http.get(base),
            await http.get(SERVERS),
            await http.patch(base, json={"command": "uvx"}),
            await http.post(f"{base}/start"),
            await http.post(f"{base}/stop"),
        ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert KEY not in answer.text
    assert created.json()["env"] == {"API_KEY": ENV_MASK, "REGION": ENV_MASK}
    assert answers[2].json()["servers"][0]["env"] == {"API_KEY": ENV_MASK, "REGION": ENV_MASK}
    assert KEY not in caplog.text
    # Whatever runs the server gets the values.
    server_id = created.json()["id"]
    env = viksa_platform.platform.mcp_servers.environment(_caller(viksa_platform), server_id)
    assert env == {"API_KEY": KEY, "REGION": "eu"}


async def test_an_update_keeps_a_value_sent_back_masked(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    body = {"name": "files", "env": {"API_KEY": KEY, "OLD": "x"}}
    server = (await http.post(SERVERS, json=body)).json()
    base = f"{SERVERS}/{server['id']}"
    # A client that read the server and sends it back, with one new variable.
    sent_back = {**server["env"], "TOKEN": OTHER}
    del sent_back["OLD"]
    updated = await http.patch(base, json={"env": sent_back})
    assert updated.status_code == 200, updated.text
    assert updated.json()["env"] == {"API_KEY": ENV_MASK, "TOKEN": ENV_MASK}
    mcp = viksa_platform.platform.mcp_servers
    caller = _caller(viksa_platform)
    assert mcp.environment(caller, server["id"]) == {"API_KEY": KEY, "TOKEN": OTHER}
    # A name left out of a patch keeps nothing but what is sent; null clears the env.
    assert (await http.patch(base, json={"command": "x"})).json()["env"] == updated.json()["env"]
    assert (await http.patch(base, json={"env": None})).json()["env"] is None
    assert mcp.environment(caller, server["id"]) == {}


@pytest.mark.parametrize(
    ("env", "loc"),
    [
        ([f"API_KEY={KEY}"], ["body", "env"]),
        (f"API_KEY={KEY}", ["body", "env"]),
        ({"API_KEY": [KEY]}, ["body", "env", "API_KEY"]),
        ({"API_KEY": {"v": KEY}}, ["body", "env", "API_KEY"]),
        ({"": KEY}, ["body", "env"]),
        ({"NEW": ENV_MASK}, ["body", "env", "NEW"]),
    ],
)
async def test_an_env_of_another_shape_is_refused_without_repeating_it(
    http: httpx.AsyncClient, env: object, loc: list[str]
) -> None:
    refused = await http.post(SERVERS, json={"name": "files", "env": env})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == loc
    assert KEY not in refused.text
    server = (await http.post(SERVERS, json={"name": "other", "env": {"A": "b"}})).json()
    patched = await http.patch(f"{SERVERS}/{server['id']}", json={"env": env})
    assert patched.status_code == 422, patched.text
    assert KEY not in patched.text
    assert (await http.get(f"{SERVERS}/{server['id']}")).json()["env"] == {"A": ENV_MASK}


async def test_a_retried_create_replays_an_answer_without_the_values(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    body = {"name": "files", "env": {"API_KEY": KEY}}
    headers = {"Idempotency-Key": "mcp-create-1"}
    first = await http.post(SERVERS, json=body, headers=headers)
    again = await http.post(SERVERS, json=body, headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert KEY not in again.text
    # The kept answer is stored as the client got it: masked.
    [kept] = viksa_platform.platform.store.query("idempotency")[0]
    assert base64.b64decode(kept["body"]) == first.content


async def test_headers_are_kept_and_answered_as_env_is(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    # An http server's headers carry its credentials (Authorization) as env does.
    body = {"name": "api", "transport": "http", "headers": {"Authorization": f"Bearer {KEY}"}}
    created = await http.post(SERVERS, json=body)
    assert created.status_code == 201, created.text
    base = f"{SERVERS}/{created.json()['id']}"
    sent_back = {**created.json()["headers"], "X-Team": OTHER}
    answers = [
        created,
        await http.get(base),
        await http.get(SERVERS),
        await http.patch(base, json={"headers": sent_back}),
    ]
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text
        assert KEY not in answer.text
        assert OTHER not in answer.text
    assert answers[3].json()["headers"] == {"Authorization": ENV_MASK, "X-Team": ENV_MASK}
    mcp = viksa_platform.platform.mcp_servers
    wanted = {"Authorization": f"Bearer {KEY}", "X-Team": OTHER}
    assert mcp.request_headers(_caller(viksa_platform), created.json()["id"]) == wanted
    refused = await http.patch(base, json={"headers": {"Authorization": [KEY]}})
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", "headers", "Authorization"]
    assert KEY not in refused.text
