"""The local runner's Python API, run against a probe agent in real child processes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools.runner import (
    AgentImportError,
    AgentLoadError,
    AgentWorker,
    AsyncAgentWorker,
    AuthNotConfiguredError,
    EndpointError,
    EndpointNotFoundError,
    EndpointTimeoutError,
    InvalidInputError,
    Limits,
    PreparedCall,
    ProcessLimitError,
    RunResult,
    WorkerClosedError,
    WorkerCrashedError,
    _tasks,
    arun_endpoint,
    load_agent,
    prepare_call,
    run_endpoint,
    sandbox_available,
    sandbox_status,
)
from viksa_ai.devtools.runner import _worker as worker_module
from viksa_ai.devtools.runner._environ import import_roots
from viksa_ai.devtools.runner._protocol import encode_frame, read_frame
from viksa_ai.devtools.runner._reap import descendants
from viksa_ai.devtools.runner._sandbox import sandbox_backend
from viksa_ai.devtools.runner._worker import _CHILD_BOOTSTRAP, _to_the_end
from viksa_ai.runtime import A2A_PAYLOAD_KEY, to_module_source

PROBE = Path(__file__).parent / "fixtures" / "runner_probe"
STYLES = ["viksa_ai.runtime", "ViksaAI"]


def probe_manifest(import_from: str = "viksa_ai.runtime") -> dict[str, Any]:
    """The probe agent with main.py embedded, importing the runtime from ``import_from``."""
    manifest: dict[str, Any] = json.loads((PROBE / "agent.json").read_text())
    source = (PROBE / "main.py").read_text()
    source = source.replace("from viksa_ai.runtime import", f"from {import_from} import")
    manifest["files"] = [{"name": "main.py", "content": source, "mime_type": "python"}]
    return manifest


def process_exists(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie awaiting its reaper counts as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def eventually(condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` holds within 20 s.

    A SIGKILLed process can take seconds to leave /proc on a loaded machine; the
    processes these tests look for would live 60 s or more if they escaped, so the
    window still tells an escape from a slow death.
    """
    for _ in range(400):
        if condition():
            return True
        time.sleep(0.05)
    return False


def wait_gone(pid: int) -> bool:
    """Whether ``pid`` ends within a few seconds."""
    return eventually(lambda: not process_exists(pid))


@pytest.fixture
def worker() -> Iterator[AgentWorker]:
    with AgentWorker(PROBE, capture_output=True) as warm:
        yield warm


# --- one call in a fresh child ---------------------------------------------------------


def test_run_endpoint_returns_the_value_in_a_child_process() -> None:
    result = run_endpoint(PROBE, "echo", {"note": "hi", "count": 2})

    assert isinstance(result, RunResult)
    assert result.endpoint == "echo"
    assert result.value["payload"] == {"note": "hi", "count": 2}
    assert result.value["pid"] != os.getpid()
    assert result.duration_ms >= 0
    assert "ViksaAI.py" in result.value["cwd_files"]
    assert "main.py" in result.value["cwd_files"]


def test_the_injected_file_is_the_runtime_source(tmp_path: Path) -> None:
    manifest = probe_manifest()
    manifest["files"][0]["content"] += (
        "\n\n@mcp_endpoint(description='read the injected file')\n"
        "async def injected(payload):\n"
        "    return open('ViksaAI.py', encoding='utf-8').read()\n"
    )
    manifest["agent_endpoints"].append(
        {"name": "injected", "module": "main", "description": "read the injected file"}
    )

    assert run_endpoint(manifest, "injected").value == to_module_source()


ECHO_CONTEXT_SOURCE = """\
from ViksaAI import context, mcp_endpoint


@mcp_endpoint(description="The call's A2A envelope")
async def echo(payload):
    return context()
"""


def test_an_agent_s_own_viksa_ai_runtime_never_stands_in_for_the_runner_s(
    tmp_path: Path,
) -> None:
    # Installed without the viksa-ai meta-package, viksa_ai is a namespace package: once
    # the child put the agent's directory on sys.path, a viksa_ai/runtime among the
    # agent's files was the runtime the child imported and set the envelope through.
    # The child runs as a worker starts it, with only the runner's import roots
    # (-S: without site-packages, whose viksa_ai would be the meta-package's).
    workdir = tmp_path / "work"
    (workdir / "viksa_ai" / "runtime").mkdir(parents=True)
    (workdir / "viksa_ai" / "runtime" / "__init__.py").write_text(
        "raise ImportError('the agent imported its own viksa_ai.runtime')\n"
    )
    (workdir / "main.py").write_text(ECHO_CONTEXT_SOURCE)
    (workdir / "ViksaAI.py").write_text(to_module_source())
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(import_roots())}
    with subprocess.Popen(
        [sys.executable, "-S", "-c", _CHILD_BOOTSTRAP, "main"],
        cwd=workdir,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as child:
        assert child.stdin is not None
        assert child.stdout is not None
        try:
            ready = read_frame(child.stdout)
            assert ready is not None, "the child ended before it was ready"
            assert ready["ok"], ready
            call = {"op": "call", "id": 1, "module": "main", "function": "echo", "inputs": {}}
            child.stdin.write(encode_frame({**call, "envelope": {"run_id": "r-1"}}))
            child.stdin.flush()
            reply = read_frame(child.stdout)
        finally:
            child.stdin.close()
            child.wait(timeout=60)

    assert reply is not None
    assert reply["value"] == {"run_id": "r-1"}, reply


def test_endpoint_found_by_its_full_path() -> None:
    assert run_endpoint(PROBE, "probe.main.echo").endpoint == "echo"
    # The alias is the platform's: any alias resolves by module and function.
    assert run_endpoint(PROBE, "local_alias.main.echo").endpoint == "echo"


def test_unknown_endpoint_lists_the_available_ones() -> None:
    with pytest.raises(EndpointNotFoundError) as caught:
        run_endpoint(PROBE, "nope")
    assert "echo" in caught.value.available
    assert caught.value.exit_code == 2
    assert "echo" in str(caught.value)


def test_a_misspelt_endpoint_gets_a_did_you_mean_as_in_viksa_call() -> None:
    with pytest.raises(EndpointNotFoundError) as caught:
        run_endpoint(PROBE, "ecoh")
    assert "no endpoint 'ecoh' (did you mean 'echo'?): use one of " in str(caught.value)


@pytest.mark.parametrize(
    ("inputs", "code_input"),
    [
        ({"note": ""}, "note"),
        ({"count": 0}, "count"),
        ({"count": "three"}, "count"),
        ({"mode": "medium"}, "mode"),
        ({"code": "jfk"}, "code"),
    ],
)
def test_invalid_inputs_fail_before_any_child_starts(
    inputs: dict[str, Any], code_input: str
) -> None:
    with AgentWorker(PROBE) as warm:
        with pytest.raises(InvalidInputError) as caught:
            warm.call("echo", inputs)
        assert warm.starts == 0
    error = caught.value
    assert error.exit_code == 3
    assert error.a2a_status == "invalid_payload"
    assert [issue.input for issue in error.issues] == [code_input]
    assert error.to_dict()["issues"][0]["message"]


def test_missing_required_input_is_reported() -> None:
    with pytest.raises(InvalidInputError) as caught:
        run_endpoint(PROBE, "nap", {})
    assert [issue.input for issue in caught.value.issues] == ["seconds"]


def test_non_json_inputs_are_invalid() -> None:
    with pytest.raises(InvalidInputError):
        run_endpoint(PROBE, "echo", {"note": "x", "extra": object()})


@pytest.mark.parametrize("import_from", STYLES)
def test_envelope_is_stripped_and_visible_to_context(import_from: str) -> None:
    envelope = {"run_id": "run-1", "caller_agent": "planner", "metadata": {"k": [1]}}
    result = run_endpoint(
        probe_manifest(import_from), "echo", {"note": "x", A2A_PAYLOAD_KEY: envelope}
    )

    assert result.value["payload"] == {"note": "x"}
    assert result.value["context"] == envelope


@pytest.mark.parametrize("import_from", STYLES)
def test_explicit_envelope_wins_over_the_one_in_inputs(import_from: str) -> None:
    result = run_endpoint(
        probe_manifest(import_from),
        "echo",
        {A2A_PAYLOAD_KEY: {"run_id": "from-inputs"}},
        envelope={"run_id": "explicit"},
    )

    assert result.value["payload"] == {}
    assert result.value["context"] == {"run_id": "explicit"}


def test_envelope_that_is_not_an_object_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError) as caught:
        run_endpoint(PROBE, "echo", {A2A_PAYLOAD_KEY: "nope"})
    assert caught.value.issues[0].input == A2A_PAYLOAD_KEY


