"""The README's "Your first agent" walkthrough, typed as written, against a real ``viksa dev``.

Each ``$ command`` of that section runs as a subprocess in an empty folder, with the
workspace's scripts first on PATH, and its output is compared with the README's (after
normalising what differs between runs: clock times, the port, ids, the config folder,
pytest's duration). ``viksa dev`` runs on a free port (``VIKSA_DEV_PORT``) and keeps
running while the later commands talk to it; the edit the README describes is made
while it watches. A second test checks where deploy and call find their credentials.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
_WAIT = 60.0
_BLOCK = re.compile(r"```(console|text)\n(.*?)```", re.DOTALL)
# Lines the README shows that only a terminal gets (stderr, when it is a tty).
_TERMINAL_ONLY = re.compile(r"^done in \d+ ms$")


def walkthrough() -> list[tuple[str, str | None, list[str]]]:
    """The section's blocks: (kind, command or None, expected output lines)."""
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Your first agent\n")
    section = text[start : text.index("\n## ", start + 1)]
    blocks: list[tuple[str, str | None, list[str]]] = []
    for kind, body in _BLOCK.findall(section):
        lines = body.rstrip("\n").split("\n")
        if kind == "console":
            assert lines[0].startswith("$ "), f"a console block starts with its command: {body}"
            blocks.append((kind, lines[0][2:], lines[1:]))
        else:
            blocks.append((kind, None, lines))
    return blocks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No VIKSA_* or pytest variables of this run; our scripts first on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIKSA_", "PYTEST_", "NO_COLOR")) and k != "COV_CORE_SOURCE"
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["VIKSA_CONFIG_DIR"] = str(tmp_path / "config")
    env.update(extra)
    return env


class Normaliser:
    """Replaces what differs between runs with the README's placeholders."""

    def __init__(self, config_dir: str) -> None:
        self.config_dir = config_dir

    def __call__(self, line: str) -> str:
        line = line.replace(self.config_dir, "~/.config/viksa")
        line = re.sub(r"^\d\d:\d\d:\d\d ", "HH:MM:SS ", line)
        line = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", line)
        return re.sub(r" in \d+\.\d+s$", " in N.NNs", line)


def matches(expected: list[str], actual: list[str], *, prefix: bool = False) -> bool:
    """``actual`` is ``expected``, where a ``...`` line stands for any lines.

    With ``prefix``, ``actual`` may go on after what ``expected`` describes.
    """
    if not expected:
        return prefix or not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[i:], prefix=prefix) for i in range(len(actual) + 1))
    return (
        bool(actual)
        and actual[0] == expected[0]
        and matches(expected[1:], actual[1:], prefix=prefix)
    )


