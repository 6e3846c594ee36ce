"""Builder: agents, revisions, build and deploy, vault secrets, MCP servers, mappings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

Manifest = dict[str, Any]
MakeManifest = Callable[..., Manifest]


async def _create(http: httpx.AsyncClient, body: Manifest) -> Manifest:
    answer = await http.post("/builder/agent/create", json=body)
    assert answer.status_code == 201, answer.text
    created: Manifest = answer.json()
    return created


async def test_create_fills_endpoint_paths_and_lifecycle_fields(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    inputs = [{"name": "text", "type": "String"}, {"name": "seconds", "type": "FLOAT"}]
    agent = await _create(http, manifest("flights", inputs=inputs))
    assert agent["agent_endpoints"][0]["endpoint"] == "flights.main.echo"
    assert [i["type"] for i in agent["inputs"]] == ["string", "float"]
    assert (agent["revision"], agent["status"]) == (1, "enabled")
    assert (agent["build_status"], agent["deploy_status"]) == ("not_built", "not_deployed")
    assert (await http.get(f"/builder/agent/{agent['id']}")).json() == agent


async def test_alias_is_unique_per_project(http: httpx.AsyncClient, manifest: MakeManifest) -> None:
    await _create(http, manifest("dup"))
    again = await http.post("/builder/agent/create", json=manifest("dup"))
    assert again.status_code == 409
    assert again.json()["detail"] == {
        "message": (
            "An agent with alias 'dup' already exists in this project; choose another alias."
        ),
        "code": "alias_taken",
        "field": "agent_alias",
    }


async def test_an_invalid_manifest_is_422_with_every_issue(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    body = manifest("bad.alias", files=[{"name": "x.py", "content": "", "mime_type": "python"}])
    answer = await http.post("/builder/agent/create", json=body)
    assert answer.status_code == 422
    items = answer.json()["detail"]
    locs = [tuple(item["loc"]) for item in items]
    assert ("body", "agent_alias") in locs
    assert any(loc[:2] == ("body", "files") for loc in locs)
    assert all({"loc", "msg", "type"} <= set(item) for item in items)


async def test_unknown_secret_binding_is_422(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    body = manifest(auth_methods={"svc": {"api_key": {"secret_id": "sec_missing"}}})
    answer = await http.post("/builder/agent/create", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "auth_methods", "svc", "api_key"]


async def test_list_pages_searches_and_counts(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    for index in range(7):
        await _create(http, manifest(f"agent_{index}", agent_description=f"number {index}"))
    page = (await http.get("/builder/agent/list", params={"skip": 2, "limit": 3})).json()
    assert [a["agent_alias"] for a in page["agents"]] == ["agent_2", "agent_3", "agent_4"]
    assert (page["total"], page["skip"], page["limit"]) == (7, 2, 3)
    found = (await http.get("/builder/agent/list", params={"search": "NUMBER 5"})).json()
    assert [a["agent_alias"] for a in found["agents"]] == ["agent_5"]
    literal = (await http.get("/builder/agent/list", params={"search": "agent%"})).json()
    assert literal["total"] == 0
    assert (await http.get("/builder/agent/list", params={"limit": 0})).status_code == 422


async def test_update_makes_a_revision_and_keeps_unsent_fields(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    agent = await _create(http, manifest("rev"))
    updated = await http.put(
        f"/builder/agent/{agent['id']}",
        json={"agent_description": "changed", "custom_field": 1, "revision": 99},
    )
    assert updated.status_code == 200
    doc = updated.json()
    assert (doc["revision"], doc["agent_description"], doc["custom_field"]) == (2, "changed", 1)
    assert doc["agent_name"] == agent["agent_name"]
    revisions = (await http.get(f"/builder/agent/{agent['id']}/revisions")).json()
    assert [r["revision"] for r in revisions["revisions"]] == [1, 2]
    assert revisions["revisions"][1]["changed_fields"] == ["agent_description", "custom_field"]
    first = (await http.get(f"/builder/agent/{agent['id']}/revisions/1")).json()
    assert first["agent"]["agent_description"] == agent["agent_description"]
    assert (await http.get(f"/builder/agent/{agent['id']}/revisions/7")).status_code == 404
    invalid = await http.put(f"/builder/agent/{agent['id']}", json={"files": []})
    assert invalid.status_code == 422
    assert (await http.put(f"/builder/agent/{agent['id']}", json={})).status_code == 400


async def test_update_to_a_taken_alias_is_409(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    await _create(http, manifest("one"))
    two = await _create(http, manifest("two"))
    answer = await http.put(f"/builder/agent/{two['id']}", json={"agent_alias": "one"})
    assert answer.status_code == 409
    renamed = await http.put(f"/builder/agent/{two['id']}", json={"agent_alias": "three"})
    assert renamed.json()["agent_endpoints"][0]["endpoint"] == "three.main.echo"


async def test_status_endpoint_status_share_and_delete(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    agent = await _create(http, manifest("st"))
    base = f"/builder/agent/{agent['id']}"
    assert (await http.patch(f"{base}/status", json={"status": "disabled"})).json()[
        "status"
    ] == "disabled"
    assert (await http.patch(f"{base}/status", json={"status": "off"})).status_code == 422
    endpoint = await http.patch(f"{base}/endpoint/echo/status", json={"status": "disabled"})
    assert endpoint.json()["agent_endpoints"][0]["status"] == "disabled"
    assert (
        await http.patch(f"{base}/endpoint/nope/status", json={"status": "enabled"})
    ).status_code == 404
    shared = await http.post(f"{base}/share", json={"email": "Bob@Example.com"})
    assert shared.json()["shared_with"][0]["target"] == "user:bob@example.com"
    assert (await http.post(f"{base}/share", json={})).status_code == 422
    assert (await http.delete(base)).json() == {"id": agent["id"], "deleted": True}
    assert (await http.get(base)).status_code == 404
    assert (await http.get(f"{base}/revisions")).status_code == 404


async def test_build_and_deploy_state_machine(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    agent = await _create(http, manifest("sm"))
    ref = {"agent_id": agent["id"]}
    early = await http.post("/builder/deploy/", json=ref)
    assert (early.status_code, early.json()["detail"]["code"]) == (409, "not_built")
    assert (await http.post("/builder/deploy/reconcile", json=ref)).status_code == 409
    built = (await http.post("/builder/builder/", json=ref)).json()
    assert (built["status"], built["revision"]) == ("built", 1)
    deployed = (await http.post("/builder/deploy/", json=ref)).json()
    assert deployed["status"] == "deployed"
    assert "sm.main.echo" in deployed["endpoints"]
    await http.put(f"/builder/agent/{agent['id']}", json={"agent_description": "v2"})
    doc = (await http.get(f"/builder/agent/{agent['id']}")).json()
    assert (doc["build_status"], doc["deployed_revision"]) == ("outdated", 1)
    assert (await http.post("/builder/deploy/", json=ref)).status_code == 409
    reconciled = (await http.post("/builder/deploy/reconcile", json=ref)).json()
    assert (reconciled["status"], reconciled["changes"]) == ("reconciled", [])
    assert (await http.post("/builder/builder/", json={})).status_code == 422
    assert (await http.post("/builder/builder/", json={"agent_id": "agt_x"})).status_code == 404


async def test_build_fails_when_a_bound_secret_was_deleted(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    secret = (await http.post("/builder/secret/create", json={"name": "k", "value": "v"})).json()
    agent = await _create(
        http, manifest(auth_methods={"svc": {"api_key": {"secret_id": secret["id"]}}})
    )
    await http.delete(f"/builder/secret/{secret['id']}", params={"force": "true"})
    failed = await http.post("/builder/builder/", json={"agent_id": agent["id"]})
    assert failed.status_code == 422
    doc = (await http.get(f"/builder/agent/{agent['id']}")).json()
    assert doc["build_status"] == "failed"
    assert doc["last_build"]["issues"]


async def test_secrets_never_list_values_and_passphrases_guard_reads(
    http: httpx.AsyncClient,
) -> None:
    plain = (await http.post("/builder/secret/create", json={"name": "a", "value": "v-a"})).json()
    guarded = (
        await http.post(
            "/builder/secret/create", json={"name": "b", "value": "v-b", "passphrase": "pp"}
        )
    ).json()
    assert "value" not in plain
    listed = await http.get("/builder/secret/list")
    assert "v-a" not in listed.text
    assert "v-b" not in listed.text
    assert listed.json()["total"] == 2
    assert (await http.get(f"/builder/secret/{plain['id']}")).json()["value"] == "v-a"
    denied = await http.get(f"/builder/secret/{guarded['id']}")
    assert denied.json()["detail"]["code"] == "passphrase_required"
    wrong = await http.get(f"/builder/secret/{guarded['id']}", params={"passphrase": "no"})
    assert wrong.status_code == 403
    right = await http.get(f"/builder/secret/{guarded['id']}", params={"passphrase": "pp"})
    assert right.json()["value"] == "v-b"
    dup = await http.post("/builder/secret/create", json={"name": "a", "value": "x"})
    assert dup.status_code == 409
    updated = (await http.put(f"/builder/secret/{plain['id']}", json={"value": "v2"})).json()
    assert updated["version"] == 2
    assert "value" not in updated
    status = (await http.get("/builder/vault/status")).json()
    assert (status["status"], status["secrets"]) == ("ready", 2)


async def test_a_secret_in_use_needs_force_and_usage_names_the_agents(
    http: httpx.AsyncClient, manifest: MakeManifest
) -> None:
    secret = (await http.post("/builder/secret/create", json={"name": "k", "value": "v"})).json()
    agent = await _create(
        http, manifest(auth_methods={"svc": {"api_key": {"secret_id": secret["id"]}}})
    )
    usage = (await http.get(f"/builder/secret/{secret['id']}/usage")).json()
    assert usage["agents"] == [
        {"agent_id": agent["id"], "agent_alias": "echo", "method_id": "svc", "param": "api_key"}
    ]
    refused = await http.delete(f"/builder/secret/{secret['id']}")
    assert (refused.status_code, refused.json()["detail"]["code"]) == (409, "secret_in_use")
    forced = await http.delete(f"/builder/secret/{secret['id']}", params={"force": "true"})
    assert forced.json()["deleted"] is True
    assert (await http.get(f"/builder/secret/{secret['id']}")).status_code == 404


async def test_mcp_servers_start_and_stop(http: httpx.AsyncClient) -> None:
    server = (
        await http.post("/builder/mcp/servers", json={"name": "files", "command": "x"})
    ).json()
    base = f"/builder/mcp/servers/{server['id']}"
    assert server["status"] == "stopped"
    assert (await http.post(f"{base}/stop")).status_code == 409
    assert (await http.post(f"{base}/start")).json()["status"] == "running"
    assert (await http.post(f"{base}/start")).json()["detail"]["code"] == "already_running"
    running = (await http.get("/builder/mcp/servers", params={"status": "running"})).json()
    assert [s["id"] for s in running["servers"]] == [server["id"]]
    assert (await http.delete(base)).status_code == 409
    assert (await http.patch(base, json={"url": "http://x", "status": "stopped"})).json()[
        "status"
    ] == "running"
    await http.post(f"{base}/stop")
    assert (await http.delete(base)).status_code == 200
    assert (await http.post("/builder/mcp/servers", json={})).status_code == 422


async def test_an_mcp_server_update_checks_the_name_as_create_does(
    http: httpx.AsyncClient,
) -> None:
    server = (await http.post("/builder/mcp/servers", json={"name": "files"})).json()
    base = f"/builder/mcp/servers/{server['id']}"
    for name in ("", "  ", None, 5):
        answer = await http.patch(base, json={"name": name})
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["body", "name"]
    assert (await http.get(base)).json()["name"] == "files"
    renamed = await http.patch(base, json={"name": "docs"})
    assert renamed.json()["name"] == "docs"
    assert (await http.post("/builder/mcp/servers", json={"name": "files"})).status_code == 201


async def test_mappings_show_endpoint_paths(http: httpx.AsyncClient, deployed: Manifest) -> None:
    mapping = (await http.get(f"/builder/mappings/{deployed['id']}")).json()
    assert mapping["deployed_revision"] == 1
    by_name = {e["name"]: e for e in mapping["endpoints"]}
    assert by_name["echo"]["endpoint"] == "echo.main.echo"
    assert by_name["guarded"]["requires_approval"] is True