@pytest.mark.parametrize(
    ("envelope", "code", "path"),
    [
        ({"run_id": 1}, "VX501", "run_id"),
        ({"caller_agent": "planner"}, "VX501", "run_id"),
        ({"run_id": "r", "deadline_at": 5}, "VX501", "deadline_at"),
        ({"run_id": "r", "protocol_version": 2}, "VX502", "protocol_version"),
    ],
)
def test_an_envelope_the_platform_would_refuse_is_invalid_input(
    envelope: dict[str, Any], code: str, path: str
) -> None:
    # Checked like pulse.execute's envelope, before any child is started.
    agent = load_agent(probe_manifest())
    for given in ({"envelope": envelope}, {"inputs": {A2A_PAYLOAD_KEY: envelope}}):
        with pytest.raises(InvalidInputError) as caught:
            prepare_call(agent, "echo", **given)
        [issue] = caught.value.issues
        assert (issue.code, issue.path, issue.input) == (
            code,
            f"{A2A_PAYLOAD_KEY}.{path}",
            A2A_PAYLOAD_KEY,
        )
        assert repr(path) in issue.message
        assert caught.value.exit_code == 3


def test_timeout_kills_a_child_stuck_in_blocking_code() -> None:
    with AgentWorker(PROBE) as warm:
        warm.start()
        pid = warm.pid
        assert pid is not None
        with pytest.raises(EndpointTimeoutError) as caught:
            warm.call("block", {"seconds": 30}, timeout=0.5)
        assert not process_exists(pid)
    assert caught.value.exit_code == 6
    assert caught.value.timeout == 0.5
    assert caught.value.a2a_status == "deadline_exceeded"


@pytest.mark.skipif(os.name != "posix", reason="process groups are POSIX")
def test_timeout_also_kills_what_the_agent_spawned(tmp_path: Path) -> None:
    # Unsandboxed: the agent writes the pid where the test reads it.
    pid_file = tmp_path / "grandchild.pid"
    with pytest.raises(EndpointTimeoutError):
        run_endpoint(PROBE, "orphan", {"note": str(pid_file)}, sandbox=False)
    assert wait_gone(int(pid_file.read_text()))


