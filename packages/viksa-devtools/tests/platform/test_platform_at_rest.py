"""The signing key and vault values are not readable from the data file alone (item 1).

They are sealed with a key kept in a file beside the data file (``0600``, in a ``0700``
directory); a data file of an earlier version is sealed on its first start. The same
holds for the ``env`` values of MCP server records.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest

from viksa_ai.devtools.platform import LocalPlatform, Platform, PlatformConfig
from viksa_ai.devtools.platform.services._records import Caller
from viksa_ai.devtools.platform.services._vault import secret_value
from viksa_ai.devtools.platform.store._at_rest import KeyFileError, Sealer, key_path_of

VALUE = "VAULT-VALUE-8c1f0e"
AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def _cells(data: Path) -> Iterator[str]:
    """Every cell of every table of the SQLite file, as text."""
    db = sqlite3.connect(data)
    try:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f"SELECT * FROM {table}"):
                yield from (str(cell) for cell in row)
    finally:
        db.close()


def _raw_bytes(data: Path) -> bytes:
    """The bytes of the data file and its -wal/-shm companions (not the key file)."""
    companions = data.parent.glob(data.name + "*")
    return b"".join(p.read_bytes() for p in companions if p != key_path_of(data))


def _signing_key_hex(data: Path) -> str:
    db = sqlite3.connect(data)
    [sealed] = db.execute("SELECT value FROM meta WHERE name = 'signing_key_sealed'").fetchone()
    db.close()
    return Sealer.for_file(key_path_of(data), create=False).open(sealed, "signing_key_sealed")


async def _store_a_secret(platform: LocalPlatform, http_to: AppClient) -> str:
    async with http_to(platform) as http:
        created = await http.post("/builder/secret/create", json={"name": "s", "value": VALUE})
        assert created.status_code == 201
        read = await http.get(f"/builder/secret/{created.json()['id']}")
        assert read.json()["value"] == VALUE
        secret_id: str = created.json()["id"]
        return secret_id


async def test_no_cell_of_the_data_file_holds_the_signing_key_or_a_vault_value(
    tmp_path: Path,
    http_to: AppClient,
) -> None:
    data = tmp_path / "state" / "platform.db"
    platform = LocalPlatform.start(PlatformConfig(data_path=data))
    await _store_a_secret(platform, http_to)
    await platform.aclose()
    key = _signing_key_hex(data)
    cells = list(_cells(data))
    assert cells
    assert not [c for c in cells if VALUE in c or key in c]
    raw = _raw_bytes(data)
    assert VALUE.encode() not in raw
    assert key.encode() not in raw
    assert bytes.fromhex(key) not in raw
    # The files are their owner's only.
    assert data.parent.stat().st_mode & 0o777 == 0o700
    assert data.stat().st_mode & 0o777 == 0o600
    assert key_path_of(data).stat().st_mode & 0o777 == 0o600


async def test_without_its_key_file_the_data_file_is_refused(
    tmp_path: Path, http_to: AppClient
) -> None:
    data = tmp_path / "platform.db"
    platform = LocalPlatform.start(PlatformConfig(data_path=data))
    await _store_a_secret(platform, http_to)
    await platform.aclose()
    key_path_of(data).unlink()
    with pytest.raises(KeyFileError, match=r"key file .* is missing"):
        Platform(PlatformConfig(data_path=data))
    # Another key does not open it either.
    key_path_of(data).write_bytes(base64.b64encode(bytes(32)) + b"\n")
    with pytest.raises(KeyFileError, match="another key"):
        Platform(PlatformConfig(data_path=data))


async def test_a_data_file_of_an_earlier_version_is_sealed_on_its_first_start(
    tmp_path: Path,
    http_to: AppClient,
) -> None:
    data = tmp_path / "platform.db"
    first = LocalPlatform.start(PlatformConfig(data_path=data))
    secret_id = await _store_a_secret(first, http_to)
    token = first.platform.accounts.login(first.credentials.email, first.credentials.password)
    await first.aclose()
    # Rewrite the file as versions before 0.3.1 left it: both in plain text, no key file.
    key = _signing_key_hex(data)
    db = sqlite3.connect(data)
    db.execute("DELETE FROM meta WHERE name IN ('signing_key_sealed', 'sealed_with')")
    db.execute("INSERT INTO meta (name, value) VALUES ('signing_key', ?)", (key,))
    db.execute(
        "UPDATE records SET data = json_set(data, '$.value', ?) "
        "WHERE kind = 'secret_value' AND id = ?",
        (VALUE, secret_id),
    )
    db.commit()
    db.close()
    key_path_of(data).unlink()
    assert any(VALUE in c for c in _cells(data))

    again = LocalPlatform.start(PlatformConfig(data_path=data))
    # Tokens issued before the upgrade still work, and the value still reads.
    principal = again.platform.accounts.authenticate(token["access_token"])
    assert principal.user_id == again.credentials.user_id
    assert secret_value(again.platform.store, secret_id, None) == VALUE
    await again.aclose()
    assert not [c for c in _cells(data) if VALUE in c or key in c]
    assert _signing_key_hex(data) == key
    assert VALUE.encode() not in _raw_bytes(data)


MCP_VALUE = "MCP-ENV-VALUE-3e9d47"


async def _mcp_servers_made(platform: LocalPlatform, http_to: AppClient) -> str:
    """A server with env and header values, made and updated with Idempotency-Keys; its id."""
    async with http_to(platform) as http:
        headers = {"Authorization": f"Bearer {MCP_VALUE}-h"}
        body = {"name": "files", "env": {"API_KEY": MCP_VALUE}, "headers": headers}
        made = await http.post("/builder/mcp/servers", json=body, headers={"Idempotency-Key": "a"})
        assert made.status_code == 201, made.text
        server_id: str = made.json()["id"]
        body = {"env": {"API_KEY": "***", "TOKEN": MCP_VALUE + "-2"}}
        path = f"/builder/mcp/servers/{server_id}"
        patched = await http.patch(path, json=body, headers={"Idempotency-Key": "b"})
        assert patched.status_code == 200, patched.text
        return server_id


def _mcp_env(platform: LocalPlatform, server_id: str) -> dict[str, str]:
    caller = Caller(platform.credentials.account_id, platform.credentials.project_id)
    return platform.platform.mcp_servers.environment(caller, server_id)


def _mcp_headers(platform: LocalPlatform, server_id: str) -> dict[str, str]:
    caller = Caller(platform.credentials.account_id, platform.credentials.project_id)
    return platform.platform.mcp_servers.request_headers(caller, server_id)


async def test_no_cell_of_the_data_file_holds_an_mcp_server_env_value(
    tmp_path: Path, http_to: AppClient
) -> None:
    data = tmp_path / "platform.db"
    platform = LocalPlatform.start(PlatformConfig(data_path=data))
    server_id = await _mcp_servers_made(platform, http_to)
    await platform.aclose()
    assert not [c for c in _cells(data) if MCP_VALUE in c]
    assert MCP_VALUE.encode() not in _raw_bytes(data)
    again = LocalPlatform.start(PlatformConfig(data_path=data))
    try:
        wanted = {"API_KEY": MCP_VALUE, "TOKEN": MCP_VALUE + "-2"}
        assert _mcp_env(again, server_id) == wanted
        assert _mcp_headers(again, server_id) == {"Authorization": f"Bearer {MCP_VALUE}-h"}
    finally:
        await again.aclose()


async def test_mcp_server_env_an_earlier_version_kept_in_plain_text_is_sealed_at_start(
    tmp_path: Path,
    http_to: AppClient,
) -> None:
    data = tmp_path / "platform.db"
    first = LocalPlatform.start(PlatformConfig(data_path=data))
    project = first.credentials.project_id
    await first.aclose()
    # Records as earlier versions wrote them (in a file already sealed for the vault).
    db = sqlite3.connect(data)
    for server_id, env in (
        ("mcp_plain", {"API_KEY": MCP_VALUE, "PORT": 8080}),
        ("mcp_odd", [f"API_KEY={MCP_VALUE}"]),
    ):
        doc = {"id": server_id, "name": server_id, "status": "stopped", "env": env}
        doc["headers"] = {"Authorization": f"Bearer {MCP_VALUE}"}
        db.execute(
            "INSERT INTO records (kind, id, scope, key, seq, data) VALUES "
            "('mcp_server', ?, ?, ?, 1000, ?)",
            (server_id, project, server_id, json.dumps(doc)),
        )
    db.commit()
    db.close()
    assert any(MCP_VALUE in c for c in _cells(data))

    again = LocalPlatform.start(PlatformConfig(data_path=data))
    try:
        assert _mcp_env(again, "mcp_plain") == {"API_KEY": MCP_VALUE, "PORT": "8080"}
        assert _mcp_env(again, "mcp_odd") == {"": json.dumps([f"API_KEY={MCP_VALUE}"])}
        assert _mcp_headers(again, "mcp_odd") == {"Authorization": f"Bearer {MCP_VALUE}"}
        async with http_to(again) as http:
            listed = await http.get("/builder/mcp/servers")
            assert listed.status_code == 200, listed.text
            assert MCP_VALUE not in listed.text
            shown = {s["id"]: s["env"] for s in listed.json()["servers"]}
            assert shown == {"mcp_plain": {"API_KEY": "***", "PORT": "***"}, "mcp_odd": {"": "***"}}
            # The old record keeps working: updated with its value sent back masked.
            kept = await http.patch(
                "/builder/mcp/servers/mcp_plain", json={"env": shown["mcp_plain"]}
            )
            assert kept.status_code == 200, kept.text
        assert _mcp_env(again, "mcp_plain") == {"API_KEY": MCP_VALUE, "PORT": "8080"}
    finally:
        await again.aclose()
    assert not [c for c in _cells(data) if MCP_VALUE in c]
    assert MCP_VALUE.encode() not in _raw_bytes(data)


def _kept_answer(data: Path) -> tuple[str, dict[str, object], list[list[str]]]:
    """The one answer kept for an Idempotency-Key in ``data``: record id, body, headers."""
    db = sqlite3.connect(data)
    [(record_id, text)] = db.execute("SELECT id, data FROM records WHERE kind = 'idempotency'")
    db.close()
    record = json.loads(text)
    return record_id, json.loads(base64.b64decode(record["body"])), record["headers"]


async def test_an_answer_an_earlier_version_kept_with_mcp_env_values_replays_masked(
    tmp_path: Path,
    http_to: AppClient,
) -> None:
    data = tmp_path / "platform.db"
    body = {"name": "files", "env": {"API_KEY": MCP_VALUE}}
    retry = {"Idempotency-Key": "create-files"}
    first = LocalPlatform.start(PlatformConfig(data_path=data))
    # A session token: the seeded API key is new at every start, a retry's key is not.
    token = first.platform.accounts.login(first.credentials.email, first.credentials.password)
    async with http_to(first, token["access_token"]) as http:
        assert (await http.post("/builder/mcp/servers", json=body, headers=retry)).is_success
    await first.aclose()
    # The kept answer as earlier versions kept it: with the value, and no mark of masking.
    record_id, answer, headers = _kept_answer(data)
    raw = json.dumps({**answer, "env": {"API_KEY": MCP_VALUE}}).encode()
    headers = [[k, str(len(raw)) if k == "content-length" else v] for k, v in headers]
    db = sqlite3.connect(data)
    db.execute(
        "UPDATE records SET data = json_set(data, '$.body', ?, '$.headers', json(?)) "
        "WHERE kind = 'idempotency' AND id = ?",
        (base64.b64encode(raw).decode(), json.dumps(headers), record_id),
    )
    db.execute("DELETE FROM meta WHERE name = 'kept_answers_masked'")
    db.commit()
    db.close()
    assert MCP_VALUE in str(_kept_answer(data)[1])

    again = LocalPlatform.start(PlatformConfig(data_path=data))
    try:
        async with http_to(again, token["access_token"]) as http:
            replayed = await http.post("/builder/mcp/servers", json=body, headers=retry)
        assert replayed.headers["Idempotent-Replayed"] == "true"
        assert replayed.json()["env"] == {"API_KEY": "***"}
        assert MCP_VALUE not in replayed.text
    finally:
        await again.aclose()
    assert MCP_VALUE not in str(_kept_answer(data)[1])
    assert MCP_VALUE.encode() not in _raw_bytes(data)


async def test_no_cell_holds_an_unkeyed_hash_of_a_request_body(
    tmp_path: Path, http_to: AppClient
) -> None:
    # An Idempotency-Key record compares bodies by a digest: unkeyed, a low-entropy
    # vault value could be guessed offline from it.
    data = tmp_path / "platform.db"
    platform = LocalPlatform.start(PlatformConfig(data_path=data))
    body = json.dumps({"name": "pin", "value": "4711"}).encode()
    try:
        async with http_to(platform) as http:
            made = await http.post(
                "/builder/secret/create",
                content=body,
                headers={"Idempotency-Key": "k1", "Content-Type": "application/json"},
            )
            assert made.status_code == 201, made.text
            again = await http.post(
                "/builder/secret/create",
                content=body,
                headers={"Idempotency-Key": "k1", "Content-Type": "application/json"},
            )
            assert again.headers["Idempotent-Replayed"] == "true"
    finally:
        await platform.aclose()
    unkeyed = hashlib.sha256(b"\x00" + body).hexdigest()
    kept = [cell for cell in _cells(data) if '"fingerprint"' in cell]
    assert kept  # the record is there, under a keyed digest
    assert not [cell for cell in kept if unkeyed in cell]
