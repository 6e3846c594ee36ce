"""Agent code is untrusted: its environment, the sandbox, resource limits, the start deadline.

The red-team agent (``fixtures/red_team_main.py``) tries to read the platform's data
file, the parent's environment and ``/proc``, and to write outside its directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools.runner import (
    AgentLoadError,
    AgentWorker,
    CpuLimitError,
    DiskLimitError,
    EndpointError,
    EndpointTimeoutError,
    Limits,
    MemoryLimitError,
    OutputLimitError,
    ProcessLimitError,
    ResultLimitError,
    WorkerCrashedError,
    _sandbox_init,
    _tasks,
    remove_stale_workdirs,
    run_endpoint,
    sandbox_available,
    sandbox_status,
)
from viksa_ai.devtools.runner._environ import SYSTEM_PATH, import_roots
from viksa_ai.devtools.runner._sandbox import SANDBOX_UID, SANDBOX_UID_ENV, sandbox_backend
from viksa_ai.devtools.runner._unshare import unshare_tool
from viksa_ai.devtools.runner._workdir import WORKDIR_PREFIX

FIXTURES = Path(__file__).parent / "fixtures"
RED_TEAM = (FIXTURES / "red_team_main.py").read_text()
SENTINEL_VAR = "VIKSA_TEST_SERVER_SECRET"
LINUX = sys.platform.startswith("linux")
needs_sandbox = pytest.mark.skipif(
    not sandbox_available(),
    reason="no sandbox here: " + sandbox_status()[1],
)


def agent(source: str, *names: str, timeout: int = 30) -> dict[str, Any]:
    """A manifest whose main.py is ``source``, with one endpoint per name in ``names``."""
    return {
        "agent_name": "Probe",
        "agent_alias": "probe",
        "agent_description": "A test agent",
        "files": [{"name": "main.py", "content": source, "mime_type": "python"}],
        "inputs": [],
        "outputs": [],
        "agent_endpoints": [
            {
                "name": name,
                "module": "main",
                "description": name,
                "inputs": [],
                "execution_config": {"timeout_seconds": timeout},
            }
            for name in names
        ],
    }


def code(body: str) -> str:
    """main.py with the runtime imported and ``body`` after it."""
    return "from viksa_ai.runtime import mcp_endpoint\n" + textwrap.dedent(body)


ENVIRONMENT = code(
    """
    import os

    @mcp_endpoint(description="env")
    async def env(payload):
        return {"env": dict(os.environ), "cwd": os.getcwd()}
    """
)


# --- item 1: the environment a child starts with ---------------------------------------


@pytest.mark.parametrize("mode", ["unsandboxed", "bwrap", "unshare"])
def test_the_child_gets_only_the_documented_environment(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = mode != "unsandboxed"
    if mode == "unshare":
        monkeypatch.setenv("VIKSA_BWRAP", "/nonexistent/bwrap")
    if sandbox and os.path.basename(sandbox_backend() or "") != mode:
        pytest.skip(f"no {mode} sandbox here: " + sandbox_status()[1])
    monkeypatch.setenv(SENTINEL_VAR, "s3cr3t-of-the-server")
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere")
    value = run_endpoint(
        agent(ENVIRONMENT, "env"), "env", secrets={"svc.key": "k"}, sandbox=sandbox
    ).value
    env, cwd = value["env"], value["cwd"]

    assert env.pop("svc.key") == "k"
    assert env.pop("VIKSA_AUTH_ENABLED_METHODS") == "svc"
    assert env.pop("VIKSA_AUTH_CONFIGURED_METHODS") == "svc"
    assert env == {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), *SYSTEM_PATH]),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HOME": cwd,
        "PYTHONPATH": os.pathsep.join(import_roots()),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


# --- item 1: the sandbox, red-teamed ----------------------------------------------------


def python_dirs_under_home() -> set[str]:
    """The first path components of the Python installation's directories in our home."""
    home = os.path.realpath(Path.home())
    found = set()
    for entry in (sys.prefix, sys.base_prefix, *sys.path):
        real = os.path.realpath(entry) if entry else ""
        if real.startswith(home + os.sep):
            found.add(Path(real).relative_to(home).parts[0])
    return found


def red_team_payload(tmp_path: Path, data_file: Path) -> dict[str, Any]:
    other = tmp_path / f"{WORKDIR_PREFIX}another-agent"
    other.mkdir()
    (other / "main.py").write_text("# another agent's code\n")
    return {
        "sentinel": os.environ[SENTINEL_VAR],
        "data_file": str(data_file),
        "home": str(Path.home()),
        "other_dirs": [str(other), str(tmp_path)],
        "write_targets": [str(tmp_path / "owned.txt"), str(Path.cwd() / "owned-by-agent.txt")],
        "pids": [os.getpid(), os.getppid()],
    }


def assert_got_nothing(found: dict[str, Any], tmp_path: Path) -> None:
    assert found["sentinel_in_env"] is False
    assert found["sentinel_in_proc_environ"] == []
    assert found["data_file_reads"] == []
    # The home is not shown; only the path down to a Python installation inside it is.
    assert set(found["home_listing"] or []) <= python_dirs_under_home()
    assert found["other_dirs"] == []
    # The sandbox's /tmp is private: a checkout under /tmp (a CI clone) has the parents
    # of its venv there as empty directories, so such a write lands in that private
    # /tmp. It must never reach the host; any other write must fail outright.
    private = [w for w in found["writes_outside"] if Path(w).is_relative_to("/tmp")]
    assert [w for w in found["writes_outside"] if w not in private] == []
    assert [w for w in private if Path(w).exists()] == []
    assert found["foreign_pids"] == []
    assert not (tmp_path / "owned.txt").exists()
    assert not (Path.cwd() / "owned-by-agent.txt").exists()