def processes_with(token: str) -> list[int]:
    """The live processes whose command line or environment holds ``token`` (any PID
    namespace: a secret given to the worker is in the environment of all it forks)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            held = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() not in held:
            with contextlib.suppress(OSError):
                held = (entry / "environ").read_bytes()
        if token.encode() in held and process_exists(int(entry.name)):
            found.append(int(entry.name))
    return found


def _command_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
    except OSError:
        return "?"


def grandchild_started(note: str) -> Callable[[], bool]:
    """Whether the ``escapee`` endpoint's grandchild (for ``note``) runs.

    Not "a process holds the note": the intermediate holds it until it forks the
    grandchild and exits, and a scan of /proc is no snapshot: one that lists /proc just
    before the fork and reads the intermediate just after its exit sees neither. The
    grandchild, once started, runs until killed: a later scan finds it too.
    """
    return lambda: bool(processes_with(note + "-grandchild"))


def wait_none_with(token: str) -> bool:
    """Whether every process holding ``token`` ends within a few seconds."""
    return eventually(lambda: not processes_with(token))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and subreapers are Linux")
@pytest.mark.parametrize("sandbox", [False, True], ids=["unsandboxed", "sandboxed"])
def test_a_setsid_grandchild_dies_at_the_timeout_and_at_close(sandbox: bool) -> None:
    if sandbox and not sandbox_available():
        pytest.skip("no sandbox here (bubblewrap missing or user namespaces disabled)")
    token = f"viksa-escapee-{os.getpid()}-{time.monotonic_ns()}"
    with AgentWorker(PROBE, sandbox=sandbox) as warm:
        assert warm.sandboxed is sandbox
        with pytest.raises(EndpointTimeoutError):
            warm.call("escapee", {"note": token})
        assert wait_none_with(token), "a setsid grandchild survived the timeout kill"
        # A call the runner does not time out: the worker's close must end it all.
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(warm.call, "escapee", {"note": token + "-close"}, timeout=60)
            started = grandchild_started(token + "-close")
            eventually(lambda: started() or pending.done())
            # What the worker was doing, should the grandchild never show up.
            state = f"call done: {pending.done()}, worker {warm.pid}: " + str(
                [(p, _command_of(p)) for p in descendants(warm.pid or 0)]
            )
            assert started(), f"no grandchild started ({state})"
            warm.close()
            with pytest.raises(WorkerCrashedError):
                pending.result()
    assert wait_none_with(token + "-close"), "a setsid grandchild survived the runner's close"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and subreapers are Linux")
@pytest.mark.parametrize("sandbox", [False, True], ids=["unsandboxed", "sandboxed"])
def test_a_process_hopping_pids_as_fast_as_it_forks_dies_at_the_timeout(sandbox: bool) -> None:
    # Stress for the kill's walk of /proc: a process that forks and exits in a loop is
    # another pid at every moment; one the walk sees dead may have forked after /proc
    # was listed. Every round must end with all of them gone.
    if sandbox and not sandbox_available():
        pytest.skip("no sandbox here (bubblewrap missing or user namespaces disabled)")
    token = f"viksa-hopper-{os.getpid()}-{time.monotonic_ns()}"
    try:
        with AgentWorker(PROBE, sandbox=sandbox) as warm:
            for round_ in range(8):
                with pytest.raises(EndpointTimeoutError):
                    warm.call("hopper", {"note": f"{token}-{round_}"})
                assert wait_none_with(f"{token}-{round_}"), f"a hopper survived round {round_}"
    finally:
        stop_all_with(token)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and cgroups are Linux")
@pytest.mark.parametrize("sandbox", [False, True], ids=["unsandboxed", "sandboxed"])
@pytest.mark.parametrize("mechanism", ["cgroup", "proc"])
def test_a_fork_bomb_ends_the_call_with_process_limit_and_leaves_no_process(
    sandbox: bool, mechanism: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if sandbox and not sandbox_available():
        pytest.skip("no sandbox here (bubblewrap missing or user namespaces disabled)")
    if mechanism == "cgroup" and _tasks.cgroup_parent() is None:
        pytest.skip("no writable pids cgroup here: the runner counts /proc instead")
    if mechanism == "proc":
        monkeypatch.setattr(_tasks, "cgroup_parent", lambda: None)
    # The secret is in the environment of every process the bomb forks: the test finds
    # them all by it, in any PID namespace. Bounded: 2**8 processes at most, each ending
    # by itself within 120 s, and all killed below whatever happens.
    token = f"viksa-bomb-{os.getpid()}-{time.monotonic_ns()}"
    limits = Limits(processes=32)
    try:
        with AgentWorker(
            PROBE, sandbox=sandbox, limits=limits, secrets={"probe_auth.token": token}
        ) as warm:
            with pytest.raises(ProcessLimitError) as caught:
                warm.call("fork_bomb", {"count": 8})
            assert wait_none_with(token), "a process of the fork bomb survived the call"
            # The next call gets a new child and works.
            assert warm.call("echo", {"note": "after"}).value["note"] == "after"
    finally:
        stop_all_with(token)
    error = caught.value
    assert (error.kind, error.exit_code, error.limit) == ("process_limit", 8, 32)
    assert "Limits(processes=...)" in error.message
    assert error.to_dict()["kind"] == "process_limit"


def stop_all_with(token: str) -> None:
    """Kill what a failed test left (each such process also ends by itself)."""
    for _ in range(20):
        victims = processes_with(token)
        if not victims:
            return
        for pid in victims:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def test_manifest_timeout_applies_by_default() -> None:
    # nap's execution_config.timeout_seconds is 1.
    with pytest.raises(EndpointTimeoutError) as caught:
        run_endpoint(PROBE, "nap", {"seconds": 30})
    assert caught.value.timeout == 1


def test_endpoint_exception_carries_the_agent_traceback() -> None:
    with pytest.raises(EndpointError) as caught:
        run_endpoint(PROBE, "boom", {"note": "kaboom"})
    error = caught.value
    assert error.exit_code == 5
    assert error.exception_type == "ValueError"
    assert "probe exploded: kaboom" in error.message
    assert error.traceback is not None
    assert "in boom" in error.traceback
    assert "in _explode" in error.traceback
    assert error.traceback.startswith("Traceback (most recent call last):\n  File ")
    assert "_child.py" not in error.traceback
    assert "asyncio" not in error.traceback


def test_result_that_is_not_json_is_an_endpoint_error() -> None:
    with pytest.raises(EndpointError) as caught:
        run_endpoint(PROBE, "bad_result")
    assert "not JSON-serialisable" in caught.value.message


_DEEP_RESULTS = """

@mcp_endpoint(description="A result nested deeper than the JSON encoder recurses")
async def deep(payload: dict[str, Any]) -> Any:
    return _nested(5000)


