"""``viksa dev``: its options and the banner it prints on every start."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from viksa_ai.devtools.cli import build_parser, main
from viksa_ai.devtools.platform import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    DEFAULT_PORT,
    Platform,
    PlatformConfig,
    create_app,
)
from viksa_ai.devtools.platform.http._serve import _host_name, banner, guard_hosts


def test_defaults_are_the_documented_ones() -> None:
    args = build_parser().parse_args(["dev"])
    assert (args.port, args.data, args.memory, args.reset) == (
        DEFAULT_PORT,
        Path(".viksa/platform.db"),
        False,
        False,
    )
    assert args.with_examples is None
    assert build_parser().parse_args(["dev", "--with-examples"]).with_examples == Path("examples")


def test_worker_limits_are_positive_whole_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["dev"])
    assert (args.workers_per_agent, args.warm_agents) == (2, 8)
    assert build_parser().parse_args(["dev", "--warm-agents", "3"]).warm_agents == 3
    for bad in (
        ["--warm-agents", "0"],
        ["--workers-per-agent", "two"],
        ["--access-token-ttl", "0"],
    ):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["dev", *bad])
    assert "at least 1" in capsys.readouterr().err


def test_the_port_is_0_to_65535(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["dev", "--port", "0"]).port == 0
    for bad in ("70000", "-1", "http"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["dev", "--port", bad])
    assert "a port is 0-65535" in capsys.readouterr().err


def test_the_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["dev", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 130 stopped with Ctrl-C, 1 the port cannot be listened on, 2 usage" in text


def test_the_log_level_is_one_uvicorn_knows(capsys: pytest.CaptureFixture[str]) -> None:
    # An unknown one started the platform, then failed with uvicorn's KeyError traceback.
    assert build_parser().parse_args(["dev", "--log-level", "DEBUG"]).log_level == "debug"
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["dev", "--log-level", "loud"])
    assert info.value.code == 2
    assert "argument --log-level: invalid choice: 'loud'" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["not_a_database", "a_directory", "under_a_file"])
def test_a_data_file_that_cannot_be_opened_exits_2_with_a_message(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "p.db"
    if kind == "not_a_database":
        data.write_bytes(b"\x00garbage" * 1000)
    elif kind == "a_directory":
        data.mkdir()
    else:
        (tmp_path / "file").write_text("x")
        data = tmp_path / "file" / "p.db"
    assert main(["dev", "--port", "0", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    assert f"cannot open the data file {data}" in err
    assert "--memory" in err


def test_data_and_memory_exclude_each_other() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["dev", "--memory", "--data", "x.db"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["dev", "--fault", "status=abc"], "bad --fault"),
        (["dev", "--with-examples", "/nonexistent/examples"], "no examples directory"),
    ],
)
def test_bad_options_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "--memory"]) == 2
    assert message in capsys.readouterr().err


def test_reset_deletes_the_data_file_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "p.db"
    data.write_text("not a database")
    started: list[PlatformConfig] = []

    def fake_serve(config: PlatformConfig, **_: object) -> int:
        started.append(config)
        return 0

    monkeypatch.setattr("viksa_ai.devtools.platform.http._serve.serve", fake_serve)
    assert main(["dev", "--data", str(data), "--reset", "--password", "pw-1"]) == 0
    assert not data.exists()
    assert (started[0].data_path, started[0].seed_password) == (data, "pw-1")


def test_viksa_dev_seeds_a_fresh_random_password_unless_one_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Agent code can reach a served platform over loopback: no well-known password.
    started: list[PlatformConfig] = []

    def fake_serve(config: PlatformConfig, **_: object) -> int:
        started.append(config)
        return 0

    monkeypatch.setattr("viksa_ai.devtools.platform.http._serve.serve", fake_serve)
    assert main(["dev", "--memory"]) == 0
    assert main(["dev", "--memory"]) == 0
    first, second = (config.seed_password for config in started)
    assert DEFAULT_PASSWORD not in (first, second)
    assert first != second
    assert len(first) >= 16


def test_the_banner_prints_the_fault_token() -> None:
    platform = Platform(PlatformConfig())
    credentials = platform.seed()
    text = banner("http://127.0.0.1:8765", credentials, None, [], fault_token=platform.fault_token)
    platform.close()
    assert platform.fault_token.startswith("vft_")
    assert f"  faults    X-Viksa-Fault-Token: {platform.fault_token}" in text


def test_the_banner_prints_credentials_and_export_lines() -> None:
    platform = Platform(PlatformConfig())
    credentials = platform.seed()
    text = banner("http://127.0.0.1:8765", credentials, None, [("tools", "deployed (t.main.f)")])
    platform.close()
    assert f"  email     {credentials.email}" in text
    assert f"  password  {credentials.password}" in text
    assert "  example   tools: deployed (t.main.f)" in text
    exports = [line for line in text.splitlines() if line.startswith("export ")]
    assert exports == [
        "export VIKSA_BASE_URL=http://127.0.0.1:8765",
        f"export VIKSA_API_KEY={credentials.api_key}",
        f"export VIKSA_ORG_ID={credentials.org_id}",
        f"export VIKSA_PROJECT_ID={credentials.project_id}",
    ]
    assert credentials.api_key not in repr(credentials)


def test_allow_host_is_repeatable_and_refuses_what_is_not_a_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert build_parser().parse_args(["dev"]).allow_host == []
    args = build_parser().parse_args(["dev", "--allow-host", "a.test", "--allow-host", "b"])
    assert args.allow_host == ["a.test", "b"]
    for bad in ("", "evil.test/x", "a b", ":80", ".", "::1"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["dev", "--allow-host", bad])
    assert "is not a host name" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:8765", 200),
        ("localhost", 200),
        ("LocalHost.:1", 200),
        ("[::1]:8765", 200),
        ("devbox.test:9", 200),
        ("evil.example", 400),
        ("evil.example:8765", 400),
        ("127.0.0.1.evil.example", 400),
        ("localhost.evil.example:80", 400),
        ("[::2]:8765", 400),
        ("[::1].evil.example", 400),
        ("[::1]evil.example:80", 400),
        ("[::1]]", 400),
        ("[::1].", 400),
        ("[::1]:8765.evil", 400),
        ("[::1]:.", 400),
        ("localhost:8765.evil", 400),
        ("127.0.0.1:80:80", 400),
        ("", 400),
    ],
)
async def test_on_loopback_only_local_and_allowed_host_names_are_answered(
    host: str, status: int
) -> None:
    app = create_app()
    guarded = guard_hosts(app, "127.0.0.1", ["devbox.test"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded), base_url="http://127.0.0.1"
    ) as http:
        answer = await http.get("/openapi.json", headers={"Host": host})
    await app.state.platform.aclose()
    assert answer.status_code == status
    if status == 400:
        detail = answer.json()["detail"]
        assert detail["code"] == "host_not_allowed"
        assert "--allow-host" in detail["message"]


async def test_a_rebinding_page_reaches_none_of_the_dashboard() -> None:
    app = create_app()
    guarded = guard_hosts(app, "127.0.0.1")
    evil = {"Host": "evil.example:8765", "Origin": "http://evil.example:8765"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded), base_url="http://127.0.0.1"
    ) as http:
        answers = [
            await http.get("/", headers=evil),
            await http.get("/dashboard/sign-in", headers=evil),
            await http.get("/dashboard/events", headers=evil),
            await http.get("/dashboard/static/dashboard.js", headers=evil),
            await http.get("/docs", headers=evil),
            await http.post("/dashboard/sign-in", data={"email": "a"}, headers=evil),
            await http.post("/dashboard/api/run", json={}, headers=evil),
        ]
    await app.state.platform.aclose()
    assert [a.status_code for a in answers] == [400] * len(answers)
    assert {a.json()["detail"]["code"] for a in answers} == {"host_not_allowed"}


# What a Host header admitted on loopback may be: a loopback name, then at most a port.
_LOOPBACK_HOST = re.compile(r"\s*(?:(?:localhost|127\.0\.0\.1)\.*|\[::1\])(?::[0-9]*)?\s*")


@given(
    st.text(alphabet="[]:.%1270lcahostevx \t", max_size=24)
    | st.builds(
        "".join,
        st.lists(st.sampled_from(["[::1]", "localhost", "127.0.0.1", ".", ":", "]", "ev", "80"])),
    )
)
@example("[::1].")
@example("[::1]:8765.evil")
@example("localhost:80.evil")
def test_only_loopback_names_with_at_most_a_port_pass_the_guard(host: str) -> None:
    if _host_name(host) in {"localhost", "127.0.0.1", "[::1]"}:
        assert _LOOPBACK_HOST.fullmatch(host.lower()), host


async def test_allowed_names_that_name_nothing_do_not_admit_requests_without_host() -> None:
    app = create_app()
    guarded = guard_hosts(app, "127.0.0.1", [":80", ".", "devbox.test"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded), base_url="http://127.0.0.1"
    ) as http:
        answers = [await http.get("/openapi.json", headers={"Host": h}) for h in ("", ":80")]
    await app.state.platform.aclose()
    assert [a.status_code for a in answers] == [400, 400]


def test_bound_to_a_non_loopback_address_every_host_is_answered_as_before() -> None:
    app = create_app()
    assert guard_hosts(app, "0.0.0.0", ["x"]) is app
    assert guard_hosts(app, "192.168.1.20") is app
    assert guard_hosts(app, "::1") is not app
    app.state.platform.close()


def test_viksa_dev_refuses_a_rebound_host_and_admits_allow_host(dev_server: str) -> None:
    login = {"email": DEFAULT_EMAIL, "password": DEFAULT_PASSWORD}
    with httpx.Client(base_url=dev_server, timeout=30) as http:
        rebound = http.post(
            "/auth/individual/login", json=login, headers={"Host": "attacker.example:8765"}
        )
        local = http.post("/auth/individual/login", json=login)
        allowed = http.post(
            "/auth/individual/login", json=login, headers={"Host": "devbox.test:8765"}
        )
    assert rebound.status_code == 400
    detail = rebound.json()["detail"]
    assert "access_token" not in rebound.text
    assert "--allow-host attacker.example" in detail["message"]
    assert (local.status_code, allowed.status_code) == (200, 200)


def test_hypothesis_keeps_no_example_database() -> None:
    # A stored database replays an old failure on one machine only (issue 9, item 13).
    assert settings.default is not None
    assert settings.default.database is None
