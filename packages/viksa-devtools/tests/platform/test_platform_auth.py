"""Auth, sessions, keys, orgs and projects of the local platform."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, PlatformConfig
from viksa_ai.devtools.platform.services._security import verify_password


async def _login(http: httpx.AsyncClient, local: LocalPlatform) -> dict[str, Any]:
    creds = local.credentials
    answer = await http.post(
        "/auth/individual/login", json={"email": creds.email, "password": creds.password}
    )
    assert answer.status_code == 200, answer.text
    tokens: dict[str, Any] = answer.json()
    return tokens


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_answers_a_token_response_and_me_the_user(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    tokens = await _login(http, viksa_platform)
    creds = viksa_platform.credentials
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 900
    assert (tokens["org_id"], tokens["project_id"]) == (creds.org_id, creds.project_id)
    me = await http.get("/auth/me", headers=_bearer(tokens["access_token"]))
    assert me.status_code == 200
    user = me.json()
    assert (user["email"], user["account_id"]) == (creds.email, creds.account_id)
    assert "password_hash" not in user


async def test_wrong_password_and_missing_or_bad_tokens_are_401_with_a_challenge(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    bad = await http.post(
        "/auth/individual/login",
        json={"email": viksa_platform.credentials.email, "password": "wrong"},
    )
    assert bad.status_code == 401
    assert bad.json()["detail"]["code"] == "invalid_credentials"
    del http.headers["Authorization"]
    missing = await http.get("/auth/me")
    forged = await http.get("/auth/me", headers=_bearer("a.b.c"))
    unknown_key = await http.get("/auth/me", headers=_bearer("vk_nope"))
    for answer in (missing, forged, unknown_key):
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert isinstance(answer.json()["detail"]["message"], str)


async def test_an_unknown_email_costs_a_password_check_like_a_wrong_password(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Skipping scrypt for unknown emails would let response times enumerate accounts.
    checked: list[str] = []

    def spy(password: str, stored: str) -> bool:
        checked.append(password)
        return verify_password(password, stored)

    monkeypatch.setattr("viksa_ai.devtools.platform.services._accounts.verify_password", spy)
    answer = await http.post(
        "/auth/individual/login", json={"email": "nobody@example.com", "password": "guess-1"}
    )
    assert answer.status_code == 401
    assert answer.json()["detail"]["code"] == "invalid_credentials"
    assert checked == ["guess-1"]


@pytest.mark.parametrize("token", [b"a.b.\xe9", b"\xe9.b.c", b"\xff"])
async def test_a_non_ascii_bearer_token_is_401_not_a_crash(
    http: httpx.AsyncClient, token: bytes
) -> None:
    # HTTP headers may carry any latin-1 byte; only ASCII can be a JWT or a key.
    answer = await http.get("/auth/me", headers={b"Authorization": b"Bearer " + token})
    assert answer.status_code == 401
    assert answer.json()["detail"]["code"] == "invalid_token"


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("/auth/refresh", b'{"refresh_token": "vrt_\\ud800"}', "refresh_token"),
        ("/auth/key/validate/api", b'{"api_key": "vk_\\ud800"}', "api_key"),
        (
            "/builder/secret/create",
            b'{"name": "s", "value": "v", "passphrase": "\\ud800"}',
            "passphrase",
        ),
    ],
)
async def test_lone_surrogates_in_credentials_are_422_naming_the_field(
    http: httpx.AsyncClient, route: str, body: bytes, field: str
) -> None:
    # JSON may escape a lone surrogate, which UTF-8 cannot encode: refused at the edge.
    answer = await http.post(route, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    [item] = answer.json()["detail"]
    assert item["loc"] == ["body", field]
    assert item["type"] == "string_unicode"


async def test_login_body_is_validated_with_fastapi_items(http: httpx.AsyncClient) -> None:
    answer = await http.post("/auth/individual/login", json={"email": "x@y.z"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "password"]


async def test_refresh_rotates_and_a_reused_refresh_token_ends_the_session(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    first = await _login(http, viksa_platform)
    second = (
        await http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await http.get("/auth/me", headers=_bearer(second["access_token"]))).status_code == 200
    reused = await http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["detail"]["code"] == "refresh_token_reused"
    after = await http.get("/auth/me", headers=_bearer(second["access_token"]))
    assert after.status_code == 401
    assert after.json()["detail"]["code"] == "session_ended"


@pytest.mark.parametrize("viksa_platform_config", [PlatformConfig(access_token_ttl=0)])
async def test_an_expired_access_token_is_401_token_expired(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    tokens = await _login(http, viksa_platform)
    answer = await http.get("/auth/me", headers=_bearer(tokens["access_token"]))
    assert answer.status_code == 401
    assert answer.json()["detail"]["code"] == "token_expired"


async def test_logout_sessions_and_logout_all(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    one = await _login(http, viksa_platform)
    two = await _login(http, viksa_platform)
    three = await _login(http, viksa_platform)
    listed = (await http.get("/auth/sessions", headers=_bearer(one["access_token"]))).json()
    assert listed["total"] == 3
    assert [s["current"] for s in listed["sessions"]].count(True) == 1
    assert all("refresh_hash" not in s for s in listed["sessions"])
    out = await http.post("/auth/logout", headers=_bearer(one["access_token"]))
    assert out.status_code == 200
    assert (await http.get("/auth/me", headers=_bearer(one["access_token"]))).status_code == 401
    assert (await http.get("/auth/me", headers=_bearer(two["access_token"]))).status_code == 200
    revoked = await http.delete("/auth/sessions", headers=_bearer(two["access_token"]))
    assert revoked.json()["sessions_ended"] == 1
    assert (await http.get("/auth/me", headers=_bearer(three["access_token"]))).status_code == 401
    await http.post("/auth/logout-all", headers=_bearer(two["access_token"]))
    assert (await http.get("/auth/me", headers=_bearer(two["access_token"]))).status_code == 401


async def test_session_routes_need_a_user_session_not_a_key(http: httpx.AsyncClient) -> None:
    answer = await http.get("/auth/sessions")
    assert answer.status_code == 403
    assert answer.json()["detail"]["code"] == "user_session_required"


async def test_api_keys_are_shown_once_validated_revoked_and_deleted(
    http: httpx.AsyncClient,
) -> None:
    created = await http.post("/auth/key/api", json={"name": "ci", "description": "for CI"})
    assert created.status_code == 201
    key = created.json()
    secret = key["key"]
    assert secret.startswith("vk_")
    listed = (await http.get("/auth/key/api")).json()
    assert key["id"] in [k["id"] for k in listed["keys"]]
    assert secret not in str(listed)
    valid = (await http.post("/auth/key/validate/api", json={"api_key": secret})).json()
    assert valid["valid"] is True
    assert valid["project_id"] == key["project_id"]
    assert (await http.get("/auth/me", headers=_bearer(secret))).status_code == 200
    assert (await http.post(f"/auth/key/api/{key['id']}/revoke")).json()["revoked"] is True
    assert (await http.get("/auth/me", headers=_bearer(secret))).status_code == 401
    invalid = (await http.post("/auth/key/validate/api", json={"api_key": secret})).json()
    assert (invalid["valid"], invalid["scopes"]) == (False, [])
    assert (await http.delete(f"/auth/key/api/{key['id']}")).status_code == 200
    assert (await http.delete(f"/auth/key/api/{key['id']}")).status_code == 404


async def test_worker_keys_are_listed_apart(http: httpx.AsyncClient) -> None:
    created = (await http.post("/auth/key/worker", json={"name": "w"})).json()
    assert created["key"].startswith("vkw_")
    workers = (await http.get("/auth/key/worker")).json()
    apis = (await http.get("/auth/key/api")).json()
    assert [k["id"] for k in workers["keys"]] == [created["id"]]
    assert created["id"] not in [k["id"] for k in apis["keys"]]


async def test_orgs_and_projects_crud_and_switching(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    tokens = await _login(http, viksa_platform)
    user = _bearer(tokens["access_token"])
    org = (await http.post("/org/create", json={"name": "Acme"}, headers=user)).json()
    project = (
        await http.post("/project/create", json={"name": "P", "org_id": org["id"]}, headers=user)
    ).json()
    assert [
        p["id"] for p in (await http.get(f"/project/list/{org['id']}", headers=user)).json()
    ] == [project["id"]]
    renamed = await http.put(f"/org/{org['id']}", json={"name": "Acme 2", "id": "x"}, headers=user)
    assert (renamed.json()["name"], renamed.json()["id"]) == ("Acme 2", org["id"])
    switched = (
        await http.post("/auth/switch-org", json={"org_id": org["id"]}, headers=user)
    ).json()
    assert (switched["org_id"], switched["project_id"]) == (org["id"], project["id"])
    me = (await http.get("/auth/me", headers=_bearer(switched["access_token"]))).json()
    assert me["project_id"] == project["id"]
    back = await http.post(
        "/auth/switch-project",
        json={"project_id": viksa_platform.credentials.project_id},
        headers=_bearer(switched["access_token"]),
    )
    assert back.json()["org_id"] == viksa_platform.credentials.org_id
    assert (await http.delete(f"/org/{org['id']}", headers=user)).status_code == 200
    assert (await http.get(f"/project/{project['id']}", headers=user)).status_code == 404


async def test_a_foreign_tenant_is_403(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    other = viksa_platform.platform.accounts.create_user("eve@example.com", "pw-eve-123")
    other_org = viksa_platform.platform.accounts.first_org(other["account_id"])
    assert other_org is not None
    other_project = viksa_platform.platform.accounts.first_project(other_org["id"])
    assert other_project is not None
    foreign = await http.get(
        "/builder/agent/list", headers={"X-Tenant-Project-Id": other_project["id"]}
    )
    assert foreign.status_code == 403
    assert foreign.json()["detail"]["code"] == "foreign_tenant"
    assert (await http.get(f"/org/{other_org['id']}")).status_code == 403
    assert (await http.get("/org/org_missing")).status_code == 404
    tokens = await _login(http, viksa_platform)
    switch = await http.post(
        "/auth/switch-org",
        json={"org_id": other_org["id"]},
        headers=_bearer(tokens["access_token"]),
    )
    assert switch.status_code == 403


async def test_a_key_speaks_for_its_own_project_only(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    tokens = await _login(http, viksa_platform)
    user = _bearer(tokens["access_token"])
    second = (await http.post("/project/create", json={"name": "second"}, headers=user)).json()
    answer = await http.get("/builder/agent/list", headers={"X-Tenant-Project-Id": second["id"]})
    assert answer.status_code == 403
    as_user = await http.get(
        "/builder/agent/list", headers={**user, "X-Tenant-Project-Id": second["id"]}
    )
    assert as_user.status_code == 200


async def test_usage_counts_the_project(http: httpx.AsyncClient) -> None:
    usage = (await http.get("/auth/usage")).json()
    assert usage["plan"] == "local-dev"
    assert usage["usage"]["agents"] == 0


async def _key_of_a_second_project(
    http: httpx.AsyncClient, user: dict[str, str], kind: str = "api"
) -> tuple[dict[str, Any], str]:
    """A second project of the seeded account and a new key of ``kind`` for it."""
    project = (await http.post("/project/create", json={"name": "second"}, headers=user)).json()
    created = await http.post(
        f"/auth/key/{kind}",
        json={"name": "k2"},
        headers={**user, "X-Tenant-Project-Id": project["id"]},
    )
    assert created.status_code == 201, created.text
    return project, created.json()["key"]


async def test_a_key_cannot_touch_another_projects_keys_or_the_project(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    user = _bearer((await _login(http, viksa_platform))["access_token"])
    project, key = await _key_of_a_second_project(http, user)
    key_id = (await http.post("/auth/key/validate/api", json={"api_key": key})).json()["key_id"]
    # The seeded key speaks for the first project: nothing of the second is its business.
    refused = [
        await http.post(f"/auth/key/api/{key_id}/revoke"),
        await http.delete(f"/auth/key/api/{key_id}"),
        await http.get(f"/project/{project['id']}"),
        await http.put(f"/project/{project['id']}", json={"name": "taken"}),
        await http.delete(f"/project/{project['id']}"),
    ]
    for answer in refused:
        assert answer.status_code == 403, answer.text
        assert answer.json()["detail"]["code"] == "foreign_tenant"
        assert project["id"] in answer.json()["detail"]["message"]
    assert (await http.get("/auth/me", headers=_bearer(key))).status_code == 200
    assert (await http.get(f"/project/{project['id']}", headers=user)).json()["name"] == "second"
    # Its own project it may rename, and its own project's keys it may manage.
    own = viksa_platform.credentials.project_id
    renamed = await http.put(f"/project/{own}", json={"name": "mine"})
    assert (renamed.status_code, renamed.json()["name"]) == (200, "mine")
    mine = (await http.post("/auth/key/api", json={"name": "k1"})).json()
    assert (await http.post(f"/auth/key/api/{mine['id']}/revoke")).status_code == 200
    # The second project's key reaches its project, and the user everything.
    assert (await http.get(f"/project/{project['id']}", headers=_bearer(key))).status_code == 200
    assert (await http.delete(f"/auth/key/api/{key_id}", headers=user)).status_code == 200


async def test_a_key_reads_its_org_but_only_a_user_token_changes_orgs_and_makes_projects(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    user = _bearer((await _login(http, viksa_platform))["access_token"])
    creds = viksa_platform.credentials
    other_org = (await http.post("/org/create", json={"name": "Other"}, headers=user)).json()
    second, _ = await _key_of_a_second_project(http, user)
    assert [o["id"] for o in (await http.get("/org/list")).json()] == [creds.org_id]
    assert len((await http.get("/org/list", headers=user)).json()) == 2
    assert (await http.get(f"/org/{creds.org_id}")).status_code == 200
    listed = (await http.get(f"/project/list/{creds.org_id}")).json()
    assert [p["id"] for p in listed] == [creds.project_id]
    assert second["id"] in [
        p["id"] for p in (await http.get(f"/project/list/{creds.org_id}", headers=user)).json()
    ]
    foreign = await http.get(f"/org/{other_org['id']}")
    assert (foreign.status_code, foreign.json()["detail"]["code"]) == (403, "foreign_tenant")
    for answer in (
        await http.post("/org/create", json={"name": "x"}),
        await http.put(f"/org/{creds.org_id}", json={"name": "x"}),
        await http.delete(f"/org/{creds.org_id}"),
        await http.post("/project/create", json={"name": "x"}),
    ):
        assert answer.status_code == 403, answer.text
        detail = answer.json()["detail"]
        assert detail["code"] == "credential_not_allowed"
        assert "needs a user token" in detail["message"]
        assert "an API key cannot" in detail["message"]
    assert (await http.get(f"/org/{creds.org_id}", headers=user)).json()["name"] == "Default org"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/auth/key/api", 403),
        ("POST", "/auth/key/worker", 403),
        ("GET", "/auth/key/api", 403),
        ("GET", "/auth/key/worker", 403),
        ("POST", "/auth/key/api/{key_id}/revoke", 403),
        ("DELETE", "/auth/key/api/{key_id}", 403),
        ("POST", "/org/create", 403),
        ("PUT", "/org/{org_id}", 403),
        ("POST", "/project/create", 403),
        ("PUT", "/project/{project_id}", 403),
        ("DELETE", "/project/{project_id}", 403),
        ("GET", "/org/{org_id}", 200),
        ("GET", "/project/{project_id}", 200),
        ("GET", "/project/list/{org_id}", 200),
        ("GET", "/auth/me", 200),
    ],
)
async def test_a_worker_key_reads_its_tenant_and_mints_or_changes_nothing(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform, method: str, path: str, status: int
) -> None:
    worker = (await http.post("/auth/key/worker", json={"name": "w"})).json()
    creds = viksa_platform.credentials
    url = path.format(key_id=worker["id"], org_id=creds.org_id, project_id=creds.project_id)
    body = {"name": "x"} if method in ("POST", "PUT") else None
    answer = await http.request(method, url, json=body, headers=_bearer(worker["key"]))
    assert answer.status_code == status, answer.text
    if status == 403:
        detail = answer.json()["detail"]
        assert detail["code"] == "credential_not_allowed"
        assert "a worker key cannot" in detail["message"]
    # The worker key still works: nothing it was refused was done.
    assert (await http.get("/auth/me", headers=_bearer(worker["key"]))).status_code == 200


async def test_a_foreign_org_header_with_a_key_is_refused_naming_the_org(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform
) -> None:
    user = _bearer((await _login(http, viksa_platform))["access_token"])
    other_org = (await http.post("/org/create", json={"name": "Other"}, headers=user)).json()
    answer = await http.get("/builder/agent/list", headers={"X-Tenant-Org-Id": other_org["id"]})
    assert answer.status_code == 403
    detail = answer.json()["detail"]
    assert detail["code"] == "foreign_tenant"
    assert f"belongs to org {viksa_platform.credentials.org_id!r}" in detail["message"]
    assert f"not {other_org['id']!r}" in detail["message"]


@pytest.mark.parametrize("route", ["/auth/switch-org", "/auth/switch-project"])
async def test_a_refresh_token_rotated_by_a_switch_is_reuse_when_presented_again(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform, route: str
) -> None:
    first = await _login(http, viksa_platform)
    creds = viksa_platform.credentials
    body = {"org_id": creds.org_id} if route.endswith("org") else {"project_id": creds.project_id}
    switched = await http.post(route, json=body, headers=_bearer(first["access_token"]))
    assert switched.status_code == 200, switched.text
    assert switched.json()["refresh_token"] != first["refresh_token"]
    reused = await http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert (reused.status_code, reused.json()["detail"]["code"]) == (401, "refresh_token_reused")
    after = await http.get("/auth/me", headers=_bearer(switched.json()["access_token"]))
    assert (after.status_code, after.json()["detail"]["code"]) == (401, "session_ended")
    newer = await http.post(
        "/auth/refresh", json={"refresh_token": switched.json()["refresh_token"]}
    )
    assert newer.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("POST", "/org/create", {"name": 5}, ["body", "name"]),
        ("PUT", "/org/{org_id}", {"name": ["x"]}, ["body", "name"]),
        ("POST", "/project/create", {"name": "p", "org_id": 7}, ["body", "org_id"]),
        ("PUT", "/project/{project_id}", {"name": 5}, ["body", "name"]),
    ],
)
async def test_org_and_project_bodies_of_the_wrong_type_are_422_items(
    http: httpx.AsyncClient,
    viksa_platform: LocalPlatform,
    method: str,
    path: str,
    body: dict[str, Any],
    loc: list[str],
) -> None:
    user = _bearer((await _login(http, viksa_platform))["access_token"])
    creds = viksa_platform.credentials
    url = path.format(org_id=creds.org_id, project_id=creds.project_id)
    answer = await http.request(method, url, json=body, headers=user)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == [
        {"loc": loc, "msg": "Input should be a valid string", "type": "string_type"}
    ]
    orgs = (await http.get("/org/list", headers=user)).json()
    assert [o["name"] for o in orgs] == ["Default org"]
