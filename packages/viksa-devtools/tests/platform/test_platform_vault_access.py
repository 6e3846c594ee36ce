"""Every path to a vault value applies ``get_secret``'s check (issue 9, item 4)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from viksa_ai.devtools.platform.services import _secrets, _vault
from viksa_ai.devtools.platform.services._errors import DomainError
from viksa_ai.devtools.platform.services._records import Caller
from viksa_ai.devtools.platform.services._security import hash_password, verify_password
from viksa_ai.devtools.platform.services._vault import resolve_secrets

Manifest = dict[str, Any]


async def test_a_passphrase_protected_secret_cannot_be_bound(
    http: httpx.AsyncClient, manifest: Callable[..., Manifest]
) -> None:
    secret = await http.post(
        "/builder/secret/create", json={"name": "svc", "value": "s3cr3t", "passphrase": "pp-1"}
    )
    bound = manifest("echo", auth_methods={"svc": {"api_key": {"secret_id": secret.json()["id"]}}})
    answer = await http.post("/builder/agent/create", json=bound)
    assert answer.status_code == 422
    [item] = answer.json()["detail"]
    assert item["loc"] == ["body", "auth_methods", "svc", "api_key"]
    assert item["type"] == "value_error.secret_protected"


async def test_a_worker_key_refused_a_secret_cannot_read_it_through_an_agent_binding(
    http: httpx.AsyncClient, deployed: Manifest, execute: Callable[..., Manifest]
) -> None:
    # The binding was made before the secret got its passphrase.
    update = {"passphrase": "pp-1"}
    assert (await http.put(f"/builder/secret/{deployed['secret_id']}", json=update)).is_success
    worker = (await http.post("/auth/key/worker", json={"name": "w"})).json()["key"]
    as_worker = {"Authorization": f"Bearer {worker}"}
    direct = await http.get(f"/builder/secret/{deployed['secret_id']}", headers=as_worker)
    assert direct.status_code == 403
    run = await http.post(
        "/pulse/executor/execute", json=execute(deployed, "echo", text="x"), headers=as_worker
    )
    assert run.status_code == 200, run.text
    assert "s3cr3t" not in run.text
    assert run.json()["response"]["key"] is None
    # With the passphrase the owner still reads it.
    owner = await http.get(
        f"/builder/secret/{deployed['secret_id']}", params={"passphrase": "pp-1"}
    )
    assert owner.json()["value"] == "s3cr3t"


async def test_resolving_bindings_skips_protected_and_missing_secrets(
    http: httpx.AsyncClient, deployed: Manifest, viksa_platform: Any
) -> None:
    store = viksa_platform.platform.store
    methods = {"svc": {"api_key": {"secret_id": deployed["secret_id"]}, "x": None}}
    assert resolve_secrets(methods, store) == {"svc.api_key": "s3cr3t"}
    await http.put(f"/builder/secret/{deployed['secret_id']}", json={"passphrase": "pp"})
    assert resolve_secrets(methods, store) == {}
    assert resolve_secrets({"m": {"p": {"secret_id": "sec_gone"}}}, store) == {}


@pytest.mark.parametrize("change", [{"passphrase": None}, {"passphrase": "mine"}])
async def test_a_passphrase_changes_only_with_the_current_one_or_a_new_value(
    http: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    # Anyone of the project (a worker key too) could remove or replace the passphrase,
    # then read the value it guarded.
    made = await http.post(
        "/builder/secret/create", json={"name": "svc", "value": "s3cr3t", "passphrase": "pp-1"}
    )
    route = f"/builder/secret/{made.json()['id']}"
    worker = (await http.post("/auth/key/worker", json={"name": "w"})).json()["key"]
    for headers in ({}, {"Authorization": f"Bearer {worker}"}):
        for wrong in ({}, {"current_passphrase": "pp-2"}):
            refused = await http.put(route, json={**change, **wrong}, headers=headers)
            assert refused.status_code == 403, refused.text
            assert "current_passphrase" in refused.json()["detail"]["message"]
        for offered in ({}, {"passphrase": "mine"}):
            read = await http.get(route, params=offered, headers=headers)
            assert (read.status_code, "s3cr3t" in read.text) == (403, False)
    kept = await http.put(route, json={**change, "current_passphrase": "pp-1"})
    assert kept.status_code == 200, kept.text
    read = await http.get(route, params={"passphrase": change["passphrase"] or ""})
    assert read.json()["value"] == "s3cr3t"
    # A new value with it needs no old passphrase: what it guarded is gone.
    replaced = await http.put(route, json={"value": "fresh", "passphrase": "pp-3"})
    assert replaced.status_code == 200, replaced.text
    assert (await http.get(route, params={"passphrase": "pp-3"})).json()["value"] == "fresh"


async def _protected(
    http: httpx.AsyncClient, viksa_platform: Any, value: str
) -> tuple[str, Caller, _secrets.Secrets]:
    """A secret guarded by ``pp-1``; its id, the seeded caller and the Secrets service."""
    body = {"name": "svc", "value": value, "passphrase": "pp-1"}
    made = await http.post("/builder/secret/create", json=body)
    c = viksa_platform.credentials
    caller = Caller(account_id=c.account_id, project_id=c.project_id)
    return made.json()["id"], caller, viksa_platform.platform.secrets


async def test_a_passphrase_change_loses_no_update_made_while_it_hashes(
    http: httpx.AsyncClient, viksa_platform: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An update runs off the event loop (scrypt): a value rotated by another request
    # while a passphrase change hashed was overwritten with the old value it had read.
    secret_id, caller, secrets = await _protected(http, viksa_platform, "leaked")
    slow_hash = hash_password

    def hash_meanwhile(phrase: str) -> str:
        monkeypatch.setattr(_secrets, "hash_password", slow_hash)
        secrets.update(caller, secret_id, {"value": "rotated", "description": "new"})
        return slow_hash(phrase)

    monkeypatch.setattr(_secrets, "hash_password", hash_meanwhile)
    changed = secrets.update(
        caller, secret_id, {"passphrase": "pp-2", "current_passphrase": "pp-1"}
    )
    assert (changed["version"], changed["description"]) == (2, "new")
    read = await http.get(f"/builder/secret/{secret_id}", params={"passphrase": "pp-2"})
    assert (read.json()["value"], read.json()["version"]) == ("rotated", 2)


async def test_a_passphrase_change_checked_against_a_replaced_one_is_409(
    http: httpx.AsyncClient, viksa_platform: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The current passphrase is checked before the change is written: one replaced in
    # between (by someone who knew it) must not be overwritten on the strength of the old.
    secret_id, caller, secrets = await _protected(http, viksa_platform, "v")
    slow_check = verify_password

    def check_meanwhile(phrase: str, stored: str) -> bool:
        monkeypatch.setattr(_vault, "verify_password", slow_check)
        secrets.update(caller, secret_id, {"passphrase": "owner", "current_passphrase": "pp-1"})
        return slow_check(phrase, stored)

    monkeypatch.setattr(_vault, "verify_password", check_meanwhile)
    with pytest.raises(DomainError) as raised:
        secrets.update(caller, secret_id, {"passphrase": None, "current_passphrase": "pp-1"})
    detail = raised.value.detail
    assert isinstance(detail, dict)
    assert (raised.value.status_code, detail["code"]) == (409, "secret_changed")
    read = await http.get(f"/builder/secret/{secret_id}", params={"passphrase": "owner"})
    assert read.json()["value"] == "v"


async def test_a_secret_no_environment_can_carry_fails_the_run_not_the_platform(
    http: httpx.AsyncClient, deployed: Manifest, execute: Callable[..., Manifest]
) -> None:
    # The vault takes any JSON text; a NUL cannot be an environment variable's value.
    # The run is recorded as failed (the runner's AgentLoadError), naming the param only.
    update = {"value": "nul\u0000-hunter2-secret"}
    assert (await http.put(f"/builder/secret/{deployed['secret_id']}", json=update)).is_success

    run = await http.post("/pulse/executor/execute", json=execute(deployed, "echo", text="x"))

    assert run.status_code == 200, run.text
    assert run.json()["status"] == "failed"
    assert "svc.api_key" in run.json()["error"]
    assert "hunter2" not in run.text