@mcp_endpoint(description="The same, with a recursion limit the runner does not share")
async def deeper(payload: dict[str, Any]) -> Any:
    sys.setrecursionlimit(100_000)
    return _nested(5000)


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value
"""


def nested(depth: int) -> Any:
    """A list nested ``depth`` levels deep."""
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def deep_results_manifest() -> dict[str, Any]:
    """The probe agent with two endpoints returning deeply nested lists."""
    manifest = probe_manifest()
    manifest["files"][0]["content"] += _DEEP_RESULTS
    for name in ("deep", "deeper"):
        entry = {"name": name, "module": "main", "description": name}
        manifest["agent_endpoints"].append(entry)
    return manifest


def test_result_nested_too_deeply_is_an_endpoint_error_not_a_crash() -> None:
    with AgentWorker(deep_results_manifest()) as warm:
        with pytest.raises(EndpointError) as caught:
            warm.call("deep")
        assert "not JSON-serialisable" in caught.value.message
        # The child survived: the same process serves the next call.
        assert warm.starts == 1
        with pytest.raises(WorkerCrashedError, match="not JSON"):
            warm.call("deeper")


def test_inputs_or_envelopes_nested_too_deeply_are_invalid_input() -> None:
    agent = load_agent(probe_manifest())
    with pytest.raises(InvalidInputError) as caught:
        prepare_call(agent, "echo", {A2A_PAYLOAD_KEY: {"run_id": "r", "x": nested(5000)}})
    assert caught.value.issues[0].code == "VX003"
    # call_prepared does not check again: what cannot be framed is still invalid input.
    prepared = prepare_call(agent, "echo", {"note": "x"})
    deep = dataclasses.replace(prepared, inputs={"note": nested(5000)})
    with AgentWorker(agent) as warm, pytest.raises(InvalidInputError, match="too deeply"):
        warm.call_prepared(deep)


def test_function_with_named_parameters_gets_inputs_as_keywords() -> None:
    assert run_endpoint(PROBE, "named", {"note": "a", "count": 3}).value == {"joined": "a/a/a"}


def test_missing_function_is_endpoint_not_found() -> None:
    manifest = probe_manifest()
    manifest["agent_endpoints"].append({"name": "ghost", "module": "main", "description": "x"})
    with pytest.raises(EndpointNotFoundError) as caught:
        run_endpoint(manifest, "ghost")
    assert "has no function 'ghost'" in caught.value.message


def test_agent_import_failure_reports_the_traceback() -> None:
    manifest = probe_manifest()
    manifest["files"][0]["content"] += "\n\nraise ImportError('no such dependency: left_pad')\n"
    with pytest.raises(AgentImportError) as caught:
        run_endpoint(manifest, "echo")
    error = caught.value
    assert error.exit_code == 2
    assert "left_pad" in error.message
    assert error.traceback is not None
    assert "main.py" in error.traceback


# --- auth ------------------------------------------------------------------------------


def test_missing_auth_param_is_auth_not_configured() -> None:
    with pytest.raises(AuthNotConfiguredError) as caught:
        run_endpoint(PROBE, "needs_auth")
    error = caught.value
    assert error.exit_code == 4
    assert error.a2a_status == "unauthorized"
    assert (error.method_id, error.param_name) == ("probe_auth", "token")
    assert "probe_auth" in error.message


def test_auth_params_reach_the_environment_as_the_worker_sets_them() -> None:
    result = run_endpoint(
        PROBE,
        "echo",
        secrets={"probe_auth.token": "tok-123", "probe_oauth.client_id": "cid", "extra.key": "k"},
    )
    value = result.value
    # probe_oauth lacks client_secret: configured but not enabled.
    assert value["configured"] == ["probe_auth", "probe_oauth", "extra"]
    assert value["enabled"] == ["probe_auth", "extra"]
    assert value["auth_env"]["probe_auth.token"] == "tok-123"
    assert value["auth_env"]["VIKSA_AUTH_ENABLED_METHODS"] == "probe_auth,extra"


def test_explicit_auth_methods_override_the_manifest() -> None:
    result = run_endpoint(
        PROBE, "echo", secrets={"probe_auth.token": "t"}, auth_methods={"probe_auth": ["token"]}
    )
    assert result.value["configured"] == ["probe_auth"]


def test_our_own_auth_environment_never_reaches_the_agent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("probe_auth.token", "from-the-parent")
    monkeypatch.setenv("VIKSA_AUTH_ENABLED_METHODS", "probe_auth")
    result = run_endpoint(PROBE, "echo")
    assert "probe_auth.token" not in result.value["auth_env"]
    assert result.value["enabled"] == []


def test_our_own_platform_credentials_never_reach_the_agent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A shell set up for ViksaClient.from_env() (as `viksa dev` suggests) runs agents too.
    monkeypatch.setenv("VIKSA_API_KEY", "vk_parent-secret")
    monkeypatch.setenv("VIKSA_PASSWORD", "parent-password")
    monkeypatch.setenv("VIKSA_BASE_URL", "http://127.0.0.1:9")
    source = (
        "import os\n"
        "from typing import Any, Dict\n"
        "from viksa_ai.runtime import mcp_endpoint\n\n\n"
        '@mcp_endpoint(description="The VIKSA_* environment")\n'
        "async def env(payload: Dict[str, Any]):\n"
        '    return sorted(k for k in os.environ if k.startswith("VIKSA_"))\n'
    )
    manifest = {
        **probe_manifest(),
        "files": [{"name": "main.py", "content": source, "mime_type": "python"}],
        "inputs": [],
        "agent_endpoints": [
            {"name": "env", "module": "main", "description": "env", "inputs": [], "outputs": []}
        ],
    }
    names = run_endpoint(manifest, "env").value
    assert "VIKSA_API_KEY" not in names
    assert "VIKSA_PASSWORD" not in names
    # Nothing of the parent's environment reaches an agent, not only credentials.
    assert names == ["VIKSA_AUTH_CONFIGURED_METHODS", "VIKSA_AUTH_ENABLED_METHODS"]


def test_secret_values_never_reach_errors_output_or_reprs() -> None:
    secret = "tok-SECRET-value/with+chars"
    with AgentWorker(PROBE, secrets={"probe_auth.token": secret}, capture_output=True) as warm:
        assert secret not in repr(warm)
        with pytest.raises(EndpointError) as caught:
            warm.call("leaky")
    error = caught.value
    rendered = json.dumps(error.to_dict()) + str(error) + repr(error)
    assert secret not in rendered
    # The percent-encoded form, as a URL would hold it, is redacted too.
    assert "tok-SECRET-value%2Fwith%2Bchars" not in rendered
    assert error.output is not None
    assert "the token is ***" in error.output
    assert "key=***" in error.message


# --- warm mode -------------------------------------------------------------------------


def test_warm_worker_serves_many_calls_from_one_process(worker: AgentWorker) -> None:
    results = [worker.call("echo", {"count": (i % 10) + 1}) for i in range(40)]

    assert len({r.value["pid"] for r in results}) == 1
    assert [r.value["calls"] for r in results] == list(range(1, 41))
    assert worker.starts == 1


@pytest.mark.parametrize("import_from", STYLES)
def test_warm_envelope_is_fresh_for_every_call(import_from: str) -> None:
    with AgentWorker(probe_manifest(import_from)) as warm:
        first = warm.call("echo", {A2A_PAYLOAD_KEY: {"run_id": "r1"}})
        second = warm.call("echo", {})
        third = warm.call("echo", envelope={"run_id": "r3"})

    assert first.value["context"] == {"run_id": "r1"}
    assert second.value["context"] == {}
    assert third.value["context"] == {"run_id": "r3"}


def test_warm_secrets_are_per_call_and_restored() -> None:
    with AgentWorker(PROBE, secrets={"probe_auth.token": "base"}) as warm:
        base = warm.call("echo").value["auth_env"]
        swapped = warm.call("echo", secrets={"probe_oauth.client_id": "c"}).value["auth_env"]
        dirty = warm.call("dirty_env", secrets={})
        after = warm.call("echo").value["auth_env"]

    assert base["probe_auth.token"] == "base"
    assert "probe_auth.token" not in swapped
    assert swapped["probe_oauth.client_id"] == "c"
    assert dirty.value == {"done": True}
    # What dirty_env left behind is gone: the next call gets the worker's own config.
    assert after == base


@pytest.mark.parametrize("value", ["nul\x00-hunter2-secret", 42])
def test_a_call_s_secret_the_agent_cannot_be_given_fails_the_call_as_a_runner_error(
    value: object,
) -> None:
    # The local platform's vault takes any JSON text, a NUL included, and records a
    # call's failure only as a RunnerError: the value reached the child's environment
    # and failed as "the endpoint raised ValueError: embedded null byte".
    with AgentWorker(PROBE) as warm:
        pid = warm.call("echo").value["pid"]
        with pytest.raises(AgentLoadError, match=r"probe_auth\.token") as caught:
            warm.call("echo", secrets={"probe_auth.token": value})  # type: ignore[dict-item]
        again = warm.call("echo").value["pid"]

    assert "hunter2" not in str(caught.value)
    assert caught.value.endpoint == "echo"
    assert again == pid


def test_warm_worker_survives_an_endpoint_exception(worker: AgentWorker) -> None:
    pid = worker.call("echo").value["pid"]
    with pytest.raises(EndpointError):
        worker.call("boom")
    assert worker.call("echo").value["pid"] == pid
    assert worker.starts == 1


STRAY_EXIT_SOURCE = """\
import asyncio
from typing import Any, Dict