@pytest.fixture(params=["bwrap", "unshare"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each sandbox: bubblewrap, and util-linux unshare as used where bwrap is missing."""
    if request.param == "unshare":
        monkeypatch.setenv("VIKSA_BWRAP", "/nonexistent/bwrap")
    if os.path.basename(sandbox_backend() or "") != request.param:
        pytest.skip(f"no {request.param} sandbox here: {sandbox_status()[1]}")
    return str(request.param)


def test_without_bubblewrap_unshare_sandboxes_agents_and_the_status_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIKSA_BWRAP", "/nonexistent/bwrap")
    if unshare_tool() is None:
        pytest.skip("util-linux unshare, setpriv or bash is missing here")
    sandboxed, line = sandbox_status()
    if not sandboxed:
        pytest.skip(f"unshare cannot make the namespaces here: {line}")
    assert line.startswith("on (")
    assert "unshare, as bubblewrap (bwrap) is not installed" in line
    with AgentWorker(agent(ENVIRONMENT, "env")) as warm:
        assert warm.sandboxed
        seen = warm.call("env").value
    # The same environment as under bwrap: exactly the documented variables.
    assert seen["env"]["HOME"] == seen["cwd"]
    assert "PWD" not in seen["env"]


def test_the_red_team_agent_gets_nothing_through_the_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    monkeypatch.setenv(SENTINEL_VAR, "s3cr3t-of-the-server")
    data_file = tmp_path / "data" / "platform.db"
    data_file.parent.mkdir()
    data_file.write_text("signing_key=...")
    found = run_endpoint(
        agent(RED_TEAM, "attack"), "attack", red_team_payload(tmp_path, data_file)
    ).value
    assert_got_nothing(found, tmp_path)


@needs_sandbox
def test_a_directory_to_hide_is_masked_inside_one_that_is_shown(tmp_path: Path) -> None:
    # A data directory inside a directory on sys.path (shown read-only) stays unseen.
    shown = tmp_path / "shown"
    data = shown / "data"
    data.mkdir(parents=True)
    (data / "platform.db").write_text("secret state")
    (shown / "visible.txt").write_text("fine")
    source = code(
        """
        import os

        @mcp_endpoint(description="look")
        async def look(payload):
            return {p: os.path.exists(p) for p in payload["paths"]}
        """
    )
    paths = [str(shown / "visible.txt"), str(data / "platform.db")]
    sys.path.append(str(shown))
    try:
        with AgentWorker(agent(source, "look"), hidden_paths=[data]) as warm:
            seen = warm.call("look", {"paths": paths}).value
    finally:
        sys.path.remove(str(shown))
    # /tmp is private in the sandbox, so tmp_path itself is shown only through sys.path.
    assert seen == {paths[0]: True, paths[1]: False}


def test_no_sandbox_runs_the_agent_as_this_user_with_our_files(tmp_path: Path) -> None:
    # The opt-out is real: without the sandbox the agent sees the file system as we do.
    source = code(
        """
        import os

        @mcp_endpoint(description="look")
        async def look(payload):
            return os.path.exists(payload["path"])
        """
    )
    (tmp_path / "x").write_text("x")
    manifest = agent(source, "look")
    assert run_endpoint(manifest, "look", {"path": str(tmp_path / "x")}, sandbox=False).value


def test_sandbox_status_says_why_agents_run_unsandboxed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert sandbox_status(False) == (
        False,
        "off (--no-sandbox): agents run unsandboxed, as this user",
    )
    monkeypatch.setenv("VIKSA_BWRAP", "/nonexistent/bwrap")
    monkeypatch.setenv("VIKSA_UNSHARE", "/nonexistent/unshare")
    sandboxed, line = sandbox_status(True)
    assert not sandboxed
    assert line == (
        "none available (bubblewrap (bwrap) is not installed): agents run unsandboxed, as this user"
    )
    assert not sandbox_available()
    with AgentWorker(agent(ENVIRONMENT, "env")) as warm:
        assert not warm.sandboxed
        assert warm.call("env").value["env"]["HOME"] == warm.call("env").value["cwd"]


# --- item 7: resource limits ------------------------------------------------------------


LIMITED = code(
    """
    @mcp_endpoint(description="allocate")
    async def allocate(payload):
        block = bytearray(payload["mib"] * 1024 * 1024)
        return len(block)

    @mcp_endpoint(description="spin")
    async def spin(payload):
        while True:
            pass

    @mcp_endpoint(description="shout")
    async def shout(payload):
        for _ in range(payload["lines"]):
            print("x" * 1023)
        return "done"

    @mcp_endpoint(description="big")
    async def big(payload):
        return "y" * payload["size"]
    """
)


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_AS is POSIX")
def test_memory_past_the_limit_ends_the_call_with_memory_limit() -> None:
    limits = Limits(memory_bytes=512 * 1024 * 1024)
    manifest = agent(LIMITED, "allocate", "spin", "shout", "big")
    with AgentWorker(manifest, limits=limits) as warm:
        assert warm.call("allocate", {"mib": 16}).value == 16 * 1024 * 1024
        with pytest.raises(MemoryLimitError) as caught:
            warm.call("allocate", {"mib": 2048})
        # The worker survives: the allocation failed, nothing else did.
        assert warm.call("allocate", {"mib": 1}).value == 1024 * 1024
    error = caught.value
    assert (error.kind, error.exit_code, error.limit) == ("memory_limit", 8, 512 * 1024 * 1024)
    assert "memory_bytes" in error.message


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_CPU is POSIX")
def test_cpu_time_past_the_limit_ends_the_call_with_cpu_limit() -> None:
    manifest = agent(LIMITED, "allocate", "spin", "shout", "big")
    with AgentWorker(manifest, limits=Limits(cpu_seconds=1)) as warm:
        with pytest.raises(CpuLimitError) as caught:
            warm.call("spin")
        # A new child serves the next call.
        assert warm.call("big", {"size": 3}).value == "yyy"
    assert (caught.value.kind, caught.value.limit) == ("cpu_limit", 1)


def test_captured_output_past_the_limit_ends_the_call_with_output_limit() -> None:
    manifest = agent(LIMITED, "allocate", "spin", "shout", "big")
    limits = Limits(output_bytes=64 * 1024)
    with AgentWorker(manifest, capture_output=True, limits=limits) as warm:
        assert warm.call("shout", {"lines": 10}).value == "done"
        with pytest.raises(OutputLimitError) as caught:
            warm.call("shout", {"lines": 10_000})
    error = caught.value
    assert error.kind == "output_limit"
    assert error.output is not None
    assert len(error.output.encode()) <= 64 * 1024


def test_a_result_past_the_limit_ends_the_call_with_result_limit() -> None:
    manifest = agent(LIMITED, "allocate", "spin", "shout", "big")
    with AgentWorker(manifest, limits=Limits(result_bytes=1000)) as warm:
        assert warm.call("big", {"size": 900}).value == "y" * 900
        with pytest.raises(ResultLimitError) as caught:
            warm.call("big", {"size": 5000})
    assert caught.value.kind == "result_limit"
    assert caught.value.to_dict()["limit"] == 1000


def test_limits_have_documented_defaults_and_refuse_nonsense() -> None:
    assert Limits() == Limits(
        memory_bytes=1024**3,
        cpu_seconds=300,
        output_bytes=1024**2,
        result_bytes=16 * 1024**2,
        processes=128,
        disk_bytes=1024**3,
        open_files=1024,
    )
    for bad in (0, -1, True):
        with pytest.raises(ValueError, match="positive"):
            Limits(memory_bytes=bad)
        with pytest.raises(ValueError, match="positive"):
            Limits(processes=bad)
        with pytest.raises(ValueError, match="positive"):
            Limits(disk_bytes=bad)
        with pytest.raises(ValueError, match="positive"):
            Limits(open_files=bad)


# --- item 9: a hang at import -----------------------------------------------------------


def test_an_import_that_hangs_ends_at_the_calls_timeout_as_a_timeout() -> None:
    source = code(
        """
        import time
        time.sleep(600)

        @mcp_endpoint(description="never reached")
        async def never(payload):
            return None
        """
    )
    started = time.monotonic()
    with pytest.raises(EndpointTimeoutError) as caught:
        run_endpoint(agent(source, "never", timeout=1), "never")
    # Not invalid_agent after the 60 s start timeout: the call's own 1 s.
    assert time.monotonic() - started < 30
    error = caught.value
    assert (error.kind, error.stage, error.timeout) == ("timeout", "import", 1)
    assert "import" in error.message


# --- item 12: working directories a killed runner left -----------------------------------


def owner_dir(tmp: Path, name: str, owner: str | None) -> Path:
    root = tmp / f"{WORKDIR_PREFIX}{name}"
    (root / "work").mkdir(parents=True)
    (root / "work" / "main.py").write_text("agent code")
    if owner is not None:
        (root / "owner").write_text(owner)
    return root


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_directories_of_dead_owners_are_removed(tmp_path: Path) -> None:
    dead = owner_dir(tmp_path, "dead", f"{dead_pid()} 1\n")
    alive = owner_dir(tmp_path, "alive", f"{os.getpid()} \n")
    reused = owner_dir(tmp_path, "reused", f"{os.getpid()} 1\n")  # same pid, older process
    unmarked = owner_dir(tmp_path, "unmarked", None)
    foreign = tmp_path / "someone-else"
    foreign.mkdir()
    (foreign / "owner").write_text(f"{dead_pid()} 1\n")

    assert remove_stale_workdirs(tmp_path) == 2 if LINUX else 1
    assert not dead.exists()
    assert alive.exists()
    assert unmarked.exists()
    assert foreign.exists()
    if LINUX:
        assert not reused.exists()


_KILLED_RUNNER = """
import sys, time
from viksa_ai.devtools.runner import AgentWorker
worker = AgentWorker(sys.argv[1], sandbox=False)
worker.start()
print(worker._worker._workdir.root, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_a_runner_killed_with_sigkill_leaves_a_directory_the_next_start_removes() -> None:
    probe = Path(__file__).parent / "fixtures" / "runner_probe"
    runner = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUNNER, str(probe)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert runner.stdout is not None
        root = Path(runner.stdout.readline().strip())
        assert (root / "work" / "main.py").exists()
    finally:
        runner.kill()
        runner.wait()
        if runner.stdout is not None:
            runner.stdout.close()
    assert root.exists()  # SIGKILL: nothing cleaned up
    for _ in range(100):  # the child notices its parent is gone within half a second
        remove_stale_workdirs()
        if not root.exists():
            break
        time.sleep(0.05)
    assert not root.exists()


# --- limits agent code cannot lift (review1) ----------------------------------------------

DEFIANT = code(
    """
    import gc, io, json, resource, struct, sys

    @mcp_endpoint(description="lift the memory cap, then allocate past it")
    async def lift(payload):
        try:
            unlimited = resource.RLIM_INFINITY
            resource.setrlimit(resource.RLIMIT_AS, (unlimited, unlimited))
        except (ValueError, OSError):
            pass  # refused: the hard limit is the cap
        block = bytearray(payload["mib"] * 1024 * 1024)
        return len(block)

    @mcp_endpoint(description="switch off the child's result check, then return a lot")
    async def unchecked(payload):
        sys.modules["__main__"]._check_result_size = lambda *args: None
        return "y" * payload["size"]

    @mcp_endpoint(description="raise an exception with a huge message")
    async def shouty_error(payload):
        raise ValueError("e" * payload["size"])
    """
)


@needs_sandbox
def test_agent_code_cannot_lift_its_memory_cap() -> None:
    limits = Limits(memory_bytes=512 * 1024 * 1024)
    with AgentWorker(agent(DEFIANT, "lift"), limits=limits) as warm:
        with pytest.raises(MemoryLimitError):
            warm.call("lift", {"mib": 1024})
        assert warm.call("lift", {"mib": 1}).value == 1024 * 1024


def test_a_reply_past_the_limits_is_refused_by_the_runner_itself() -> None:
    # The child's own check runs inside the agent's process: the runner bounds the reply.
    limits = Limits(result_bytes=1000, output_bytes=1000)
    with AgentWorker(agent(DEFIANT, "unchecked"), limits=limits) as warm:
        with pytest.raises(ResultLimitError) as caught:
            warm.call("unchecked", {"size": 20 * 1024 * 1024})
        assert caught.value.limit == 1000
        # A new child serves the next call.
        assert warm.call("unchecked", {"size": 10}).value == "y" * 10


def test_a_huge_exception_message_is_cut_not_sent_whole() -> None:
    limits = Limits(result_bytes=1000, output_bytes=1000)
    with (
        AgentWorker(agent(DEFIANT, "shouty_error"), limits=limits) as warm,
        pytest.raises(EndpointError) as caught,
    ):
        warm.call("shouty_error", {"size": 20 * 1024 * 1024})
    assert caught.value.exception_type == "ValueError"
    assert len(caught.value.message) < 100 * 1024
    assert len(caught.value.traceback or "") < 100 * 1024


STDERR_THIEF = code(
    """
    import os, sys

    @mcp_endpoint(description="read and truncate what the runner's stderr is")
    async def steal(payload):
        found = {}
        try:
            # Non-blocking: a pipe (what the runner gives) has nothing to read.
            log = os.open("/proc/self/fd/2", os.O_RDONLY | os.O_NONBLOCK)
            try:
                found["read"] = os.read(log, 1 << 16).decode("utf-8", "replace")
            finally:
                os.close(log)
        except OSError:
            found["read"] = None
        try:
            os.ftruncate(2, 0)
            found["truncated"] = True
        except OSError:
            found["truncated"] = False
        print("agent says hi", file=sys.stderr, flush=True)
        return found
    """
)


@pytest.mark.skipif(not LINUX, reason="/proc/self/fd is Linux")
@pytest.mark.parametrize("sandbox", [False, True], ids=["unsandboxed", "sandboxed"])
def test_agent_code_cannot_read_or_truncate_the_runners_stderr(
    tmp_path: Path, sandbox: bool
) -> None:
    if sandbox and not sandbox_available():
        pytest.skip("no sandbox here: " + sandbox_status()[1])
    log_path = tmp_path / "server.log"
    log_path.write_text("SERVER LOG token=not-for-agents\n")
    with (
        open(log_path, "a") as log,
        AgentWorker(agent(STDERR_THIEF, "steal"), stderr=log, sandbox=sandbox) as warm,
    ):
        found = warm.call("steal").value
    assert "not-for-agents" not in (found["read"] or "")
    assert found["truncated"] is False
    # What the agent writes to stderr still reaches the runner's stderr, after the log.
    assert log_path.read_text() == "SERVER LOG token=not-for-agents\nagent says hi\n"


@needs_sandbox
def test_a_directory_to_hide_that_is_itself_on_sys_path_is_masked(tmp_path: Path) -> None:
    # e.g. PYTHONPATH=/project and the platform's data file in /project itself.
    data = tmp_path / "project"
    data.mkdir()
    (data / "platform.db").write_text("secret state")
    source = code(
        """
        import os

        @mcp_endpoint(description="look")
        async def look(payload):
            return os.path.exists(payload["path"])
        """
    )
    sys.path.append(str(data))
    try:
        with AgentWorker(agent(source, "look"), hidden_paths=[data]) as warm:
            seen = warm.call("look", {"path": str(data / "platform.db")}).value
    finally:
        sys.path.remove(str(data))
    assert seen is False


FILLER = code(
    """
    import os

    @mcp_endpoint(description="write MiB into a file, as much as it can")
    async def fill(payload):
        written = 0
        try:
            with open(payload["path"], "wb") as file:
                for _ in range(payload["mib"]):
                    file.write(b"x" * (1 << 20))
                    file.flush()
                    written += 1
        except OSError:
            pass
        return written
    """
)


@needs_sandbox
def test_the_private_tmp_and_the_masks_are_bounded_by_the_memory_limit(tmp_path: Path) -> None:
    # A tmpfs lives in the server's memory, outside the child's address-space limit.
    hidden = tmp_path / "shown" / "data"
    hidden.mkdir(parents=True)
    sys.path.append(str(tmp_path / "shown"))
    limits = Limits(memory_bytes=256 * 1024 * 1024)
    try:
        with AgentWorker(agent(FILLER, "fill"), limits=limits, hidden_paths=[hidden]) as warm:
            in_tmp = warm.call("fill", {"path": "/tmp/fill", "mib": 384}).value
            in_mask = warm.call("fill", {"path": str(hidden / "fill"), "mib": 1}).value
    finally:
        sys.path.remove(str(tmp_path / "shown"))
    assert in_tmp <= 256
    assert in_mask == 0


WRITER = code(
    """
    import os

    @mcp_endpoint(description="write files of MiB into a directory")
    async def write(payload):
        for i in range(payload["files"]):
            with open(os.path.join(payload["dir"], f"f{i}"), "wb") as file:
                for _ in range(payload["mib"]):
                    file.write(b"x" * (1 << 20))
                    file.flush()
        return "written"
    """
)
MIB = 1024 * 1024


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("sandbox", [False, True], ids=["unsandboxed", "sandboxed"])
def test_a_file_past_the_disk_limit_ends_the_call_with_disk_limit(sandbox: bool) -> None:
    if sandbox and not sandbox_available():
        pytest.skip("no sandbox here: " + sandbox_status()[1])
    limits = Limits(disk_bytes=8 * MIB)
    with AgentWorker(agent(WRITER, "write"), sandbox=sandbox, limits=limits) as warm:
        assert warm.call("write", {"dir": ".", "files": 1, "mib": 4}).value == "written"
        with pytest.raises(DiskLimitError) as caught:
            warm.call("write", {"dir": ".", "files": 1, "mib": 16})
        # The write failed, nothing else: the worker keeps serving.
        assert warm.call("write", {"dir": ".", "files": 1, "mib": 1}).value == "written"
    error = caught.value
    assert (error.kind, error.exit_code, error.limit) == ("disk_limit", 8, 8 * MIB)
    assert "Limits(disk_bytes=...)" in error.message


@needs_sandbox
@pytest.mark.parametrize("where", ["working dir", "/tmp", "/dev/shm", "/dev"])
def test_many_files_past_the_disk_limit_end_the_call_with_disk_limit(where: str) -> None:
    # Each file is under the limit; together they fill the size-capped tmpfs (the working
    # directory's new files, the private /tmp and /dev/shm live in the server's memory);
    # /dev itself is read-only.
    directory = "." if where == "working dir" else where
    if where == "/dev":
        with AgentWorker(agent(WRITER, "write")) as warm, pytest.raises(EndpointError) as denied:
            warm.call("write", {"dir": where, "files": 1, "mib": 1})
        assert denied.value.exception_type == "OSError"
        assert "Read-only file system" in denied.value.message
        return
    limits = Limits(disk_bytes=8 * MIB)
    with AgentWorker(agent(WRITER, "write"), limits=limits) as warm:
        with pytest.raises(DiskLimitError) as caught:
            warm.call("write", {"dir": directory, "files": 6, "mib": 4})
        # The agent's own files are still there and served.
        assert warm.call("write", {"dir": directory, "files": 1, "mib": 1}).value == "written"
    assert caught.value.kind == "disk_limit"


THREADS = code(
    """
    import threading
    import time

    @mcp_endpoint(description="start threads that sleep")
    async def threads(payload):
        for _ in range(payload["count"]):
            threading.Thread(target=time.sleep, args=(10,), daemon=True).start()
        time.sleep(1)
        return payload["count"]
    """
)


@pytest.mark.skipif(not LINUX, reason="the process limit is Linux's")
@pytest.mark.parametrize("mechanism", ["cgroup", "proc"])
def test_threads_count_toward_the_process_limit(
    mechanism: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a cgroup the 17th thread cannot start and the agent's RuntimeError escapes:
    # still the process limit, not an endpoint error. Counting /proc, the tree is found
    # over the limit while the call runs (or when it fails).
    if mechanism == "cgroup" and _tasks.cgroup_parent() is None:
        pytest.skip("no writable pids cgroup here")
    if mechanism == "proc":
        monkeypatch.setattr(_tasks, "cgroup_parent", lambda: None)
    # No address-space cap: 64 thread stacks would not fit in it.
    limits = Limits(processes=16, memory_bytes=None)
    with AgentWorker(agent(THREADS, "threads"), limits=limits) as warm:
        assert warm.call("threads", {"count": 4}).value == 4
        with pytest.raises(ProcessLimitError) as caught:
            warm.call("threads", {"count": 64})
    assert (caught.value.kind, caught.value.limit) == ("process_limit", 16)


FLOOD = code(
    """
    import sys

    @mcp_endpoint(description="write a lot to stderr")
    async def flood(payload):
        sys.stderr.write("z" * payload["size"])
        sys.stderr.flush()
        return "done"
    """
)


@pytest.mark.skipif(os.name != "posix", reason="a full pipe as stderr")
def test_a_stderr_nobody_reads_stalls_only_the_agent_not_the_runner() -> None:
    # A server whose own stderr is a full pipe: forwarding the agent's output must not
    # block the runner's event loop (the call's timeout still ends the call).
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write_end, b"x" * 65536)
    os.set_blocking(write_end, True)
    outcome: list[BaseException | str] = []

    def call() -> None:
        try:
            with AgentWorker(agent(FLOOD, "flood"), stderr=write_end) as warm:
                outcome.append(warm.call("flood", {"size": 1 << 20}, timeout=3).value)
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    caller.join(60)
    try:
        assert not caller.is_alive(), "the runner hung on a full stderr"
        assert len(outcome) == 1
        assert isinstance(outcome[0], EndpointTimeoutError)
    finally:
        os.close(read_end)  # the copy (or a hung write) now fails instead of waiting
        caller.join(10)
        # The copy still holds write_end's number: closing it first would let the copy
        # write into whatever the next test opens under that number.
        for copy in threading.enumerate():
            if copy.name == "viksa-agent-stderr":
                copy.join(30)
        os.close(write_end)


# --- hostile agents against the sandbox itself (both backends) --------------------------

HOST_WRITES = code(
    """
    import os

    @mcp_endpoint(description="what the agent can open for writing or read")
    async def probe(payload):
        writable, readable = [], []
        for path in payload["write"]:
            try:
                # Opened, never written: a global sysctl must not change in a test.
                os.close(os.open(path, os.O_WRONLY))
                writable.append(path)
            except OSError:
                pass
        for path in payload["read"]:
            try:
                os.listdir(path)
                readable.append(path)
            except OSError:
                pass
        return {"writable": writable, "readable": readable}
    """
)


@pytest.mark.skipif(not LINUX, reason="/proc is Linux's")
def test_agent_code_cannot_write_kernel_settings_or_read_host_keys(backend: str) -> None:
    # The runner is often root (a container); the sandbox maps that uid onto itself, and
    # /proc/sys, /proc/sysrq-trigger... check the owner only, not a capability: a
    # writable /proc/sys/kernel/core_pattern is root on the host. /etc/ssl is shown, its
    # private keys must not be.
    write = [
        "/proc/sys/kernel/core_pattern",
        "/proc/sys/kernel/modprobe",
        "/proc/sys/vm/drop_caches",
        "/proc/sys/net/ipv4/ip_forward",
        "/proc/sysrq-trigger",
    ]
    write += [str(p) for p in Path("/proc/irq").glob("*/smp_affinity")][:2]
    found = run_endpoint(
        agent(HOST_WRITES, "probe"), "probe", {"write": write, "read": ["/etc/ssl/private"]}
    ).value
    assert found["writable"] == []
    if Path("/etc/ssl/private").is_dir():
        assert found["readable"] == ["/etc/ssl/private"]  # the mask: there, and empty
        assert run_endpoint(agent(LIST_DIR, "ls"), "ls", {"path": "/etc/ssl/private"}).value == []


LIST_DIR = code(
    """
    import os

    @mcp_endpoint(description="list a directory")
    async def ls(payload):
        return sorted(os.listdir(payload["path"]))
    """
)


OWN_FILES = code(
    """
    import os

    @mcp_endpoint(description="append to the agent's own files")
    async def tamper(payload):
        failed = []
        for name in ("main.py", "ViksaAI.py"):
            try:
                with open(name, "ab") as file:
                    file.write(b"x" * payload["bytes"])
            except OSError as error:
                failed.append(error.errno)
        return {"cwd": os.getcwd(), "failed": failed}
    """
)


def test_agent_code_cannot_change_its_own_files_on_the_host(backend: str) -> None:
    # The agent's files are bound into its tmpfs working directory from the host: written
    # through, they were host disk outside that tmpfs's cap (disk_bytes per file, files
    # times over), and a path on the host whose content the agent chose.
    manifest = agent(OWN_FILES, "tamper")
    limits = Limits(disk_bytes=4 * MIB)
    with AgentWorker(manifest, limits=limits) as warm:
        seen = warm.call("tamper", {"bytes": 3 * MIB}).value
        host = Path(seen["cwd"])
        assert len(seen["failed"]) == 2
        assert (host / "main.py").read_text() == OWN_FILES
        assert (host / "ViksaAI.py").stat().st_size < MIB
        # The module still imports: a new child (after a kill) starts from the same files.
        assert warm.call("tamper", {"bytes": 1}).value["failed"] == seen["failed"]


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_AS is POSIX")
def test_threads_past_the_memory_limit_end_the_call_with_memory_limit() -> None:
    # Each thread's stack is address space: under the default 1 GiB a thread bomb stops
    # near 100 threads, before the process limit, with CPython's RuntimeError "can't
    # start new thread", not a MemoryError. It was reported as the agent's own error.
    limits = Limits(memory_bytes=256 * MIB, processes=None)
    with AgentWorker(agent(THREADS, "threads"), limits=limits) as warm:
        assert warm.call("threads", {"count": 2}).value == 2
        with pytest.raises(MemoryLimitError) as caught:
            warm.call("threads", {"count": 300})
    assert (caught.value.kind, caught.value.limit) == ("memory_limit", 256 * MIB)
    assert "can't start new thread" in caught.value.message
    assert "Limits(memory_bytes=...)" in caught.value.message


EMPTY_FILES = code(
    """
    import os

    @mcp_endpoint(description="create empty files")
    async def touch(payload):
        folder = os.path.join(payload["dir"], "many")
        os.makedirs(folder, exist_ok=True)
        for n in range(payload["count"]):
            os.close(os.open(os.path.join(folder, f"{n:08d}"), os.O_CREAT | os.O_WRONLY))
        return payload["count"]
    """
)


@pytest.mark.parametrize("where", ["working dir", "/tmp", "/dev/shm"])
def test_many_empty_files_end_the_call_with_disk_limit(backend: str, where: str) -> None:
    # A tmpfs's size bounds data, not files: an empty file costs ~1 KiB of kernel memory
    # (100,000 cost 124 MiB here under an 8 MiB disk limit), and a tmpfs takes half the
    # RAM's pages by default. bwrap's --tmpfs takes no nr_inodes: the sandbox's trusted
    # first step remounts each tmpfs with one.
    directory = "." if where == "working dir" else where
    elsewhere = "/tmp" if where == "/dev/shm" else "/dev/shm"
    with AgentWorker(agent(EMPTY_FILES, "touch"), limits=Limits(disk_bytes=8 * MIB)) as warm:
        with pytest.raises(DiskLimitError):
            warm.call("touch", {"dir": directory, "count": 20_000})
        # The call failed, the worker did not.
        assert warm.call("touch", {"dir": elsewhere, "count": 10}).value == 10


VIEW = code(
    """
    import os

    @mcp_endpoint(description="what the sandbox looks like from inside")
    async def view(payload):
        status = dict(
            line.split(":", 1) for line in open("/proc/self/status").read().splitlines()
        )
        writable = []
        for line in open("/proc/self/mountinfo").read().splitlines():
            fields = line.split()
            if "rw" in fields[5].split(","):
                writable.append(fields[4].replace(os.getcwd(), "<work>"))
        main, side = os.openpty()  # a private devpts in both
        os.close(main)
        os.close(side)
        return {
            "top": sorted(os.listdir("/")),
            "dev": sorted(set(os.listdir("/dev")) - {"core"}),  # bwrap's link to kcore
            "caps": {k: status[k].strip() for k in status if k.startswith("Cap")},
            "no_new_privs": status["NoNewPrivs"].strip(),
            "writable": sorted(writable),
        }
    """
)


@pytest.mark.skipif(not LINUX, reason="the sandboxes are Linux's")
def test_the_unshare_sandbox_shows_what_bwrap_shows_and_drops_every_capability(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    views = {}
    for backend in ("bwrap", "unshare"):
        if backend == "unshare":
            monkeypatch.setenv("VIKSA_BWRAP", "/nonexistent/bwrap")
        if os.path.basename(sandbox_backend() or "") != backend:
            pytest.skip(f"no {backend} sandbox here: {sandbox_status()[1]}")
        views[backend] = run_endpoint(agent(VIEW, "view"), "view").value
    for view in views.values():
        assert set(view["caps"].values()) == {"0000000000000000"}, view["caps"]
        assert view["no_new_privs"] == "1"
    assert views["unshare"]["top"] == views["bwrap"]["top"]
    assert views["unshare"]["dev"] == views["bwrap"]["dev"]
    assert views["unshare"]["writable"] == views["bwrap"]["writable"]


MAPPED_FILL = code(
    """
    import mmap

    @mcp_endpoint(description="write files of MiB in /tmp through mmap")
    async def fill(payload):
        size = payload["mib"] << 20
        for i in range(payload["files"]):
            with open(f"/tmp/mapped{i}", "w+b") as file:
                file.truncate(size)  # a hole: no page of the tmpfs is taken yet
                with mmap.mmap(file.fileno(), size) as pages:
                    for offset in range(0, size, mmap.PAGESIZE):
                        pages[offset] = 1
        return "written"
    """
)


def test_a_write_through_mmap_into_a_full_tmpfs_ends_the_call_with_disk_limit(
    backend: str,
) -> None:
    # A page the full tmpfs cannot give kills the worker with SIGBUS: no write() to fail
    # with ENOSPC. It was reported as a crash of the worker.
    with AgentWorker(agent(MAPPED_FILL, "fill"), limits=Limits(disk_bytes=8 * MIB)) as warm:
        assert warm.call("fill", {"files": 1, "mib": 4}).value == "written"
        with pytest.raises(DiskLimitError) as caught:
            warm.call("fill", {"files": 3, "mib": 4})
        # A new worker serves the next call.
        assert warm.call("fill", {"files": 1, "mib": 1}).value == "written"
    error = caught.value
    assert (error.kind, error.exit_code, error.limit) == ("disk_limit", 8, 8 * MIB)
    assert "SIGBUS" in error.message
    assert "mmap" in error.message
    assert "Limits(disk_bytes=...)" in error.message


IDENTITY = code(
    """
    import os

    @mcp_endpoint(description="who the agent runs as, and what it can read and write")
    async def identity(payload):
        try:
            with open(payload["secret"], encoding="utf-8") as file:
                secret = file.read()
        except PermissionError:
            secret = None
        written = []
        for folder in payload.get("folders", (".", "/tmp", "/dev/shm")):
            with open(os.path.join(folder, "note.txt"), "w", encoding="utf-8") as file:
                file.write("mine")
            written.append(folder)
        with open("main.py", encoding="utf-8") as file:
            own = len(file.read())
        return {
            "ids": [os.getuid(), os.geteuid(), os.getgid(), os.getegid()],
            "groups": os.getgroups(),
            "secret": secret,
            "written": written,
            "own": own,
        }
    """
)


@pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="only a root runner changes uid")
@pytest.mark.parametrize("work", ["tmpfs", "host dir"])
def test_a_root_runner_runs_agent_code_as_an_unprivileged_uid(
    backend: str, work: str, tmp_path: Path
) -> None:
    # As root's uid (even without capabilities) agent code passed every permission check
    # on what the sandbox shows: a root-owned 0600 file on a directory of sys.path was
    # readable. Without limits, the working directory is the host's, bound in.
    shown = tmp_path / "shown"
    shown.mkdir()
    secret = shown / "secret.txt"
    secret.write_text("root's only")
    secret.chmod(0o600)
    limits = Limits() if work == "tmpfs" else Limits(memory_bytes=None, disk_bytes=None)
    manifest = agent(IDENTITY, "identity")
    # A directory of the agent's own files is its to write in, as its working directory.
    manifest["files"].append({"name": "data/deep/seed.txt", "content": "s", "mime_type": "other"})
    folders = [".", "/tmp", "/dev/shm", "data", "data/deep"]
    sys.path.append(str(shown))
    try:
        with AgentWorker(manifest, limits=limits) as warm:
            seen = warm.call("identity", {"secret": str(secret), "folders": folders}).value
    finally:
        sys.path.remove(str(shown))
    assert seen["ids"] == [SANDBOX_UID] * 4
    assert seen["groups"] == []
    assert seen["secret"] is None
    assert seen["written"] == folders
    assert seen["own"] == len(IDENTITY)
    assert sandbox_status()[1].endswith(f"agents run as uid {SANDBOX_UID})")


@pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="only a root runner changes uid")
def test_the_uid_of_a_root_runners_agent_code_is_configurable(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SANDBOX_UID_ENV, "12345:23456")
    seen = run_endpoint(agent(IDENTITY, "identity"), "identity", {"secret": "/etc/hosts"}).value
    assert seen["ids"] == [12345, 12345, 23456, 23456]
    assert seen["written"] == [".", "/tmp", "/dev/shm"]
    for wrong in ("0", "12345:0", "nobody", "-5"):
        monkeypatch.setenv(SANDBOX_UID_ENV, wrong)
        with pytest.raises(ValueError, match=SANDBOX_UID_ENV):
            sandbox_status()


@pytest.mark.skipif(not LINUX, reason="the sandboxes are Linux's")
def test_the_sandboxs_first_step_fails_closed() -> None:
    # Whatever it cannot do (here: an option it does not know, a mount it may not make),
    # it says so and the command never runs.
    script = os.path.realpath(_sandbox_init.__file__)
    for options in (["--bogus"], ["--tmpfs=1048576,1024,/nonexistent"], ["--user=x:y"]):
        done = subprocess.run(
            [sys.executable, "-I", "-S", script, *options, "--", "/bin/echo", "ran"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert (done.returncode, done.stdout) == (_sandbox_init.FAILED, ""), options
        assert done.stderr.startswith("viksa sandbox: agent code not started: ")


@pytest.mark.parametrize("sandbox", [False, True], ids=["unsandboxed", "sandboxed"])
def test_agent_files_cannot_stand_in_for_the_runners_own_modules(sandbox: bool) -> None:
    # `python -m viksa_ai.devtools.runner._child` put the working directory first on
    # sys.path: an agent's viksa_ai/__init__.py was imported instead of ours, and ran
    # before the child set the memory and file size limits (`-P` fixes that on 3.11+
    # only; a runpy.py of the agent's would stand in for the stdlib's under `-c`).
    if sandbox and not sandbox_available():
        pytest.skip("no sandbox here: " + sandbox_status()[1])
    manifest = agent(
        code("@mcp_endpoint(description='one')\nasync def one(payload):\n    return 1\n"), "one"
    )
    for name in ("viksa_ai/__init__.py", "runpy.py"):
        manifest["files"].append(
            {"name": name, "content": "raise SystemExit(42)", "mime_type": "python"}
        )
    assert run_endpoint(manifest, "one", sandbox=sandbox).value == 1


NOBODY = 65534
_AS_ANOTHER_RUNNER = """
import json, sys
from viksa_ai.devtools.runner import AgentWorker, DiskLimitError, Limits, sandbox_status

manifest, count = json.loads(sys.argv[1]), int(sys.argv[2])
found = {"status": sandbox_status()[1], "limited": []}
with AgentWorker(manifest, limits=Limits(disk_bytes=8 << 20)) as warm:
    found["view"] = warm.call("view").value
    found["identity"] = warm.call("identity", {"secret": "/etc/hosts"}).value
    for folder in (".", "/tmp", "/dev/shm"):
        try:
            warm.call("touch", {"dir": folder, "count": count})
        except DiskLimitError:
            found["limited"].append(folder)
print(json.dumps(found))
"""


def _runner_as_nobody() -> list[str] | None:
    """A command line running Python as uid 65534 with this process's sys.path, if this
    machine has an interpreter of this version that uid can run and read it all."""
    setpriv = shutil.which("setpriv")
    if not LINUX or os.geteuid() != 0 or setpriv is None:
        return None
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    path = os.pathsep.join(p for p in sys.path if p and os.path.isdir(p))
    for python in (f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"):
        command = [
            setpriv,
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            "--",
            "/usr/bin/env",
            "-i",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/tmp",
            f"PYTHONPATH={path}",
            python,
        ]
        if not os.access(python, os.X_OK):
            continue
        probe = [*command, "-c", "import viksa_ai.devtools.runner, pydantic"]
        if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
            return command
    return None


@pytest.mark.parametrize("tool", ["bwrap", "unshare"])
def test_a_runner_that_is_not_root_gets_the_same_sandbox(tool: str) -> None:
    # Most runners are not root: bwrap then makes a user namespace, and by default nests
    # a second one to show the runner's uid, whose capabilities reach no mount of the
    # first. The first step must still cap each tmpfs's files, drop every capability
    # and show agent code the runner's own uid.
    command = _runner_as_nobody()
    if command is None:
        pytest.skip("needs root, setpriv and a Python of this version uid 65534 can run")
    if tool == "unshare":
        command.insert(command.index("-i") + 1, "VIKSA_BWRAP=/nonexistent")
    manifest = agent(VIEW + IDENTITY.split("\n", 1)[1] + EMPTY_FILES.split("\n", 1)[1])
    for name in ("view", "identity", "touch"):
        manifest["agent_endpoints"].append(
            {"name": name, "module": "main", "description": name, "inputs": []}
        )
    done = subprocess.run(
        [*command, "-c", _AS_ANOTHER_RUNNER, json.dumps(manifest), "20000"],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout)
    if not found["status"].startswith(f"on (/usr/bin/{tool}"):
        pytest.skip(f"no {tool} sandbox for uid {NOBODY} here: {found['status']}")
    assert "user, mount and PID namespaces" in found["status"]
    assert set(found["view"]["caps"].values()) == {"0000000000000000"}
    assert found["view"]["no_new_privs"] == "1"
    assert found["identity"]["ids"] == [NOBODY] * 4  # the runner's own uid
    assert found["identity"]["written"] == [".", "/tmp", "/dev/shm"]
    assert found["limited"] == [".", "/tmp", "/dev/shm"]


PLANT = code(
    """
    import os

    @mcp_endpoint(description="plant links to the host's files in the working dir")
    async def plant(payload):
        os.symlink(payload["file"], "file-link")
        os.symlink(payload["dir"], "dir-link")
        os._exit(1)  # the worker dies: the runner starts a new one in the same folder
    """
)


@pytest.mark.skipif(not LINUX or os.geteuid() != 0, reason="only a root runner changes uid")
def test_links_planted_in_the_working_dir_do_not_turn_a_restart_against_the_host(
    backend: str, tmp_path: Path
) -> None:
    # A root runner opens the agent's files to the agent's uid and gives it its folders at
    # each start (chmod and chown as root): a start must never go through links an agent
    # planted in the host's working dir before (each start gets a fresh one).
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    secret = private / "secret.txt"
    secret.write_text("root's only")
    secret.chmod(0o600)
    limits = Limits(memory_bytes=None, disk_bytes=None)  # the host's working dir
    with AgentWorker(agent(PLANT, "plant"), limits=limits) as warm:
        with pytest.raises(WorkerCrashedError):
            warm.call("plant", {"file": str(secret), "dir": str(private)})
        with pytest.raises(WorkerCrashedError):
            warm.call("plant", {"file": str(secret), "dir": str(private)})
    assert secret.stat().st_mode & 0o777 == 0o600
    assert private.stat().st_mode & 0o777 == 0o700
    assert (secret.stat().st_uid, private.stat().st_uid) == (0, 0)


# --- hostile agent code against the worker protocol ------------------------------------


@pytest.fixture(params=["unsandboxed", "bwrap", "unshare"])
def isolation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Each place agent code runs: unsandboxed, in bubblewrap, in unshare; whether sandboxed."""
    if request.param == "unsandboxed":
        return False
    if request.param == "unshare":
        monkeypatch.setenv("VIKSA_BWRAP", "/nonexistent/bwrap")
    if os.path.basename(sandbox_backend() or "") != request.param:
        pytest.skip(f"no {request.param} sandbox here: {sandbox_status()[1]}")
    return True


FORGER = code(
    """
    import json, os, struct, sys

    @mcp_endpoint(description="write a reply of its own on the runner's channel, then die")
    async def forge(payload):
        frame = sys._getframe()
        while "channel_out" not in frame.f_locals:
            frame = frame.f_back
        body = json.dumps(payload["reply"]).encode()
        channel = frame.f_locals["channel_out"]
        channel.write(struct.pack(">I", len(body)) + body)
        channel.flush()
        os._exit(0)

    @mcp_endpoint(description="fine")
    async def fine(payload):
        return "fine"
    """
)

# Replies of call 1 whose fields have types no child of ours sends.
FORGED_REPLIES = [
    {"op": "result", "id": 1, "ok": True, "value": 1, "duration_ms": "soon"},
    {"op": "result", "id": 1, "ok": True, "value": 1, "output": ["not", "text"]},
    {"op": "result", "id": 1, "ok": "yes", "value": 1},
    {"op": "result", "id": 1, "ok": False, "error": ["not", "an", "object"]},
    {"op": "result", "id": 1, "ok": False},
    {"op": "result", "id": 1, "ok": False, "error": {"kind": "endpoint_error", "message": {}}},
    {"op": "result", "id": 1, "ok": False, "error": {"kind": "memory_limit", "type": 3}},
    {"op": "result", "id": 1, "ok": False, "error": {"kind": "endpoint_error", "traceback": 5}},
    {"op": "result", "id": 1, "ok": False, "error": {"kind": "auth", "method_id": {}}},
]


def test_a_forged_reply_of_the_wrong_shape_is_a_crashed_worker_not_a_runner_bug(
    isolation: bool,
) -> None:
    # Agent code shares the child's process: it can write frames on the channel itself.
    # A field of the wrong type must end the call as WorkerCrashedError (a RunnerError
    # the platform records), never as a TypeError or ValueError of the runner.
    with AgentWorker(agent(FORGER, "forge", "fine"), sandbox=isolation) as warm:
        for number, reply in enumerate(FORGED_REPLIES, start=1):
            # The worker numbers its calls from 1, across the children it starts.
            with pytest.raises(WorkerCrashedError) as caught:
                warm.call("forge", {"reply": {**reply, "id": number}})
            assert "reply" in caught.value.message, reply
        assert warm.call("fine").value == "fine"


TRICKSTER = code(
    """
    import os

    KEY = "trick_auth.key"

    class Unprintable(Exception):
        def __str__(self):
            raise SystemExit("str() of the error leaks " + os.environ[KEY])

    class Treacherous(dict):
        def items(self):
            raise SystemExit("items() leaks " + os.environ[KEY])

    @mcp_endpoint(description="an error whose str() raises SystemExit")
    async def unprintable(payload):
        raise Unprintable()

    @mcp_endpoint(description="a value whose items() raises SystemExit")
    async def treacherous(payload):
        return Treacherous(a=1)

    @mcp_endpoint(description="print and raise text no UTF-8 can hold")
    async def surrogates(payload):
        print("printed \\udc80 " + os.environ[KEY])
        if payload.get("raise"):
            raise ValueError("raised \\udc80 " + os.environ[KEY])
        return "fine"
    """
)


def test_agent_code_in_an_errors_text_or_a_values_methods_never_crashes_the_worker(
    isolation: bool, tmp_path: Path
) -> None:
    # An exception's str() and a dict subclass's items() are agent code that runs while
    # the child builds its reply; so is text holding a lone surrogate (no UTF-8 holds
    # one). Each must end the call as what the agent did, never kill the child, whose
    # dying words (a traceback on the runner's stderr) would hold the secret unmasked.
    secret = f"trick-{time.monotonic_ns()}"
    log = tmp_path / "stderr.log"
    with (
        log.open("w") as stderr,
        AgentWorker(
            agent(TRICKSTER, "unprintable", "treacherous", "surrogates"),
            secrets={"trick_auth.key": secret},
            capture_output=True,
            stderr=stderr,
            sandbox=isolation,
        ) as warm,
    ):
        with pytest.raises(EndpointError) as unprintable:
            warm.call("unprintable")
        assert unprintable.value.message.endswith("<exception str() failed>")
        with pytest.raises(EndpointError) as treacherous:
            warm.call("treacherous")
        assert "not JSON-serialisable: items() leaks ***" in treacherous.value.message
        printed = warm.call("surrogates")
        assert printed.value == "fine"
        assert printed.output == "printed \\udc80 ***\n"
        with pytest.raises(EndpointError) as raised:
            warm.call("surrogates", {"raise": True})
        assert raised.value.exception_type == "ValueError"
        assert raised.value.message.endswith("raised \\udc80 ***")
        assert warm.starts == 1, "a call killed the worker"
    assert secret not in log.read_text()


BLABBER = code(
    """
    import os, sys, threading, time

    LATER = []

    @mcp_endpoint(description="write its secrets where the capture does not reach")
    async def blab(payload):
        key = os.environ["blab_auth.key"]
        os.write(2, f"fd 2: key={key} {key}\\n".encode())
        os.write(2, f"split: {key[:3]}".encode())
        os.write(2, f"{key[3:]} rest\\n".encode())

        def later():
            time.sleep(0.2)
            print(f"a thread, after the call: {key}", file=sys.__stderr__, flush=True)

        LATER.append(threading.Thread(target=later))
        LATER[-1].start()
        return "said"

    @mcp_endpoint(description="wait for the threads")
    async def settle(payload):
        for thread in LATER:
            thread.join()
    """
)


def test_what_agent_code_writes_to_stderr_reaches_the_runners_with_secrets_masked(
    isolation: bool, tmp_path: Path
) -> None:
    # The capture of a call holds what it prints through sys.stdout; what it (a thread
    # after the call, a subprocess) writes to the file descriptor goes to the runner's
    # stderr, a server's log: the secrets of the worker and of each call are masked.
    base = f"base-{time.monotonic_ns()}"
    per_call = f"call-{time.monotonic_ns()}"
    log = tmp_path / "stderr.log"
    with (
        log.open("w") as stderr,
        AgentWorker(
            agent(BLABBER, "blab", "settle"),
            secrets={"blab_auth.key": base},
            capture_output=True,
            stderr=stderr,
            sandbox=isolation,
        ) as warm,
    ):
        assert warm.call("blab").value == "said"
        assert warm.call("blab", secrets={"blab_auth.key": per_call}).value == "said"
        warm.call("settle")
    text = log.read_text()
    assert base not in text
    assert per_call not in text
    assert text.count("fd 2: key=*** ***\n") == 2
    assert text.count("split: *** rest\n") == 2
    assert text.count("a thread, after the call: ***\n") == 2


FLOODER = code(
    """
    import os

    @mcp_endpoint(description="write to the stderr descriptor, around the capture")
    async def flood(payload):
        line = (payload["line"] + "\\n").encode()
        for _ in range(payload["times"]):
            os.write(2, line)
        return "flooded"
    """
)


def test_a_captured_workers_stderr_is_bounded_per_call_by_the_output_limit(
    isolation: bool, tmp_path: Path
) -> None:
    # The platform captures what a call prints; written to the descriptor itself it would
    # reach the server's log unbounded (a flood fills its disk): each call copies at most
    # Limits.output_bytes of it, and the next call copies again. (A pipe holds what the
    # copy has not read yet, up to about 128 KiB, when the next call starts: a limit
    # larger than that lets this test see the next call's line whatever the timing.)
    log = tmp_path / "stderr.log"
    limits = Limits(output_bytes=300_000)
    with (
        log.open("w") as stderr,
        AgentWorker(
            agent(FLOODER, "flood"),
            capture_output=True,
            stderr=stderr,
            limits=limits,
            sandbox=isolation,
        ) as warm,
    ):
        flood = {"line": "x" * 99, "times": 10_000}
        assert warm.call("flood", flood, timeout=120).value == "flooded"
        second = {"line": "second call", "times": 1}
        assert warm.call("flood", second, timeout=120).value == "flooded"
    text = log.read_text()
    assert len(text) <= 2 * 300_000 + 1000
    assert "[viksa: the agent's stderr is cut here, past 300000 bytes in a call]\n" in text
    assert text.endswith("second call\n")


COUNTER = code(
    """
    import os

    @mcp_endpoint(description="count its files")
    async def count(payload):
        return sum(len(files) for _, _, files in os.walk("pkg"))
    """
)


def agent_with_files(count: int, depth: int = 0) -> dict[str, Any]:
    """The counting agent with ``count`` more files, in folders ``depth`` long names deep."""
    manifest = agent(COUNTER, "count")
    folder = "".join(f"{level}{'d' * 250}/" for level in range(depth))
    manifest["files"] += [
        {"name": f"pkg/{folder}{index:05d}.txt", "content": "x", "mime_type": "other"}
        for index in range(count)
    ]
    return manifest


def test_an_agent_with_many_files_runs_in_each_sandbox(isolation: bool) -> None:
    # Each file is bound into the sandbox by its path: 800 files 6 folders deep make a
    # command line longer than exec takes (bwrap's whole, 2 MiB; one argument, unshare's
    # mount script, 128 KiB). An agent shipping them must run all the same.
    with AgentWorker(agent_with_files(800, depth=6), sandbox=isolation) as warm:
        assert warm.call("count", timeout=120).value == 800


def test_an_agent_with_more_files_than_bwrap_takes_is_refused_clearly() -> None:
    if os.path.basename(sandbox_backend() or "") != "bwrap":
        pytest.skip("no bwrap sandbox here: " + sandbox_status()[1])
    with pytest.raises(AgentLoadError, match="bubblewrap takes at most 9000 arguments"):
        run_endpoint(agent_with_files(3100), "count")


def test_a_secret_too_large_to_pass_is_a_clear_error_not_an_oserror(isolation: bool) -> None:
    # exec takes at most 128 KiB for one environment variable.
    with pytest.raises(AgentLoadError, match="at most 128 KiB each"):
        run_endpoint(
            agent(COUNTER, "count"), "count", secrets={"big.key": "k" * 200_000}, sandbox=isolation
        )


BLOATED_READY = code(
    """
    import json, struct, sys

    # At import, before the child says it is ready: a ready frame of its own, 4 MiB long.
    _frame = sys._getframe()
    while "channel_out" not in _frame.f_locals:
        _frame = _frame.f_back
    _body = json.dumps({"op": "ready", "ok": True, "pid": 0, "pad": "x" * (4 << 20)}).encode()
    _frame.f_locals["channel_out"].write(struct.pack(">I", len(_body)) + _body)
    _frame.f_locals["channel_out"].flush()

    @mcp_endpoint(description="never reached")
    async def hello(payload):
        return "hello"
    """
)


def test_a_ready_frame_larger_than_an_import_error_is_refused(isolation: bool) -> None:
    # Agent code runs at import and can write on the channel: the runner must not buffer
    # whatever it announces (up to 256 MiB a frame) for each worker it starts.
    with pytest.raises(WorkerCrashedError, match="announced, more than"):
        run_endpoint(agent(BLOATED_READY, "hello"), "hello", sandbox=isolation)


LINGERER = code(
    """
    import os, threading

    WAKE, DONE = threading.Event(), threading.Event()

    @mcp_endpoint(description="leave a thread that prints this call's key later")
    async def leave(payload):
        key = os.environ["linger_auth.key"]

        def later():
            WAKE.wait(30)
            print(f"the first call's key: {key}")
            DONE.set()

        threading.Thread(target=later, daemon=True).start()
        return "left"

    @mcp_endpoint(description="let it print during this call")
    async def wake(payload):
        WAKE.set()
        DONE.wait(30)
        return "woken"
    """
)


def test_a_secret_of_an_earlier_call_is_masked_in_a_later_calls_output(isolation: bool) -> None:
    # A pool worker serves calls with the secrets of each (a rotated key, a new binding):
    # a thread of an earlier call printing its key during a later call, into that call's
    # captured output, must not show it.
    first, second = f"first-{time.monotonic_ns()}", f"second-{time.monotonic_ns()}"
    with AgentWorker(
        agent(LINGERER, "leave", "wake"), capture_output=True, sandbox=isolation
    ) as warm:
        assert warm.call("leave", secrets={"linger_auth.key": first}).value == "left"
        woken = warm.call("wake", secrets={"linger_auth.key": second})
    assert woken.output == "the first call's key: ***\n"


SPINNER = code(
    """
    import os, threading

    def spin():
        while True:
            pass

    @mcp_endpoint(description="leave a thread spinning, and return")
    async def leave_spinning(payload):
        threading.Thread(target=spin, daemon=True).start()
        return "left"

    @mcp_endpoint(description="fine")
    async def fine(payload):
        return "fine"
    """
)


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_CPU is POSIX")
def test_a_thread_left_spinning_after_its_call_cannot_burn_cpu_for_good(isolation: bool) -> None:
    # A warm worker stays up between calls (the platform keeps a pool of them): a thread
    # the agent left spinning gets the CPU time of one call, then the kernel ends the
    # idle worker, and the next call starts a new one.
    limits = Limits(cpu_seconds=1)
    with AgentWorker(
        agent(SPINNER, "leave_spinning", "fine"), limits=limits, sandbox=isolation
    ) as warm:
        assert warm.call("leave_spinning").value == "left"
        deadline = time.monotonic() + 60
        while warm.pid is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert warm.pid is None, "the idle worker still spins"
        assert warm.call("fine").value == "fine"
        assert warm.starts == 2


STREAM_BREAKER = code(
    """
    import sys

    class Broken:
        def write(self, text):
            return len(text)

        def flush(self):
            raise SystemExit("flush says no")

    @mcp_endpoint(description="replace the standard streams with broken ones")
    async def break_streams(payload):
        sys.stdout = Broken()
        sys.stderr = None
        return "value"
    """
)


def test_standard_streams_replaced_by_agent_code_do_not_kill_the_worker(isolation: bool) -> None:
    # Uncaptured (viksa run), the streams agent code sets stay set after its call: the
    # child flushes them after each call, and must send the reply whatever they do.
    with AgentWorker(agent(STREAM_BREAKER, "break_streams"), sandbox=isolation) as warm:
        assert warm.call("break_streams").value == "value"
        assert warm.call("break_streams").value == "value"
        assert warm.starts == 1


NAMER = code(
    """
    import os

    @mcp_endpoint(description="raise an exception class named after the key")
    async def named(payload):
        raise type("Leaky" + os.environ["name_auth.key"], (Exception,), {})("boom")
    """
)


def test_an_exception_class_named_after_a_secret_is_masked_too() -> None:
    secret = f"classname{time.monotonic_ns()}"
    with pytest.raises(EndpointError) as caught:
        run_endpoint(agent(NAMER, "named"), "named", secrets={"name_auth.key": secret})
    assert secret not in json.dumps(caught.value.to_dict())
    assert caught.value.exception_type == "main.Leaky***"


HOARDER = code(
    """
    import resource, socket

    HELD = []

    @mcp_endpoint(description="hold socket buffers full: kernel memory RLIMIT_AS misses")
    async def hoard(payload):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, 1 << 20))
        except (ValueError, OSError):
            pass
        for _ in range(payload["pairs"]):
            sender, receiver = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
            HELD.append((sender, receiver))
            sender.setblocking(False)
            try:
                while True:
                    sender.send(b"x" * 60_000)
            except BlockingIOError:
                pass
        return len(HELD)
    """
)


def test_descriptors_past_the_open_files_limit_fail_and_the_limit_holds(isolation: bool) -> None:
    # Each socket can hold ~200 KiB of kernel memory that memory_bytes (RLIMIT_AS) does not
    # count: 1,000 full socket pairs pinned 240 MB with memory_bytes of 256 MiB. Agent
    # code cannot lift the limit (it tries), and meets it as EMFILE.
    limits = Limits(open_files=64)
    with (
        AgentWorker(agent(HOARDER, "hoard"), limits=limits, sandbox=isolation) as warm,
        pytest.raises(EndpointError, match="Too many open files"),
    ):
        warm.call("hoard", {"pairs": 100})


ESCAPER = code(
    """
    import os

    @mcp_endpoint(description="write escape sequences to the stderr descriptor")
    async def escape(payload):
        os.write(2, b"clip \\x1b]52;c;eA==\\x07 title \\x1b]0;t\\x07 csi \\x9b2J end\\n")
        return "written"
    """
)


def test_a_captured_workers_stderr_reaches_the_log_with_control_characters_escaped(
    isolation: bool, tmp_path: Path
) -> None:
    # The platform captures a call's output: what reaches its stderr around the capture
    # is its log, `viksa dev`'s terminal, where an escape sequence (OSC 52) could set the
    # developer's clipboard. Uncaptured (viksa run), stderr is the agent's own output.
    log = tmp_path / "stderr.log"
    with (
        log.open("w") as stderr,
        AgentWorker(
            agent(ESCAPER, "escape"), capture_output=True, stderr=stderr, sandbox=isolation
        ) as warm,
    ):
        assert warm.call("escape").value == "written"
    text = log.read_bytes()
    assert b"\x1b" not in text
    assert b"\x9b" not in text
    assert text == b"clip \\u001b]52;c;eA==\\u0007 title \\u001b]0;t\\u0007 csi \\x9b2J end\n"
