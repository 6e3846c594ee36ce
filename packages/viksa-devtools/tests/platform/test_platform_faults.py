"""Fault injection, Idempotency-Key replays, request ids and state kept across restarts."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools.platform import (
    FaultSpec,
    FaultSpecError,
    LocalPlatform,
    PlatformConfig,
    parse_fault_spec,
)
from viksa_ai.devtools.platform.http._faults import DroppedConnection


def test_fault_specs_parse() -> None:
    spec = parse_fault_spec("status=503; count=2;Retry-After=1.5;path=/builder;method=post")
    assert spec == FaultSpec(status=503, count=2, retry_after=1.5, path="/builder", method="POST")
    assert parse_fault_spec("expire-token").expire_token is True
    assert parse_fault_spec("drop=2;id=x") == FaultSpec(drop=2, id="x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "needs one of"),
        ("status=abc", "must be an integer"),
        ("status=99", "between 100 and 599"),
        ("colour=red", "unknown fault key"),
        ("count", "needs a value"),
    ],
)
def test_bad_fault_specs_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FaultSpecError, match=message):
        parse_fault_spec(text)


@given(st.text(max_size=80))
def test_any_text_parses_or_fails_with_fault_spec_error(text: str) -> None:
    try:
        spec = parse_fault_spec(text)
    except FaultSpecError:
        return
    assert spec.count >= 1


async def test_a_header_fault_fails_the_first_count_requests_then_passes(
    http: httpx.AsyncClient,
) -> None:
    headers = {"X-Viksa-Fault": "status=503;count=2;retry-after=1;id=t1"}
    first = await http.get("/auth/me", headers=headers)
    second = await http.get("/auth/me", headers=headers)
    third = await http.get("/auth/me", headers=headers)
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.headers["retry-after"] == "1"
    assert first.json()["detail"] == "Injected fault: status 503 (X-Viksa-Fault header)."
    rate = await http.get("/auth/me", headers={"X-Viksa-Fault": "status=429;retry-after=2"})
    assert (rate.status_code, rate.headers["retry-after"]) == (429, "2")
    bad = await http.get("/auth/me", headers={"X-Viksa-Fault": "nonsense"})
    assert bad.status_code == 400


async def test_run_faults_apply_to_matching_requests(http: httpx.AsyncClient) -> None:
    armed = await http.post("/_dev/faults", json={"spec": "status=502;count=2;path=/builder/agent"})
    assert armed.status_code == 201
    assert (await http.get("/auth/me")).status_code == 200
    first = await http.get("/builder/agent/list")
    assert first.status_code == 502
    assert first.json()["detail"] == "Injected fault: status 502 (armed by POST /_dev/faults)."
    listed = (await http.get("/_dev/faults")).json()["faults"][0]
    assert (listed["remaining"], listed["source"]) == (1, "armed by POST /_dev/faults")
    assert (await http.get("/builder/agent/list")).status_code == 502
    assert (await http.get("/builder/agent/list")).status_code == 200
    assert (await http.post("/_dev/faults", json={"spec": "bogus=1"})).status_code == 422
    await http.post("/_dev/faults", json={"spec": "status=500"})
    assert (await http.delete("/_dev/faults")).json() == {"faults": []}
    assert (await http.get("/builder/agent/list")).status_code == 200


@pytest.mark.parametrize(
    "viksa_platform_config", [PlatformConfig(faults=("expire-token;count=1",))]
)
async def test_expire_token_fault_spares_requests_without_a_token(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    creds = viksa_platform.credentials
    login = await http.post(
        "/auth/individual/login", json={"email": creds.email, "password": creds.password}
    )
    assert login.status_code == 200
    expired = await http.get("/auth/me")
    assert expired.status_code == 401
    assert expired.json()["detail"]["code"] == "token_expired"
    assert (await http.get("/auth/me")).status_code == 200


@pytest.mark.parametrize("viksa_platform_config", [PlatformConfig(faults=("status=503",))])
async def test_a_fault_armed_at_start_names_its_source_not_the_header(
    http: httpx.AsyncClient,
) -> None:
    answer = await http.get("/auth/me")
    assert answer.status_code == 503
    detail = answer.json()["detail"]
    assert detail == (
        "Injected fault: status 503 (armed at start by viksa dev --fault or PlatformConfig.faults)."
    )
    assert "X-Viksa-Fault" not in detail


async def test_a_dropped_answer_is_stored_and_replayed_for_the_same_idempotency_key(
    http: httpx.AsyncClient, manifest: Callable[..., dict[str, Any]]
) -> None:
    body = manifest("once")
    headers = {"Idempotency-Key": "create-once", "X-Viksa-Fault": "drop=0;id=d1"}
    with pytest.raises(DroppedConnection):
        await http.post("/builder/agent/create", json=body, headers=headers)
    retried = await http.post("/builder/agent/create", json=body, headers=headers)
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"
    listed = (await http.get("/builder/agent/list")).json()
    assert [a["agent_alias"] for a in listed["agents"]] == ["once"]
    assert listed["agents"][0]["id"] == retried.json()["id"]
    other_body = await http.post(
        "/builder/agent/create", json=manifest("twice"), headers={"Idempotency-Key": "create-once"}
    )
    assert other_body.status_code == 422
    assert other_body.json()["detail"]["code"] == "idempotency_key_reused"


async def test_errors_from_faults_are_not_replayed(http: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "k-2", "X-Viksa-Fault": "status=503;id=e1"}
    body = {"name": "o", "value": "v"}
    assert (
        await http.post("/builder/secret/create", json=body, headers=headers)
    ).status_code == 503
    created = await http.post("/builder/secret/create", json=body, headers=headers)
    assert created.status_code == 201
    assert "idempotent-replayed" not in created.headers


async def test_a_stream_is_cut_after_n_events(http: httpx.AsyncClient) -> None:
    headers = {"X-Viksa-Fault": "drop=2;id=s1"}
    with pytest.raises(DroppedConnection):
        await http.post("/chat/indent_finder/stream", json={"message": "hi"}, headers=headers)
    whole = await http.post("/chat/indent_finder/stream", json={"message": "hi"}, headers=headers)
    assert whole.text.endswith("data: [DONE]\n\n")


async def test_request_ids_are_echoed_or_made(http: httpx.AsyncClient) -> None:
    assert (await http.get("/auth/me", headers={"X-Request-Id": "abc-1"})).headers[
        "x-request-id"
    ] == "abc-1"
    made = (await http.get("/auth/me", headers={"X-Request-Id": "bad id\t"})).headers[
        "x-request-id"
    ]
    assert made.startswith("req_")
    assert (await http.get("/nope")).headers["x-request-id"].startswith("req_")
    # Of a repeated header, the first, as the routes read headers.
    repeated = [("X-Request-Id", "first-1"), ("X-Request-Id", "second-2")]
    assert (await http.get("/auth/me", headers=repeated)).headers["x-request-id"] == "first-1"


async def test_state_survives_a_restart_and_seeding_prints_working_credentials(
    tmp_path: Path,
) -> None:
    config = PlatformConfig(data_path=tmp_path / "platform.db")
    first = LocalPlatform.start(config)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=first.app),
        base_url="http://127.0.0.1",
        headers={"Authorization": f"Bearer {first.credentials.api_key}"},
    ) as http:
        secret = (
            await http.post("/builder/secret/create", json={"name": "s", "value": "v"})
        ).json()
    await first.aclose()
    assert (tmp_path / "platform.db").stat().st_mode & 0o777 == 0o600
    second = LocalPlatform.start(config)
    assert second.credentials.project_id == first.credentials.project_id
    assert second.credentials.api_key != first.credentials.api_key
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=second.app), base_url="http://127.0.0.1"
    ) as http:
        for key in (first.credentials.api_key, second.credentials.api_key):
            got = await http.get(
                f"/builder/secret/{secret['id']}", headers={"Authorization": f"Bearer {key}"}
            )
            assert got.json()["value"] == "v"
        login = await http.post(
            "/auth/individual/login",
            json={"email": second.credentials.email, "password": second.credentials.password},
        )
        assert login.status_code == 200
    raw = (tmp_path / "platform.db").read_bytes()
    assert first.credentials.api_key.encode() not in raw
    assert json.dumps(second.credentials.password).encode() not in raw
    await second.aclose()


# -- who may arm run-wide faults, and where they apply (issue 9, item 3) ----------------


async def test_only_the_local_admin_touches_run_wide_faults(
    http: httpx.AsyncClient, another_account: Callable[[str, str], Awaitable[dict[str, str]]]
) -> None:
    worker = (await http.post("/auth/key/worker", json={"name": "w"})).json()["key"]
    eve = await another_account("eve@example.com", "pw-eve-123")
    await http.post("/_dev/faults", json={"spec": "status=503;path=/builder;count=5"})
    outsiders = {
        "worker key": {"Authorization": f"Bearer {worker}"},
        "another account": eve,
        "a wrong fault token": {"X-Viksa-Fault-Token": "vft_guess"},
    }
    for who, headers in outsiders.items():
        spec = {"spec": "status=500;path=/auth/individual/login;count=1000"}
        answers = [
            await http.post("/_dev/faults", json=spec, headers=headers),
            await http.post("/_dev/faults", json={**spec, "all": True}, headers=headers),
            await http.get("/_dev/faults", headers=headers),
            await http.delete("/_dev/faults", headers=headers),
        ]
        assert [a.status_code for a in answers] == [403] * 4, who
        assert answers[0].json()["detail"]["code"] == "not_fault_admin"
    # Nothing an outsider sent was armed or cleared.
    login = {"email": "eve@example.com", "password": "pw-eve-123"}
    assert (await http.post("/auth/individual/login", json=login)).status_code == 200
    [kept] = (await http.get("/_dev/faults")).json()["faults"]
    assert (kept["status"], kept["remaining"]) == (503, 5)
    anonymous = await http.get("/_dev/faults", headers={"Authorization": ""})
    assert anonymous.status_code == 401


async def test_a_fault_armed_by_the_admin_stays_in_its_project_unless_it_asks_for_all(
    http: httpx.AsyncClient,
    viksa_platform: LocalPlatform,
    another_account: Callable[[str, str], Awaitable[dict[str, str]]],
) -> None:
    eve = await another_account("eve@example.com", "pw-eve-123")
    armed = await http.post("/_dev/faults", json={"spec": "status=503;path=/auth/me;count=3"})
    assert armed.status_code == 201
    assert armed.json()["faults"][0]["project_id"] == viksa_platform.credentials.project_id
    # Another account's requests (and requests without credentials) never meet it.
    assert (await http.get("/auth/me", headers=eve)).status_code == 200
    login = {"email": "eve@example.com", "password": "pw-eve-123"}
    assert (await http.post("/auth/individual/login", json=login)).status_code == 200
    assert (await http.get("/auth/me")).status_code == 503
    # Asked for all, it reaches every account.
    everyone = {"spec": "status=502;path=/auth/me", "all": True}
    assert (await http.post("/_dev/faults", json=everyone)).status_code == 201
    assert (await http.get("/auth/me", headers=eve)).status_code == 502
    # Listing and clearing see the caller's project only, unless asked for all.
    mine = (await http.get("/_dev/faults")).json()["faults"]
    assert [(f["status"], f["remaining"]) for f in mine] == [(503, 2)]
    assert len((await http.get("/_dev/faults", params={"all": "true"})).json()["faults"]) == 1
    assert (await http.delete("/_dev/faults")).json() == {"faults": []}
    assert (await http.get("/auth/me")).status_code == 200


async def test_a_projects_fault_meets_the_request_acting_in_it_whatever_follows(
    http: httpx.AsyncClient,
    viksa_platform: LocalPlatform,
    another_account: Callable[[str, str], Awaitable[dict[str, str]]],
) -> None:
    # The route acts for the first of repeated Authorization headers: so must the fault.
    eve = (await another_account("eve@example.com", "pw-eve-123"))["Authorization"]
    ours = f"Bearer {viksa_platform.credentials.api_key}"
    armed = await http.post("/_dev/faults", json={"spec": "status=503;path=/auth/me"})
    assert armed.status_code == 201
    as_eve = await http.get("/auth/me", headers=[("Authorization", eve), ("Authorization", ours)])
    assert as_eve.status_code == 200, as_eve.text
    as_us = await http.get("/auth/me", headers=[("Authorization", ours), ("Authorization", eve)])
    assert as_us.status_code == 503


async def test_the_fault_token_of_the_banner_arms_faults(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    token = {"X-Viksa-Fault-Token": viksa_platform.platform.fault_token, "Authorization": ""}
    # Without a project to scope to, the token holder must ask for all.
    scoped = await http.post("/_dev/faults", json={"spec": "status=503"}, headers=token)
    assert scoped.status_code == 422
    assert scoped.json()["detail"][0]["loc"] == ["body", "all"]
    armed = await http.post(
        "/_dev/faults", json={"spec": "status=504;path=/auth/me", "all": True}, headers=token
    )
    assert armed.status_code == 201
    assert (await http.get("/auth/me")).status_code == 504
    project = {**token, "X-Tenant-Project-Id": viksa_platform.credentials.project_id}
    assert (await http.get("/_dev/faults", headers=project)).json() == {"faults": []}
    assert (await http.delete("/_dev/faults", params={"all": "1"}, headers=token)).json() == {
        "faults": []
    }


async def test_an_idempotency_key_replays_no_fault_answer_to_a_stranger(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    # The fault token is no bearer token: with a key, every caller shared one owner and a
    # stranger got the admin's answer (every project's faults) replayed without a check.
    body = {"spec": "status=503;path=/nowhere", "all": True}
    key = {"Idempotency-Key": "arm-1"}
    token = {"X-Viksa-Fault-Token": viksa_platform.platform.fault_token, "Authorization": ""}
    armed = await http.post("/_dev/faults", json=body, headers={**token, **key})
    assert armed.status_code == 201, armed.text
    stranger = await http.post("/_dev/faults", json=body, headers={"Authorization": "", **key})
    assert stranger.status_code == 401
    assert "/nowhere" not in stranger.text


async def test_an_idempotency_key_replays_no_fault_answer_under_a_root_path(
    viksa_platform: LocalPlatform,
) -> None:
    # Served under a root path (create_app mounted, or uvicorn --root-path), the ASGI
    # path holds the prefix the routes strip: /_dev/ must still be told by its route path.
    body = {"spec": "status=503;path=/nowhere", "all": True}
    key = {"Idempotency-Key": "arm-1"}
    token = {"X-Viksa-Fault-Token": viksa_platform.platform.fault_token}
    transport = httpx.ASGITransport(app=viksa_platform.app, root_path="/viksa")
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        armed = await http.post("/viksa/_dev/faults", json=body, headers={**token, **key})
        assert armed.status_code == 201, armed.text
        stranger = await http.post("/viksa/_dev/faults", json=body, headers=key)
    assert stranger.status_code == 401
    assert "/nowhere" not in stranger.text


@pytest.mark.parametrize(
    "spec", ["latency=3600", "latency=30.5", "count=1000000", "count=1001", "drop=1000000"]
)
async def test_fault_bounds_keep_a_fault_from_tying_the_platform_up(
    http: httpx.AsyncClient, spec: str
) -> None:
    answer = await http.post("/_dev/faults", json={"spec": spec})
    assert answer.status_code == 422
    assert "between" in answer.json()["detail"][0]["msg"]
    assert (await http.get("/auth/me", headers={"X-Viksa-Fault": spec})).status_code == 400
