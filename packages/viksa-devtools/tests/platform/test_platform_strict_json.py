"""Strict JSON at the edge and in the store (issue 9, items 2 and 8).

One ``NaN`` (or a lone surrogate, or JSON nested hundreds deep) used to be stored and
then break every scan of its record kind, for every account, and the next start.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools._strict_json import (
    MAX_JSON_DEPTH,
    UnfitJsonError,
    dumps_storable,
    loads_strict,
)
from viksa_ai.devtools.platform import LocalPlatform, Platform, PlatformConfig, create_app
from viksa_ai.devtools.platform.services._engine import _make_storable
from viksa_ai.devtools.platform.store._store import Store

Manifest = dict[str, Any]
JSON = {"content-type": "application/json"}


def _nested(depth: int) -> str:
    """``{"x": [[...]]}``: the body object, then ``depth - 1`` nested arrays under x."""
    return '{"x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


# (body text, the loc the 422 names, its type)
UNFIT_BODIES = [
    ('{"x": NaN}', ["body", "x"], "finite_number"),
    ('{"x": [1, Infinity]}', ["body", "x", 1], "finite_number"),
    ('{"a": {"x": -Infinity}}', ["body", "a", "x"], "finite_number"),
    ('{"x": 1e999}', ["body", "x"], "finite_number"),
    ('{"x": "ok \\ud800"}', ["body", "x"], "string_unicode"),
    ('{"a": [{"\\udfff": 1}]}', ["body", "a", 0, "\\udfff"], "string_unicode"),
    (_nested(MAX_JSON_DEPTH + 1), ["body", "x", *[0] * (MAX_JSON_DEPTH - 1)], "json_too_deep"),
    (_nested(900), ["body", "x", *[0] * (MAX_JSON_DEPTH - 1)], "json_too_deep"),
    (_nested(100_000), ["body"], "json_too_deep"),
]


def _body_routes() -> list[tuple[str, str]]:
    """Every (method, path) of the app that takes a body, from its OpenAPI document."""
    app = create_app()
    app.state.platform.close()
    found = []
    for path, operations in app.openapi()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        found += [(m.upper(), concrete) for m, op in operations.items() if "requestBody" in op]
    return found


@pytest.mark.parametrize(("text", "loc", "kind"), UNFIT_BODIES)
async def test_every_json_body_route_answers_422_naming_the_field(
    http: httpx.AsyncClient, text: str, loc: list[Any], kind: str
) -> None:
    routes = _body_routes()
    assert len(routes) > 40
    for method, path in routes:
        answer = await http.request(method, path, content=text.encode(), headers=JSON)
        assert answer.status_code == 422, (method, path, answer.text)
        [item] = answer.json()["detail"]
        assert (item["loc"], item["type"]) == (loc, kind), (method, path)


async def test_a_body_that_is_not_utf8_is_422(http: httpx.AsyncClient) -> None:
    answer = await http.post("/org/create", content=b'{"name": "\xed\xa0\x80"}', headers=JSON)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize("interval", ["NaN", "Infinity", "-Infinity", "1e300", "0", "true"])
async def test_a_schedule_interval_must_be_a_finite_number_of_seconds(
    http: httpx.AsyncClient, viksa_platform: LocalPlatform, deployed: Manifest, interval: str
) -> None:
    target = f'"agent_id": "{deployed["id"]}", "endpoint": "echo.main.echo"'
    body = f'{{{target}, "interval_seconds": {interval}}}'
    answer = await http.post("/scheduler/schedule/create", content=body.encode(), headers=JSON)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["loc"] == ["body", "interval_seconds"]
    # Nothing was stored: the clock and the usage counts still work for everyone.
    assert await viksa_platform.platform.tick() == 0
    usage = await http.get("/auth/usage")
    assert usage.status_code == 200
    assert usage.json()["usage"]["schedules"] == 0


async def test_chat_inputs_nested_deep_are_422_not_a_500_or_a_reset_stream(
    http: httpx.AsyncClient,
) -> None:
    deep = "[" * 900 + "]" * 900
    for route in ("/chat/indent_finder", "/chat/indent_finder/stream", "/chat/message"):
        body = f'{{"message": "hi", "inputs": {{"a": {deep}}}}}'
        answer = await http.post(route, content=body.encode(), headers=JSON)
        assert answer.status_code == 422, (route, answer.text)
        assert answer.json()["detail"][0]["loc"][:3] == ["body", "inputs", "a"]


# -- the store ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        {"id": "o1", "x": math.nan},
        {"id": "o1", "x": [math.inf]},
        {"id": "o1", "x": "\ud800"},
        {"id": "o1", "\udc00": 1},
        {"id": "o1", "x": json.loads(_nested(600))},
    ],
)
def test_the_store_refuses_to_write_what_it_could_not_read(doc: dict[str, Any]) -> None:
    store = Store()
    with pytest.raises(UnfitJsonError):
        store.insert("org", doc, scope="acc")
    assert store.get("org", "o1") is None
    store.insert("org", {"id": "o1", "x": 1}, scope="acc")
    with pytest.raises(UnfitJsonError):
        store.save("org", {**doc, "id": "o1"})
    assert store.get("org", "o1") == {"id": "o1", "x": 1}
    store.close()


# Values as an earlier version wrote them (Python's permissive json.dumps).
_OLD_WRITES = {
    "nan": "NaN",
    "surrogate": '"\\ud800"',
    "deep": "[" * 900 + "]" * 900,
    "very_deep": "[" * 2500 + "]" * 2500,
}


def _plant_old_records(data: Path, kind: str, like_id: str) -> list[str]:
    """Copies of a record of ``kind`` with an unfit field each, written as before the fix."""
    db = sqlite3.connect(data)
    kind_, scope, seq, text = db.execute(
        "SELECT kind, scope, seq, data FROM records WHERE kind = ? AND id = ?", (kind, like_id)
    ).fetchone()
    planted = []
    for n, (name, value) in enumerate(_OLD_WRITES.items(), start=1):
        doc = {**json.loads(text), "id": f"{like_id}_{name}", "odd": "HOLE"}
        db.execute(
            "INSERT INTO records (kind, id, scope, key, seq, data) VALUES (?, ?, ?, NULL, ?, ?)",
            (kind_, doc["id"], scope, seq + 1000 + n, json.dumps(doc).replace('"HOLE"', value)),
        )
        planted.append(doc["id"])
    db.commit()
    db.close()
    return planted


@asynccontextmanager
async def _login(platform: LocalPlatform) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``platform`` logged in as the dev user (who sees every org)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=platform.app), base_url="http://127.0.0.1"
    ) as http:
        creds = platform.credentials
        login = await http.post(
            "/auth/individual/login", json={"email": creds.email, "password": creds.password}
        )
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        http.headers["X-Tenant-Org-Id"] = creds.org_id
        http.headers["X-Tenant-Project-Id"] = creds.project_id
        yield http


@pytest.fixture
async def old_data(tmp_path: Path) -> Path:
    """A data file holding unfit records of several kinds, as earlier versions stored them."""
    data = tmp_path / "platform.db"
    first = LocalPlatform.start(PlatformConfig(data_path=data))
    async with _login(first) as http:
        org = (await http.post("/org/create", json={"name": "kept"})).json()
        wf = (await http.post("/workflow/create", json={"name": "w", "tasks": []})).json()
        schedule = await http.post(
            "/scheduler/schedule/create", json={"workflow_id": wf["id"], "interval_seconds": 60}
        )
        assert schedule.status_code == 201, schedule.text
    await first.aclose()
    _plant_old_records(data, "org", org["id"])
    _plant_old_records(data, "schedule", schedule.json()["id"])
    db = sqlite3.connect(data)
    # A listing others search: its NaN used to break marketplace search for every account.
    db.execute(
        "INSERT INTO records (kind, id, scope, key, seq, data) VALUES "
        "('listing', 'lst_bad', 'x', NULL, 1, ?)",
        (json.dumps({"id": "lst_bad", "status": "published", "name": math.nan}),),
    )
    db.commit()
    db.close()
    return data


async def test_a_data_file_with_unfit_records_opens_and_serves_everything_else(
    old_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="viksa_ai.devtools.platform"):
        again = LocalPlatform.start(PlatformConfig(data_path=old_data))
        async with _login(again) as http:
            assert await again.platform.tick(now=4e9) >= 1  # the good schedule still runs
            answers = {
                path: await http.get(path)
                for path in (
                    "/auth/usage",
                    "/org/list",
                    "/scheduler/schedule/list",
                    "/marketplace/api/v1/marketplace/listings/search?q=a",
                )
            }
            for path, answer in answers.items():
                assert answer.status_code == 200, (path, answer.text)
                json.loads(answer.text, parse_constant=_refuse)
            orgs = [o["name"] for o in answers["/org/list"].json()]
            assert "kept" in orgs
            assert answers["/scheduler/schedule/list"].json()["total"] >= 1
            # The same records again: reported once, not on every scan.
            await http.get("/org/list")
        await again.aclose()
    reported = [r.getMessage() for r in caplog.records if "unreadable" in r.getMessage()]
    # Set aside at start (SQLite cannot parse them) or skipped when read, once each.
    assert reported
    assert len(reported) == len(set(reported))
    assert all("\ud800" not in line for line in reported)
    db = sqlite3.connect(old_data)
    set_aside = {row[0] for row in db.execute("SELECT id FROM unreadable_records")}
    db.close()
    assert "lst_bad" in set_aside


def _refuse(constant: str) -> None:
    raise AssertionError(f"the answer is not strict JSON: it holds {constant}")


async def test_restarting_twice_on_such_a_file_still_works(old_data: Path) -> None:
    for _ in range(2):
        platform = Platform(PlatformConfig(data_path=old_data))
        platform.seed()
        await platform.tick(now=4e9)
        await platform.aclose()


# -- the decoder --------------------------------------------------------------------


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)


_finite_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    _containers,
    max_leaves=20,
)


@given(_finite_json)
def test_strict_json_reads_every_finite_value_as_python_does(value: Any) -> None:
    text = json.dumps(value)
    assert loads_strict(text) == json.loads(text)
    assert loads_strict(text.encode()) == json.loads(text)
    assert json.loads(dumps_storable(value)) == json.loads(text)


@given(_finite_json, st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", '"\\udabc"']))
def test_strict_json_names_where_an_unfit_value_sits(value: Any, bad: str) -> None:
    text = json.dumps({"k": [value, "HOLE"]}).replace('"HOLE"', bad)
    with pytest.raises(UnfitJsonError) as caught:
        loads_strict(text)
    assert caught.value.loc == ("k", 1)


@pytest.mark.parametrize("depth", [1, MAX_JSON_DEPTH])
def test_strict_json_takes_nesting_up_to_the_documented_depth(depth: int) -> None:
    text = "[" * depth + "]" * depth
    assert loads_strict(text) is not None
    with pytest.raises(UnfitJsonError):
        loads_strict("[" * (depth + MAX_JSON_DEPTH) + "]" * (depth + MAX_JSON_DEPTH))


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"s": "[" * 500 + '\\"{' * 100, "t": "]]]"})
    assert loads_strict(text)["t"] == "]]]"


def test_a_result_the_store_cannot_keep_fails_the_run_instead_of_sticking_it() -> None:
    finite = {"status": "completed", "response": {"x": [math.nan, math.inf, 1.5]}}
    _make_storable(finite)
    assert finite == {"status": "completed", "response": {"x": [None, None, 1.5]}}
    deep = {"status": "completed", "response": json.loads(_nested(700))}
    _make_storable(deep)
    assert (deep["status"], deep["error_kind"], deep["response"]) == (
        "failed",
        "endpoint_error",
        None,
    )
    assert "nested too deeply" in deep["error"]
    assert dumps_storable(deep)


@pytest.mark.parametrize(
    ("text", "kind", "loc"),
    [
        ('{"a": [1.5, NaN, "\\udabc"]}', "finite_number", ("a", 1)),
        ('{"a": ["\\udabc", 1e999]}', "string_unicode", ("a", 0)),
        ("[Infinity, " + "9" * 5000 + "]", "json_invalid", ()),
        ("[" * 70 + "-Infinity" + "]" * 70, "json_too_deep", (0,) * 64),
    ],
)
def test_a_non_finite_number_and_another_fault_are_named_in_document_order(
    text: str, kind: str, loc: tuple[Any, ...]
) -> None:
    # The decoder stops at a non-finite number, then decodes again to name the fault.
    with pytest.raises(UnfitJsonError) as caught:
        loads_strict(text)
    assert (caught.value.kind, caught.value.loc) == (kind, loc)


def test_malformed_json_after_a_non_finite_number_is_a_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_strict('{"a": NaN, ')
    assert loads_strict('{"a": 1.0, "b": -0.5}') == {"a": 1.0, "b": -0.5}


def test_a_text_starting_with_a_byte_order_mark_is_refused_as_json_refuses_it() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        loads_strict('\ufeff{"a": 1}')
    assert caught.value.msg == "Unexpected UTF-8 BOM (decode using utf-8-sig)"
