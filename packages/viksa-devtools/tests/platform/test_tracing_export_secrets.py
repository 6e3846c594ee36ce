"""Red team: what ``viksa dev --otlp-endpoint`` exports holds no secret and no input.

A real ``viksa dev`` exports to an OTLP/HTTP receiver on 127.0.0.1 that the test starts;
the test logs in with a password, stores a vault value, binds it to an agent, calls the
agent with an input and a query value, invokes a webhook with its token, refreshes a
token and sends a hostile tracestate, then greps every exported byte (and what the
server wrote on stderr) for each of those values.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import DEFAULT_EMAIL

PASSWORD = "pw-Hunter2-not-in-spans"
VAULT_VALUE = "vault-value-not-in-spans"
INPUT_TEXT = "input-text-not-in-spans"
QUERY_VALUE = "query-value-not-in-spans"
HOSTILE_STATE = "evil=\u00e9\u00e9,other=ok"
CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"

Deploy = Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[dict[str, Any]]]
ServedClient = Callable[
    [Mapping[str, str]], contextlib.AbstractAsyncContextManager[httpx.AsyncClient]
]


async def _use_the_platform(
    http: httpx.AsyncClient, manifest: Callable[..., dict[str, Any]], deploy: Deploy
) -> list[str]:
    """Every secret the calls below used (tokens the platform gave out included)."""
    login = await http.post(
        "/auth/individual/login", json={"email": DEFAULT_EMAIL, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    tokens = login.json()
    secret = await http.post("/builder/secret/create", json={"name": "svc", "value": VAULT_VALUE})
    assert secret.status_code == 201, secret.text
    bound = {"svc": {"api_key": {"secret_id": secret.json()["id"]}}}
    agent = await deploy(http, manifest(auth_methods=bound))
    traced = {
        b"traceparent": f"00-{CALLER_TRACE}-b7ad6b7169203331-01".encode(),
        b"tracestate": HOSTILE_STATE.encode("latin-1"),  # obs-text: HTTP lets it through
    }
    run = await http.post(
        "/pulse/executor/execute",
        params={"api_key": QUERY_VALUE},
        json={
            "agent_id": agent["id"],
            "agent_type": "cloud",
            "endpoint": "echo.main.echo",
            "inputs": {"text": INPUT_TEXT},
        },
        headers=traced,
    )
    assert run.status_code == 200, run.text
    assert run.json()["response"]["key"] == VAULT_VALUE  # the agent got the value
    trigger = await http.post(
        "/chat/trigger",
        json={"name": "hook", "agent_id": agent["id"], "endpoint": "echo.main.echo"},
    )
    assert trigger.status_code == 201, trigger.text
    webhook_token = trigger.json()["webhook_token"]
    invoked = await http.post(
        f"/chat/webhook/trigger/{trigger.json()['id']}",
        json={"text": INPUT_TEXT},
        headers={"Authorization": f"Bearer {webhook_token}"},
    )
    assert invoked.status_code == 200, invoked.text
    refreshed = await http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    return [
        PASSWORD,
        VAULT_VALUE,
        INPUT_TEXT,
        QUERY_VALUE,
        webhook_token,
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed.json()["access_token"],
    ]


@pytest.mark.timeout(300)
async def test_what_viksa_dev_exports_holds_no_secret_input_or_id(
    otlp_collector: Callable[..., tuple[str, list[Any]]],
    tmp_path: Path,
    serve_data: Any,
    served_client: ServedClient,
    manifest: Callable[..., dict[str, Any]],
    deploy_through: Deploy,
) -> None:
    url, received = otlp_collector()
    args = ["--password", PASSWORD, "--otlp-endpoint", url, "--no-sandbox"]
    data = tmp_path / "state.db"
    with serve_data(data, args=args, stderr=subprocess.PIPE) as (process, exports):
        async with served_client(exports) as http:
            secrets = await _use_the_platform(http, manifest, deploy_through)
        process.send_signal(signal.SIGINT)  # Ctrl-C: the exporter flushes at exit
        _, stderr = process.communicate(timeout=120)
    assert received, "nothing was exported"
    exported = b"".join(body for _, _, body in received)
    assert b"POST /pulse/executor/execute" in exported  # the route span is there
    # The caller's trace continued (ids travel as bytes in OTLP protobuf).
    assert bytes.fromhex(CALLER_TRACE) in exported
    for secret in [*secrets, exports["VIKSA_API_KEY"], exports["VIKSA_PROJECT_ID"]]:
        assert secret.encode() not in exported, f"{secret[:6]}... was exported"
        assert secret not in stderr
    # A tracestate that is not W3C (non-ASCII values) is dropped, not logged.
    assert "\u00e9" not in stderr
    assert HOSTILE_STATE.encode() not in exported
    assert b"evil" not in exported


PROBE = Path(__file__).parent.parent / "fixtures" / "runner_probe"
TOKEN = "probe-token-not-in-spans"


@pytest.mark.parametrize("endpoint", ["needs_auth", "leaky", "boom"])
def test_what_viksa_run_exports_holds_no_secret_or_input(
    otlp_collector: Callable[..., tuple[str, list[Any]]], tmp_path: Path, endpoint: str
) -> None:
    # leaky prints the token and fails quoting it; boom fails quoting its input.
    url, received = otlp_collector()
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"probe_auth.token={TOKEN}\n")
    envelope = {
        "run_id": "r",
        "metadata": {"api_key": QUERY_VALUE},
        "trace_context": {"traceparent": f"00-{CALLER_TRACE}-b7ad6b7169203331-01"},
    }
    command = [sys.executable, "-m", "viksa_ai.devtools.cli", "run", str(PROBE), endpoint]
    done = subprocess.run(
        [
            *command,
            *("--secrets-file", str(secrets), "--no-sandbox", "--format", "json"),
            *("--otlp-endpoint", url, "--envelope", json.dumps(envelope)),
            *(["--input", f"note={INPUT_TEXT}"] if endpoint == "boom" else []),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 5), done.stderr
    exported = b"".join(body for _, _, body in received)
    assert f"viksa.worker.call {endpoint}".encode() in exported
    assert bytes.fromhex(CALLER_TRACE) in exported  # the envelope's trace continued
    for secret in (TOKEN, INPUT_TEXT, QUERY_VALUE, "example.invalid"):
        assert secret.encode() not in exported, secret
