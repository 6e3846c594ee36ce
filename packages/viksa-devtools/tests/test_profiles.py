"""Credentials for deploy and call: flags, then VIKSA_* variables, then a stored profile."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from viksa_ai.devtools._profiles import (
    ProfileError,
    config_dir,
    delete_profile,
    load_profiles,
    resolve_connection,
    save_profile,
)
from viksa_ai.devtools.cli import main

PROFILE = {
    "base_url": "http://127.0.0.1:1",
    "api_key": "vk_profile",
    "org_id": "org_p",
    "project_id": "prj_p",
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"VIKSA_CONFIG_DIR": str(tmp_path / "config")}


def test_config_dir_follows_the_platform_conventions(tmp_path: Path) -> None:
    assert config_dir({"VIKSA_CONFIG_DIR": "/x"}) == Path("/x")
    if sys.platform != "win32":
        assert config_dir({"XDG_CONFIG_HOME": "/cfg"}) == Path("/cfg/viksa")
        assert config_dir({}) == Path.home() / ".config" / "viksa"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_a_saved_profile_is_readable_by_its_owner_only(env: dict[str, str]) -> None:
    path = save_profile("default", PROFILE, env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_profiles(env) == {"default": PROFILE}
    assert delete_profile("default", env) is True
    assert delete_profile("default", env) is False
    assert load_profiles(env) == {}


def test_flags_win_over_the_environment_which_wins_over_the_profile(
    env: dict[str, str],
) -> None:
    save_profile("default", PROFILE, env)
    from_profile = resolve_connection(environ=env)
    assert (from_profile.api_key, from_profile.base_url, from_profile.source) == (
        "vk_profile",
        "http://127.0.0.1:1",
        "profile default",
    )
    env |= {"VIKSA_API_KEY": "vk_env", "VIKSA_BASE_URL": "http://127.0.0.1:2"}
    from_env = resolve_connection(environ=env)
    assert (from_env.api_key, from_env.base_url, from_env.source) == (
        "vk_env",
        "http://127.0.0.1:2",
        "environment",
    )
    assert from_env.org_id == "org_p"  # not in the environment: the profile's
    from_flags = resolve_connection(api_key="vk_flag", org_id="org_f", environ=env)
    assert (from_flags.api_key, from_flags.org_id, from_flags.source) == (
        "vk_flag",
        "org_f",
        "flags",
    )
    assert from_flags.base_url == "http://127.0.0.1:2"


def test_the_profile_is_chosen_by_flag_then_variable_then_default_then_local(
    env: dict[str, str],
) -> None:
    save_profile("local", {**PROFILE, "api_key": "vk_local"}, env)
    assert resolve_connection(environ=env).api_key == "vk_local"
    save_profile("default", PROFILE, env)
    save_profile("staging", {**PROFILE, "api_key": "vk_staging"}, env)
    assert resolve_connection(environ=env).api_key == "vk_profile"
    assert resolve_connection(environ=env | {"VIKSA_PROFILE": "local"}).api_key == "vk_local"
    chosen = resolve_connection(profile="staging", environ=env | {"VIKSA_PROFILE": "local"})
    assert chosen.api_key == "vk_staging"
    with pytest.raises(ProfileError, match=r"no profile 'prod' \(profiles: default, local, "):
        resolve_connection(profile="prod", environ=env)


def test_no_credentials_say_how_to_get_some(env: dict[str, str]) -> None:
    with pytest.raises(ProfileError, match="run `viksa login`"):
        resolve_connection(environ=env)
    with pytest.raises(ProfileError, match="VIKSA_PASSWORD is not set"):
        resolve_connection(environ=env | {"VIKSA_EMAIL": "a@b.c"})


def test_secrets_stay_out_of_the_repr(env: dict[str, str]) -> None:
    connection = resolve_connection(api_key="vk_secret_value", environ=env)
    assert "vk_secret_value" not in repr(connection)


@pytest.mark.parametrize("content", ["{", "[]", '{"profiles": 3}'])
def test_a_damaged_credentials_file_is_a_message(env: dict[str, str], content: str) -> None:
    path = Path(env["VIKSA_CONFIG_DIR"]) / "credentials.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(ProfileError, match="delete it and run `viksa login` again"):
        load_profiles(env)


def test_deploy_without_credentials_exits_2_with_a_message(
    env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("VIKSA_API_KEY", "VIKSA_ACCESS_TOKEN", "VIKSA_EMAIL", "VIKSA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIKSA_CONFIG_DIR", env["VIKSA_CONFIG_DIR"])
    assert main(["init", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    assert main(["deploy", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("viksa deploy: no Viksa credentials: run ")
    # Plain `viksa dev` saves no profile: the advice names the flag that does.
    assert "`viksa dev --save-profile`" in err
    assert main(["call", "a", "greet", "--format", "text"]) == 2
    assert capsys.readouterr().err.startswith("viksa call: no Viksa credentials: run ")


def test_logout_without_a_profile_is_not_an_error(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIKSA_CONFIG_DIR", env["VIKSA_CONFIG_DIR"])
    monkeypatch.delenv("VIKSA_PROFILE", raising=False)
    assert main(["logout"]) == 0
    assert capsys.readouterr().out.startswith("No profile 'default' in ")
    save_profile("default", PROFILE, env)
    assert main(["logout"]) == 0
    assert "Logged out: profile 'default' removed" in capsys.readouterr().out
    assert json.loads((Path(env["VIKSA_CONFIG_DIR"]) / "credentials.json").read_text()) == {
        "profiles": {}
    }


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_a_credentials_file_readable_by_others_is_used_with_a_warning(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = save_profile("default", PROFILE, env)
    path.chmod(0o644)  # e.g. copied from another machine, or a umask-blind editor
    with pytest.warns(UserWarning, match=r"readable by other users .*chmod 600 "):
        connection = resolve_connection(environ=env)
    assert connection.api_key == "vk_profile"
    # The CLI shows it as one line, never the key.
    for name in ("VIKSA_API_KEY", "VIKSA_ACCESS_TOKEN", "VIKSA_EMAIL", "VIKSA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("VIKSA_PROFILE", raising=False)
    monkeypatch.setenv("VIKSA_CONFIG_DIR", env["VIKSA_CONFIG_DIR"])
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)  # as outside pytest's "error" filter
        assert main(["call", "a", "greet", "--timeout", "5"]) == 1  # nothing on port 1
    err = capsys.readouterr().err
    assert err.startswith(f"viksa: warning: {path} is readable by other users (mode 0644)")
    assert "vk_profile" not in err
    # Owner-only again: no warning (filterwarnings = error would fail this).
    path.chmod(0o600)
    assert resolve_connection(environ=env).api_key == "vk_profile"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX symlinks")
def test_a_symlink_planted_in_the_config_dir_is_never_written_through(
    env: dict[str, str], tmp_path: Path
) -> None:
    # A config dir others can write to (VIKSA_CONFIG_DIR=/tmp/viksa, a shared mount):
    # the file a symlink points at must never receive the credentials.
    folder = Path(env["VIKSA_CONFIG_DIR"])
    folder.mkdir(mode=0o777)
    victim = tmp_path / "victim"
    victim.write_text("the user's own file\n")
    victim.chmod(0o666)
    # The name the temporary file used to take (predictable from the pid).
    (folder / f".credentials.json.{os.getpid()}.tmp").symlink_to(victim)
    path = save_profile("default", PROFILE, env)
    assert victim.read_text() == "the user's own file\n"
    assert not path.is_symlink()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_profiles(env) == {"default": PROFILE}


_SAVE_MANY = """
import sys, time
from pathlib import Path
from viksa_ai.devtools._profiles import save_profile
config, worker, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
while not go.exists():
    time.sleep(0.001)
