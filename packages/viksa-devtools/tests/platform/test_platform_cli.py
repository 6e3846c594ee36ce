"""``viksa dev``: its options and the banner it prints on every start."""

from __future__ import annotations

from pathlib import Path

import pytest

from viksa_ai.devtools.cli import build_parser, main
from viksa_ai.devtools.platform import DEFAULT_PORT, Platform, PlatformConfig
from viksa_ai.devtools.platform._serve import banner


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
    for bad in (["--warm-agents", "0"], ["--workers-per-agent", "two"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["dev", *bad])
    assert "at least 1" in capsys.readouterr().err


def test_the_port_is_0_to_65535(capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(["dev", "--port", "0"]).port == 0
    for bad in ("70000", "-1", "http"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["dev", "--port", bad])
    assert "a port is 0-65535" in capsys.readouterr().err


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

    monkeypatch.setattr("viksa_ai.devtools.platform._serve.serve", fake_serve)
    assert main(["dev", "--data", str(data), "--reset", "--password", "pw-1"]) == 0
    assert not data.exists()
    assert (started[0].data_path, started[0].seed_password) == (data, "pw-1")


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