from viksa_ai.runtime import context, mcp_endpoint


@mcp_endpoint(description="Leave a task running that soon raises SystemExit or KeyboardInterrupt")
async def leave(payload: Dict[str, Any]):
    async def later(kind: str) -> None:
        await asyncio.sleep(0.05)
        raise SystemExit(5) if kind == "exit" else KeyboardInterrupt()

    asyncio.ensure_future(later(payload["kind"]))
    return "left"


@mcp_endpoint(description="Sleep, then answer with the call's envelope")
async def nap(payload: Dict[str, Any]):
    await asyncio.sleep(0.3)
    return {"context": context()}
"""


@pytest.mark.parametrize("kind", ["exit", "interrupt"])
def test_a_stray_task_exiting_is_not_the_next_call_s_error(kind: str) -> None:
    # asyncio lets SystemExit and KeyboardInterrupt out of the loop from any task. One
    # raised by a task an earlier call left running failed the next call as "the
    # endpoint raised SystemExit" and left that call's own coroutine running unseen.
    manifest = {
        **probe_manifest(),
        "files": [{"name": "main.py", "content": STRAY_EXIT_SOURCE, "mime_type": "python"}],
        "inputs": [{"name": "kind", "type": "string"}],
        "agent_endpoints": [
            {
                "name": "leave",
                "module": "main",
                "description": "leave",
                "inputs": [{"input_ref": "kind"}],
            },
            {"name": "nap", "module": "main", "description": "nap", "inputs": []},
        ],
    }
    with AgentWorker(manifest, capture_output=True) as warm:
        assert warm.call("leave", {"kind": kind}).value == "left"
        napped = warm.call("nap", envelope={"run_id": "r2"})
        again = warm.call("nap")
        assert warm.starts == 1

    assert napped.value == {"context": {"run_id": "r2"}}
    name = "SystemExit" if kind == "exit" else "KeyboardInterrupt"
    assert napped.output is not None
    assert name in napped.output
    assert again.value == {"context": {}}


def test_warm_worker_restarts_after_a_crash(worker: AgentWorker) -> None:
    worker.call("echo")
    first = worker.pid
    with pytest.raises(WorkerCrashedError) as caught:
        worker.call("crash")
    assert caught.value.returncode == 3
    assert caught.value.exit_code == 7
    after = worker.call("echo").value
    # worker.pid, not the agent's os.getpid(): in the sandbox every child is pid 2.
    assert worker.pid != first
    assert after["calls"] == 1
    assert worker.starts == 2


def test_warm_worker_restarts_after_a_timeout(worker: AgentWorker) -> None:
    worker.call("echo")
    first = worker.pid
    assert first is not None
    with pytest.raises(EndpointTimeoutError):
        worker.call("nap", {"seconds": 30}, timeout=0.3)
    assert not process_exists(first)
    worker.call("echo")
    assert worker.pid != first


def test_agent_prints_never_corrupt_the_channel(worker: AgentWorker) -> None:
    result = worker.call("noisy", {"note": "n"})

    assert result.value == {"noisy": True, "note": "n"}
    assert result.output is not None
    assert "printed to stdout" in result.output
    assert "printed to stderr" in result.output
    assert worker.call("echo", {"note": "after"}).value["note"] == "after"


def test_uncaptured_agent_output_goes_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    result = run_endpoint(PROBE, "noisy")

    assert result.output is None
    captured = capfd.readouterr()
    assert captured.out == ""
    assert "printed to stdout" in captured.err
    assert "written to fd 1" in captured.err
    assert "from a subprocess" in captured.err


def test_closed_worker_refuses_calls() -> None:
    warm = AgentWorker(PROBE)
    warm.call("echo")
    pid = warm.pid
    warm.close()
    assert pid is not None
    assert not process_exists(pid)
    # Its own class (a RuntimeError still): a caller tells "nothing ran" from a bug.
    with pytest.raises(WorkerClosedError, match="closed: create a new one"):
        warm.call("echo")


async def test_closed_async_worker_refuses_calls_and_starts() -> None:
    warm = AsyncAgentWorker(PROBE)
    await warm.call("echo")
    await warm.close()
    with pytest.raises(WorkerClosedError, match="closed: create a new one"):
        await warm.call("echo")
    with pytest.raises(WorkerClosedError):
        await warm.start()
    assert issubclass(WorkerClosedError, RuntimeError)


# --- asyncio ---------------------------------------------------------------------------


def test_sync_worker_is_safe_to_share_between_threads(worker: AgentWorker) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda i: worker.call("echo", {"count": i % 10 + 1}), range(20)))
    assert sorted(r.value["calls"] for r in results) == list(range(1, 21))
    assert [r.value["payload"]["count"] for r in results] == [i % 10 + 1 for i in range(20)]


async def test_async_worker_serialises_concurrent_calls() -> None:
    async with AsyncAgentWorker(PROBE) as warm:
        results = await asyncio.gather(*(warm.call("echo", {"count": 1}) for _ in range(20)))
    assert sorted(r.value["calls"] for r in results) == list(range(1, 21))
    assert len({r.value["pid"] for r in results}) == 1


async def test_cancelled_call_kills_the_child_and_the_next_call_works() -> None:
    async with AsyncAgentWorker(PROBE) as warm:
        await warm.start()
        pid = warm.pid
        assert pid is not None
        task = asyncio.create_task(warm.call("nap", {"seconds": 0.9}, timeout=10))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not process_exists(pid)
        assert (await warm.call("echo")).value["pid"] != pid


async def test_a_clean_up_failing_after_its_caller_was_cancelled_still_ends_it_cancelled() -> None:
    # A cancelled task must end cancelled (anyio's scopes count on it); the clean-up's
    # own error is not lost either: it is the cancellation's cause.
    started, release = asyncio.Event(), asyncio.Event()

    async def clean_up() -> None:
        started.set()
        await release.wait()
        raise OSError("the clean-up failed")

    caller = asyncio.ensure_future(_to_the_end(clean_up()))
    await started.wait()
    caller.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError) as caught:
        await caller
    assert isinstance(caught.value.__cause__, OSError)


async def test_a_call_cancelled_again_and_again_ends_its_child_before_the_next_call() -> None:
    # anyio (the MCP SDK's server) cancels a task again at each await until it leaves
    # its cancelled scope: the clean-up must still end before a queued call takes the
    # lock, or that call goes to the child being killed (and the clean-up takes the new
    # child's task limit away).
    async with AsyncAgentWorker(PROBE) as warm:
        await warm.start()
        pid = warm.pid
        task = asyncio.create_task(warm.call("nap", {"seconds": 5}, timeout=10))
        await asyncio.sleep(0.2)
        queued = asyncio.create_task(warm.call("echo"))
        await asyncio.sleep(0)
        while not task.done():
            task.cancel()
            await asyncio.sleep(0)
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await queued).value["pid"] != pid


async def test_a_call_cancelled_while_its_timeout_kills_the_child_ends_that_clean_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The timeout's clean-up (kill, reap, close the stderr copy) runs under the lock like
    # the cancel's: cancelled again at each await (anyio), it must still end, or the copy
    # of the child's stderr and its pipe are left open for good. The reap is held until
    # the cancellations are in, so a loaded machine cannot end the clean-up first.
    held, release = asyncio.Event(), asyncio.Event()
    reaped = worker_module._reaped

    async def held_reap(*args: Any) -> int | None:
        held.set()
        await release.wait()
        return await reaped(*args)

    monkeypatch.setattr(worker_module, "_reaped", held_reap)
    async with AsyncAgentWorker(PROBE, capture_output=True) as warm:
        await warm.start()
        copy = warm._forwarder
        assert copy is not None
        task = asyncio.create_task(warm.call("nap", {"seconds": 5}, timeout=0.3))
        await asyncio.wait_for(held.wait(), 20)  # the timeout's clean-up has begun
        for _ in range(5):
            task.cancel()
            await asyncio.sleep(0)
        assert not task.done()  # the clean-up goes on
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert warm._forwarder is None
        assert (await warm.call("echo")).value["calls"] == 1


async def test_arun_endpoint_runs_one_call() -> None:
    result = await arun_endpoint(PROBE, "echo", {"note": "async"}, envelope={"run_id": "a"})
    assert result.value["note"] == "async"
    assert result.value["context"] == {"run_id": "a"}


# --- loading ---------------------------------------------------------------------------


def test_load_errors_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(AgentLoadError, match="no such file or directory"):
        load_agent(tmp_path / "missing")
    with pytest.raises(AgentLoadError, match=r"no agent\.json in this directory"):
        load_agent(tmp_path)
    (tmp_path / "agent.json").write_text("{not json")
    with pytest.raises(AgentLoadError, match="not valid JSON"):
        load_agent(tmp_path)
    (tmp_path / "agent.json").write_text("[]")
    with pytest.raises(AgentLoadError, match="JSON object"):
        load_agent(tmp_path)
    (tmp_path / "agent.json").write_text('{"agent_name": "x"}')
    with pytest.raises(AgentLoadError, match="agent_description"):
        load_agent(tmp_path)


def test_an_invalid_manifest_is_described_as_the_validator_does() -> None:
    manifest = probe_manifest()
    manifest["files"] = []
    del manifest["agent_endpoints"][0]["module"]
    with pytest.raises(AgentLoadError) as caught:
        load_agent(manifest)
    message = str(caught.value)
    # The model's own main.py rule is named too, with manifest paths as the validator
    # writes them (one shared translation of pydantic errors).
    assert 'files: VX101 files must include "main.py"' in message
    assert "agent_endpoints[0].module: VX002 required field 'module' is missing" in message


@pytest.mark.parametrize(
    ("name", "problem"),
    [("../escape.py", "climbs out"), ("/abs.py", "absolute"), ("pkg/", "names a directory")],
)
def test_unsafe_file_names_are_refused(name: str, problem: str) -> None:
    # The validator's rule (VX117), so what validates also loads and runs.
    manifest = probe_manifest()
    manifest["files"].append({"name": name, "content": "", "mime_type": "python"})
    with pytest.raises(AgentLoadError, match=problem):
        load_agent(manifest)


@pytest.mark.parametrize("names", [["data", "data/x.txt"], ["data/x.txt", "data"]])
def test_a_file_named_like_another_files_directory_is_a_load_error(names: list[str]) -> None:
    manifest = probe_manifest()
    manifest["files"] += [{"name": n, "content": "", "mime_type": "other"} for n in names]
    with AgentWorker(manifest) as warm, pytest.raises(AgentLoadError, match="cannot write"):
        warm.call("echo")


def test_bad_auth_methods_declaration_is_refused() -> None:
    manifest = probe_manifest()
    manifest["auth_methods"] = {"Bad-Id": ["token"]}
    with pytest.raises(AgentLoadError, match="auth_methods"):
        load_agent(manifest)


def test_main_py_on_disk_is_used_when_files_lack_it() -> None:
    agent = load_agent(PROBE)
    assert agent.files["main.py"] == (PROBE / "main.py").read_text()
    assert agent.auth_methods == {
        "probe_auth": ("token",),
        "probe_oauth": ("client_id", "client_secret"),
    }


# --- preparing a call apart from running it ----------------------------------------------


def test_prepare_call_checks_and_strips_without_starting_a_child() -> None:
    agent = load_agent(probe_manifest())
    prepared = prepare_call(agent, "echo", {"note": "x", A2A_PAYLOAD_KEY: {"run_id": "r"}})
    assert isinstance(prepared, PreparedCall)
    assert (prepared.endpoint.name, prepared.inputs, prepared.envelope) == (
        "echo",
        {"note": "x"},
        {"run_id": "r"},
    )
    assert prepare_call(agent, prepared.endpoint, {}, {"run_id": "e"}).envelope == {"run_id": "e"}
    with pytest.raises(InvalidInputError):
        prepare_call(agent, "echo", {"count": 99})
    with pytest.raises(EndpointNotFoundError):
        prepare_call(agent, "nope")


def test_call_prepared_runs_the_checked_call_of_its_own_agent() -> None:
    with AgentWorker(probe_manifest()) as warm:
        prepared = prepare_call(warm.agent, "echo", {"note": "ready"}, {"run_id": "p"})
        result = warm.call_prepared(prepared)
        assert (result.value["note"], result.value["context"]) == ("ready", {"run_id": "p"})
        foreign = prepare_call(load_agent(probe_manifest()), "echo", {"note": "x"})
        with pytest.raises(ValueError, match="another agent"):
            warm.call_prepared(foreign)


async def test_on_sent_runs_once_the_call_is_on_its_way() -> None:
    async with AsyncAgentWorker(PROBE) as warm:
        moments: list[str] = []

        def sent() -> None:
            moments.append("sent")

        # No child yet: before it starts (a start takes a while).
        first = prepare_call(warm.agent, "echo", {"note": "a"})
        result = await warm.call_prepared(first, on_sent=sent)
        assert (moments, result.value["note"]) == (["sent"], "a")
        assert warm.starts == 1
        # A warm child: after the call is handed to it, while the agent runs.
        napping = prepare_call(warm.agent, "nap", {"seconds": 0.5})
        call = asyncio.ensure_future(warm.call_prepared(napping, on_sent=sent))
        for _ in range(100):
            if len(moments) == 2:
                break
            await asyncio.sleep(0.01)
        assert moments == ["sent", "sent"]
        assert not call.done()
        await call


async def test_a_failing_on_sent_abandons_the_call() -> None:
    async with AsyncAgentWorker(PROBE) as warm:
        await warm.start()

        def broken() -> None:
            raise OSError("bookkeeping failed")

        napping = prepare_call(warm.agent, "nap", {"seconds": 30})
        with pytest.raises(OSError, match="bookkeeping failed"):
            await asyncio.wait_for(warm.call_prepared(napping, on_sent=broken), 20)
        # The child running the abandoned call is gone; the next call gets a new one.
        again = await warm.call_prepared(prepare_call(warm.agent, "echo", {"note": "b"}))
        assert (again.value["note"], warm.starts) == ("b", 2)


_PARENT = """
import sys, threading, time
from pathlib import Path
from viksa_ai.devtools.runner import AgentWorker