for round_ in range(30):
    save_profile(f"w{worker}r{round_}", {"api_key": "vk"}, {"VIKSA_CONFIG_DIR": config})
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the lock is POSIX's")
def test_concurrent_logins_lose_no_profile(env: dict[str, str], tmp_path: Path) -> None:
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _SAVE_MANY, env["VIKSA_CONFIG_DIR"], str(n), str(go)]
        )
        for n in range(4)
    ]
    go.touch()  # all four start saving at once
    assert [worker.wait(120) for worker in workers] == [0, 0, 0, 0]
    assert sorted(load_profiles(env)) == sorted(f"w{n}r{r}" for n in range(4) for r in range(30))
    leftovers = [p.name for p in Path(env["VIKSA_CONFIG_DIR"]).iterdir()]
    assert not [name for name in leftovers if name.endswith(".tmp")]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_under_umask_000_no_folder_made_for_the_credentials_is_writable_by_others(
    tmp_path: Path,
) -> None:
    # Else another user could swap the config folder for one holding their own base URL:
    # the next `viksa deploy` would send the agent and its secrets to them.
    folder = tmp_path / "home" / ".config" / "viksa"
    old = os.umask(0)
    try:
        path = save_profile("default", PROFILE, {"VIKSA_CONFIG_DIR": str(folder)})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for parent in (folder.parent, folder.parent.parent):
        assert stat.S_IMODE(parent.stat().st_mode) & 0o022 == 0, parent


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX FIFOs and devices")
@pytest.mark.timeout(30)  # before the fix, the FIFO hung every deploy and call
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_credentials_file_that_is_not_a_regular_file_is_a_message(
    env: dict[str, str], kind: str
) -> None:
    path = Path(env["VIKSA_CONFIG_DIR"]) / "credentials.json"
    path.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")  # read whole, it never ends
    with pytest.raises(ProfileError, match="not a regular file: delete it"):
        load_profiles(env)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_a_config_folder_others_can_write_to_is_used_with_a_warning(env: dict[str, str]) -> None:
    path = save_profile("default", PROFILE, env)
    path.parent.chmod(0o777)  # e.g. VIKSA_CONFIG_DIR=/tmp/viksa, made by someone else
    with pytest.warns(UserWarning, match=r"writable by other users .*chmod 700 "):
        assert resolve_connection(environ=env).api_key == "vk_profile"
    path.parent.chmod(0o1777)  # sticky, as /tmp: others cannot replace what is ours
    assert resolve_connection(environ=env).api_key == "vk_profile"


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() != 0, reason="giving a file away needs root"
)
def test_a_credentials_file_of_another_user_is_used_with_a_warning(env: dict[str, str]) -> None:
    path = save_profile("default", PROFILE, env)
    os.chown(path, 65534, -1)
    with pytest.warns(UserWarning, match=r"belongs to another user \(uid 65534\)"):
        assert resolve_connection(environ=env).api_key == "vk_profile"