class Background:
    """A long-running command and every line it printed so far."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, expected: list[str], normalise: Normaliser, *, anywhere: bool) -> None:
        """Wait until the output so far is ``expected`` (``anywhere``: ends with it)."""
        pattern = ["...", *expected] if anywhere else expected
        self._wait(
            lambda: matches(pattern, [normalise(line) for line in self.lines], prefix=True),
            repr(expected),
        )

    def wait_line_containing(self, text: str) -> None:
        """Wait for a line holding ``text``."""
        self._wait(lambda: any(text in line for line in self.lines), repr(text))

    def wait_line(self, prefix: str) -> str:
        """Wait for a line starting with ``prefix``; return it."""
        self._wait(lambda: any(line.startswith(prefix) for line in self.lines), repr(prefix))
        return next(line for line in self.lines if line.startswith(prefix))

    def _wait(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + _WAIT
        while time.monotonic() < deadline:
            if done():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        shown = "\n".join(self.lines)
        pytest.fail(f"viksa dev never printed {what}; it printed:\n{shown}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


@pytest.fixture
def background() -> Iterator[list[Background]]:
    started: list[Background] = []
    yield started
    for process in started:
        process.stop()


def make_the_readme_edit(folder: Path) -> None:
    # "change Hello to Hi in my_agent/main.py (and in my_agent/test_agent.py)"
    for name in ("main.py", "test_agent.py"):
        path = folder / "my_agent" / name
        path.write_text(path.read_text().replace("Hello, ", "Hi, "))


@pytest.mark.skipif(sys.platform == "win32", reason="the walkthrough's shell is POSIX")
def test_the_readme_walkthrough_runs_as_written(
    tmp_path: Path, background: list[Background]
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = clean_env(tmp_path, VIKSA_DEV_PORT=str(free_port()))
    normalise = Normaliser(env["VIKSA_CONFIG_DIR"])
    blocks = walkthrough()
    commands = [command for _, command, _ in blocks if command is not None]
    assert commands == [
        "viksa init my_agent",
        "viksa validate my_agent",
        "viksa run my_agent greet -i name=Ada",
        "viksa dev --watch my_agent --save-profile",
        "viksa deploy my_agent",
        "viksa call my_agent greet -i name=Ada -i excited=true",
        "viksa call my_agent greet -i name=Ada",
        "pytest -q my_agent/test_agent.py",
    ]
    dev: Background | None = None
    for kind, command, expected in blocks:
        expected = [line for line in expected if not _TERMINAL_ONLY.match(line)]
        expected = [normalise(line) for line in expected]
        if kind == "text":  # what the watching viksa dev prints after the edit
            assert dev is not None
            make_the_readme_edit(work)
            dev.wait_for(expected, normalise, anywhere=True)
            continue
        assert command is not None
        if command.startswith("viksa dev "):
            dev = Background(shlex.split(command), work, env)
            background.append(dev)
            dev.wait_for(expected, normalise, anywhere=False)
            continue
        done = subprocess.run(
            shlex.split(command), cwd=work, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        actual = [normalise(line) for line in done.stdout.rstrip("\n").split("\n")]
        assert actual == expected, f"{command}: stderr was\n{done.stderr}"
        assert "Traceback" not in done.stderr
    assert dev is not None
    # Past the README: an invalid edit is reported with the validator's lines, and the
    # last good revision keeps serving.
    main_py = work / "my_agent" / "main.py"
    good = main_py.read_text()
    main_py.write_text(good.replace("async def greet", "def greet"))
    dev.wait_line_containing(": invalid; revision 2 keeps serving; fix and save")
    # Undoing the mistake is acknowledged: the folder is what revision 2 serves.
    main_py.write_text(good)
    dev.wait_line_containing("my_agent: unchanged (revision 2 is deployed); nothing to do")
    assert any(" VX211 " in line for line in dev.lines)
    done = subprocess.run(
        ["viksa", "call", "my_agent", "greet", "-i", "name=Ada"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(done.stdout) == {"greeting": "Hi, Ada."}
    # A valid edit with a warning (a package main.py imports but requirements does not
    # list) deploys, and the watcher shows the warning, as `viksa validate` would.
    main_py.write_text(good.replace("from typing", "import httpx  # noqa: F401\nfrom typing"))
    dev.wait_line_containing("my_agent: updated (revision 3), changed: files")
    assert any(" VX221 (warning) main.py imports 'httpx'" in line for line in dev.lines)
    assert dev.stop() in (0, 130)
    assert not any("Traceback" in line for line in dev.lines), "\n".join(dev.lines)


def viksa(
    *args: str, cwd: Path, env: dict[str, str], code: int = 0
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["viksa", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == code, f"viksa {' '.join(args)}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done


def test_login_profiles_and_the_resolution_order(
    tmp_path: Path, background: list[Background]
) -> None:
    env = clean_env(tmp_path)
    dev = Background(["viksa", "dev", "--memory", "--port", "0"], tmp_path, env)
    background.append(dev)
    dev.wait_line("export VIKSA_PROJECT_ID=")
    base_url = dev.wait_line("export VIKSA_BASE_URL=").partition("=")[2]
    banner_key = dev.wait_line("export VIKSA_API_KEY=").partition("=")[2]
    password = dev.wait_line("  password ").split()[-1]

    # No credentials anywhere yet: a message, exit 2.
    viksa("init", "hello", cwd=tmp_path, env=env)
    done = viksa("deploy", "hello", cwd=tmp_path, env=env, code=2)
    assert done.stderr.startswith("viksa deploy: no Viksa credentials: run `viksa login`")

    # Email and password: login creates an API key and stores it, never the password.
    done = viksa(
        "login",
        "--base-url",
        base_url,
        "--email",
        "dev@viksa.local",
        "--password",
        password,
        cwd=tmp_path,
        env=env,
    )
    assert done.stdout.startswith(f"Logged in to {base_url} (org org_")
    stored = Path(env["VIKSA_CONFIG_DIR"]) / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    profile = json.loads(stored.read_text())["profiles"]["default"]
    assert password not in stored.read_text()
    assert profile["base_url"] == base_url
    login_key = profile["api_key"]

    # The profile is enough for deploy and call.
    viksa("deploy", "hello", cwd=tmp_path, env=env)
    call = ("call", "hello", "greet", "-i", "name=Ada")
    assert json.loads(viksa(*call, cwd=tmp_path, env=env).stdout) == {"greeting": "Hello, Ada."}

    # VIKSA_* variables win over the profile...
    bad_env = {**env, "VIKSA_API_KEY": "vk_not_a_key", "VIKSA_BASE_URL": base_url}
    done = viksa(*call, cwd=tmp_path, env=bad_env, code=1)
    assert "the platform refused the credentials from the environment" in done.stderr
    assert "check VIKSA_API_KEY" in done.stderr
    assert "vk_not_a_key" not in done.stderr
    # ...and flags win over the variables.
    flagged = viksa(*call, "--api-key", banner_key, cwd=tmp_path, env=bad_env)
    assert json.loads(flagged.stdout) == {"greeting": "Hello, Ada."}

    # logout removes the profile and revokes the key login created.
    done = viksa("logout", cwd=tmp_path, env=env)
    assert "Logged out: profile 'default' removed" in done.stdout
    assert json.loads(stored.read_text())["profiles"] == {}
    revoked = {**env, "VIKSA_API_KEY": login_key, "VIKSA_BASE_URL": base_url}
    done = viksa(*call, cwd=tmp_path, env=revoked, code=1)
    assert "the platform refused the credentials" in done.stderr

    # An API key login stores that key; a bad one is refused with a message.
    done = viksa(
        "login", "--base-url", base_url, "--api-key", "vk_wrong", cwd=tmp_path, env=env, code=1
    )
    assert "vk_wrong" not in done.stderr + done.stdout
    viksa(
        "login",
        "--base-url",
        base_url,
        "--api-key",
        banner_key,
        "--profile",
        "mine",
        cwd=tmp_path,
        env=env,
    )
    viksa(*call, "--profile", "mine", cwd=tmp_path, env=env)
    # A stale profile (say, of an earlier `viksa dev --memory`) is named, with its fix.
    from viksa_ai.devtools._profiles import delete_profile, save_profile

    save_profile("stale", {"base_url": base_url, "api_key": "vk_stale"}, env)
    done = viksa(*call, "--profile", "stale", cwd=tmp_path, env=env, code=1)
    assert "the platform refused the credentials of profile 'stale'" in done.stderr
    assert "run `viksa login --profile stale`" in done.stderr
    delete_profile("stale", env)
    # login stores where VIKSA_PROFILE says, as deploy, call and logout read it.
    team = {**env, "VIKSA_PROFILE": "team"}
    done = viksa("login", "--base-url", base_url, "--api-key", banner_key, cwd=tmp_path, env=team)
    assert "Profile 'team' saved in " in done.stdout
    viksa(*call, cwd=tmp_path, env=team)
    viksa("logout", cwd=tmp_path, env=team)
    done = viksa(*call, "--profile", "other", cwd=tmp_path, env=env, code=2)
    # Piped, so JSON as every failure of viksa call (and viksa run) prints it.
    error = json.loads(done.stderr)["error"]
    assert error["kind"] == "usage"
    assert error["message"].startswith("no profile 'other' (profiles: mine)")
    done = viksa(*call, "--profile", "other", "--format", "text", cwd=tmp_path, env=env, code=2)
    assert done.stderr.startswith("viksa call: no profile 'other' (profiles: mine)")


def test_the_generated_test_prints_what_the_readme_shows(tmp_path: Path) -> None:
    # The walkthrough test compares stdout only; a person also sees stderr.
    env = clean_env(tmp_path)
    viksa("init", "my_agent", cwd=tmp_path, env=env)
    done = subprocess.run(
        ["pytest", "-q", "my_agent/test_agent.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stderr


def test_a_second_viksa_dev_on_the_same_data_file_is_refused(
    tmp_path: Path, background: list[Background]
) -> None:
    # A newcomer starts `viksa dev` again in another terminal (another --port, or --reset
    # to start clean): sharing the file would fail the first's running executions as
    # "interrupted" and change its password; --reset would delete its data.
    env = clean_env(tmp_path)
    first = Background(["viksa", "dev", "--port", "0"], tmp_path, env)
    background.append(first)
    api_key = first.wait_line("export VIKSA_API_KEY=").partition("=")[2]
    base_url = first.wait_line("export VIKSA_BASE_URL=").partition("=")[2]
    data = tmp_path / ".viksa" / "platform.db"
    for extra in ([], ["--reset"]):
        done = viksa("dev", "--port", "0", *extra, cwd=tmp_path, env=env, code=2)
        assert done.stdout == ""
        message = done.stderr.strip()
        assert message.startswith(
            f"viksa dev: the data file {Path('.viksa') / 'platform.db'} is in use by another "
            f"viksa dev (pid {first.process.pid})"
        ), message
        assert "--data" in message
        assert "--memory" in message
        assert data.is_file()
    # The first platform still serves, its key unchanged.
    me = viksa(
        *("call", "no_such_agent", "greet", "--base-url", base_url, "--api-key", api_key),
        cwd=tmp_path,
        env=env,
        code=2,
    )
    assert "no agent 'no_such_agent'" in me.stderr, me.stderr
    assert first.stop() in (0, 130)
    # Once the first has stopped, the file is free again.
    second = Background(["viksa", "dev", "--port", "0"], tmp_path, env)
    background.append(second)
    second.wait_line("export VIKSA_PROJECT_ID=")


def test_the_help_first_hour_is_the_readme_walkthrough(tmp_path: Path) -> None:
    # `viksa --help` showed `viksa dev --watch my_agent`: without --save-profile, the
    # `viksa deploy` it lists next, in another terminal, has no credentials.
    done = viksa("--help", cwd=tmp_path, env=clean_env(tmp_path))
    text = done.stdout
    block = text[text.index("first hour:\n") :].split("\n\n")[0].splitlines()[1:]
    # A command's line starts with `viksa`; a longer one's description goes on below it.
    shown = [re.split(r"\s{2,}", line.strip())[0] for line in block if "  viksa " in line]
    readme = [command for _, command, _ in walkthrough() if command is not None]
    assert len(shown) == 6
    assert shown == [c for c in readme if c in shown]  # each one as the README types it