worker = AgentWorker(sys.argv[1], sandbox=False)
threading.Thread(
    target=lambda: worker.call(sys.argv[3], {"note": sys.argv[2]}, timeout=60), daemon=True
).start()
for _ in range(600):
    if Path(sys.argv[2]).exists() and worker.pid is not None:
        break
    time.sleep(0.05)
print(worker.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(os.name != "posix", reason="re-parenting and process groups are POSIX")
def test_a_busy_child_dies_with_its_runner(tmp_path: Path) -> None:
    # The child leads its own session: without its watch on the parent, a runner killed
    # mid-call would leave the child (and what the agent spawned) running.
    pid_file = tmp_path / "grandchild.pid"
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(PROBE), str(pid_file), "orphan"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        grandchild = ""
        for _ in range(100):
            grandchild = pid_file.read_text()
            if grandchild:
                break
            time.sleep(0.05)
        assert process_exists(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
    finally:
        parent.kill()
        if parent.stdout is not None:
            parent.stdout.close()
    assert wait_gone(child)
    assert wait_gone(int(grandchild))


_STOP_THE_WATCH = """
import os
import threading
import time

from viksa_ai.runtime import mcp_endpoint


def _broken(*args):
    raise SystemExit("no more")


@mcp_endpoint(description="Break what the child's parent watch uses, then block")
async def block(payload):
    parent = os.getppid()
    os.getppid = lambda: parent  # the runner, forever
    time.sleep = _broken
    open(payload["note"], "w").close()
    threading.Event().wait()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux")
def test_an_agent_breaking_time_sleep_and_getppid_still_dies_with_its_runner(
    tmp_path: Path,
) -> None:
    # The child's own watch on its parent shares the agent's process, which can stop it
    # (a raising time.sleep ends the thread); unsandboxed, the shim, a process of its
    # own, still ends the tree when the runner dies.
    manifest = probe_manifest()
    manifest["files"][0]["content"] = _STOP_THE_WATCH
    manifest["agent_endpoints"] = [{"name": "block", "module": "main", "description": "block"}]
    (tmp_path / "agent.json").write_text(json.dumps(manifest))
    marker = tmp_path / "blocked"
    runner = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(tmp_path / "agent.json"), str(marker), "block"],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = 0
    try:
        assert runner.stdout is not None
        child = int(runner.stdout.readline())
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=30)
        assert wait_gone(child)
    finally:
        runner.kill()
        if runner.stdout is not None:
            runner.stdout.close()
        if child and process_exists(child):
            os.killpg(child, signal.SIGKILL)


_ESCAPEE_PARENT = """
import sys, threading, time
from viksa_ai.devtools.runner import AgentWorker

worker = AgentWorker(sys.argv[1], sandbox=sys.argv[3] == "sandboxed")
threading.Thread(
    target=lambda: worker.call("escapee", {"note": sys.argv[2]}, timeout=60), daemon=True
).start()
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and subreapers are Linux")
@pytest.mark.parametrize("mode", ["unsandboxed", "sandboxed"])
def test_a_setsid_grandchild_dies_with_its_runner(mode: str) -> None:
    if mode == "sandboxed" and not sandbox_available():
        pytest.skip("no sandbox here (bubblewrap missing or user namespaces disabled)")
    token = f"viksa-escapee-{os.getpid()}-{time.monotonic_ns()}"
    parent = subprocess.Popen([sys.executable, "-c", _ESCAPEE_PARENT, str(PROBE), token, mode])
    try:
        assert eventually(grandchild_started(token)), "no grandchild started"
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
    finally:
        parent.kill()
        parent.wait(timeout=30)
    # The runner (holding the token in its own command line) is gone; so is the rest.
    assert wait_none_with(token), "a setsid grandchild outlived its runner"


# Where agent code runs: unsandboxed with a pids cgroup, or counting /proc (the shim's
# tree), in bubblewrap, or in the unshare sandbox.
ISOLATIONS = ["unsandboxed-cgroup", "unsandboxed-proc", "bwrap", "unshare"]


def isolate(mode: str, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Run workers in ``mode`` (one of :data:`ISOLATIONS`; skip the test where it is not
    available here); whether it is a sandbox. Subprocesses inherit the environment part."""
    if mode == "unshare":
        monkeypatch.setenv("VIKSA_BWRAP", "/nonexistent/bwrap")
    if mode == "unsandboxed-proc":
        monkeypatch.setattr(_tasks, "cgroup_parent", lambda: None)
    sandbox = not mode.startswith("unsandboxed")
    if sandbox and os.path.basename(sandbox_backend() or "") != mode:
        pytest.skip(f"no {mode} sandbox here: {sandbox_status()[1]}")
    if mode == "unsandboxed-cgroup" and _tasks.cgroup_parent() is None:
        pytest.skip("no writable pids cgroup here")
    return sandbox


def in_each_isolation(test: Callable[..., None]) -> Callable[..., None]:
    """Run ``test(mode, monkeypatch)`` in each mode of :data:`ISOLATIONS` (Linux only)."""
    linux = pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="/proc and cgroups are Linux"
    )
    marked: Callable[..., None] = linux(pytest.mark.parametrize("mode", ISOLATIONS)(test))
    return marked


@in_each_isolation
def test_processes_started_out_of_the_workers_tree_die_at_the_timeout_and_at_close(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # clone(CLONE_PARENT) makes a sibling of the worker, not a descendant; posix_spawn of
    # setsid and a thread that forks after the call returns leave its session too. In
    # the sandbox the PID namespace holds them all; unsandboxed, the pids cgroup does,
    # and without one the shim the worker starts under (the sibling is its child).
    sandbox = isolate(mode, monkeypatch)
    token = f"viksa-spawners-{os.getpid()}-{time.monotonic_ns()}"
    secrets = {"probe_auth.token": token}
    try:
        with AgentWorker(PROBE, sandbox=sandbox, secrets=secrets) as warm:
            for end in ("timeout", "close"):
                assert len(warm.call("spawners").value) >= 1
                # Every one of them (and the thread's, forked a moment later) holds it.
                assert eventually(lambda: len(processes_with(token)) >= 4), end
                if end == "timeout":
                    with pytest.raises(EndpointTimeoutError):
                        warm.call("nap", {"seconds": 5}, timeout=0.2)
                    assert wait_none_with(token), "a process survived the timeout"
    finally:
        closed = wait_none_with(token)
        stop_all_with(token)
    assert closed, "a process survived the worker's close"


_SPAWNERS_PARENT = """
import sys, time
from viksa_ai.devtools.runner import AgentWorker, _tasks

if sys.argv[3] == "unsandboxed-proc":
    _tasks.cgroup_parent = lambda: None
worker = AgentWorker(
    sys.argv[1],
    sandbox=not sys.argv[3].startswith("unsandboxed"),
    secrets={"probe_auth.token": sys.argv[2]},
)
worker.call("spawners")
print("started", flush=True)
time.sleep(120)
"""


@in_each_isolation
def test_processes_started_out_of_the_workers_tree_die_with_their_runner(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runner is killed while the worker's sibling (clone(CLONE_PARENT)) and the
    # processes that left its session run: none of them outlives it.
    isolate(mode, monkeypatch)
    token = f"viksa-spawners-{os.getpid()}-{time.monotonic_ns()}"
    parent = subprocess.Popen(
        [sys.executable, "-c", _SPAWNERS_PARENT, str(PROBE), token, mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        assert parent.stdout.readline().strip() == "started"
        # The runner (its command line), the worker and the three it started hold it.
        assert eventually(lambda: len(processes_with(token)) >= 5)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
    finally:
        parent.kill()
        parent.wait(timeout=30)
        if parent.stdout is not None:
            parent.stdout.close()
        gone = wait_none_with(token)
        stop_all_with(token)
    assert gone, "a process outlived its runner"


@in_each_isolation
def test_what_a_worker_leaves_when_it_dies_dies_with_it(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker ends abruptly (os._exit) once its setsid grandchild runs: orphaned, the
    # grandchild is re-parented past the dead worker, out of its tree.
    sandbox = isolate(mode, monkeypatch)
    token = f"viksa-deserter-{os.getpid()}-{time.monotonic_ns()}"
    try:
        with AgentWorker(PROBE, sandbox=sandbox) as warm:
            with pytest.raises(WorkerCrashedError) as caught:
                warm.call("deserter", {"note": token})
            assert wait_none_with(token), "a grandchild outlived its dead worker"
    finally:
        stop_all_with(token)
    # Its exit code, as the worker exited (the shim ends as it did).
    assert caught.value.returncode == 3


@in_each_isolation
def test_an_agent_that_kills_its_workers_parent_leaves_nothing_running(
    mode: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # The worker's sibling (clone(CLONE_PARENT)) is a child of the worker's parent: the
    # shim unsandboxed, which agent code (the same user) can kill, orphaning the sibling.
    if mode == "unsandboxed-proc":
        request.applymarker(
            pytest.mark.xfail(
                reason="agent code can kill the shim, whose children then outlive the "
                "call: still open unsandboxed without a pids cgroup (SECURITY.md, known "
                "limits)",
                raises=AssertionError,
                strict=True,
            )
        )
    sandbox = isolate(mode, monkeypatch)
    if os.uname().machine != "x86_64":
        pytest.skip("the probe's clone(CLONE_PARENT) is x86-64 only")
    token = f"viksa-mutineer-{os.getpid()}-{time.monotonic_ns()}"
    try:
        with AgentWorker(PROBE, sandbox=sandbox, secrets={"probe_auth.token": token}) as warm:
            # Unsandboxed the worker dies with its parent; in a sandbox the kill is
            # refused or ignored (a namespace's init) and the call runs into its timeout.
            with pytest.raises((WorkerCrashedError, EndpointTimeoutError)):
                warm.call("mutineer", timeout=3)
            assert wait_none_with(token), "the worker's sibling outlived the call"
    finally:
        stop_all_with(token)
