"""The viksa-ai 0.2.x runtime contracts 0.3 keeps (platform services pin >=0.1, <1).

Each test states what a 0.2 worker or agent relied on, as the 0.2.1 and 0.2.7 wheels
implemented it.
"""

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import viksa_ai.runtime
from viksa_ai.runtime import to_module_source

KEY = "__viksa_a2a__"
SUBPROCESS_TIMEOUT = 120

# -- the 0.2 worker hook: _strip_envelope(inputs) -> inputs ------------------------------


def test_strip_envelope_pops_the_key_in_place_and_installs_the_envelope(rt: ModuleType) -> None:
    inputs: dict[str, Any] = {"source": "JFK", KEY: {"run_id": "run-1", "metadata": {"n": [1]}}}

    returned = rt._strip_envelope(inputs)

    # 0.2 workers rebind `inputs = ViksaAI._strip_envelope(inputs)`: the same dict, mutated.
    assert returned is inputs
    assert inputs == {"source": "JFK"}
    assert rt.context() == {"run_id": "run-1", "metadata": {"n": [1]}}


def test_strip_envelope_without_an_envelope_clears_the_previous_one(rt: ModuleType) -> None:
    rt._strip_envelope({"q": 1, KEY: {"run_id": "previous"}})

    inputs = {"q": 2}
    assert rt._strip_envelope(inputs) is inputs
    assert inputs == {"q": 2}
    # 0.2 left "previous" in place here: the next call read another call's run id.
    assert rt.context() == {}

    rt._strip_envelope({"q": 3, KEY: {"run_id": "again"}})
    explicit_none = {"q": 4, KEY: None}
    assert rt._strip_envelope(explicit_none) == {"q": 4}
    assert rt.context() == {}


def test_strip_envelope_keeps_its_own_copy_of_the_envelope(rt: ModuleType) -> None:
    envelope: dict[str, Any] = {"run_id": "run-1", "metadata": {"attempt": [1]}}
    rt._strip_envelope({"q": 1, KEY: envelope})

    envelope["metadata"]["attempt"].append(2)
    rt.context()["metadata"]["attempt"].append(3)

    assert rt.context() == {"run_id": "run-1", "metadata": {"attempt": [1]}}


@pytest.mark.parametrize("inputs", [None, "text", 3, ["a", KEY], ("a",)])
def test_strip_envelope_returns_non_dict_inputs_unchanged(rt: ModuleType, inputs: object) -> None:
    rt._strip_envelope({KEY: {"run_id": "previous"}})

    assert rt._strip_envelope(inputs) is inputs
    assert rt.context() == {}


def test_strip_envelope_rejects_a_malformed_envelope_without_mutating(rt: ModuleType) -> None:
    rt._strip_envelope({KEY: {"run_id": "previous"}})
    inputs = {"q": 1, KEY: "run-1"}

    with pytest.raises(TypeError, match=r"inputs\['__viksa_a2a__'\] .* must be a mapping or None"):
        rt._strip_envelope(inputs)
    assert inputs == {"q": 1, KEY: "run-1"}
    assert rt.context() == {}


def test_split_envelope_is_the_non_mutating_hook(rt: ModuleType) -> None:
    inputs = {"q": 1, KEY: {"run_id": "r"}}

    assert rt._split_envelope(inputs) == ({"q": 1}, {"run_id": "r"})
    assert inputs == {"q": 1, KEY: {"run_id": "r"}}
    assert rt.context() == {}


# -- the 0.2 worker loop, against the injected ViksaAI.py alone --------------------------

_AGENT = """
from ViksaAI import context, mcp_endpoint


@mcp_endpoint(description="Echo the source and the run id")
async def echo(payload):
    return {"payload": dict(payload), "run_id": context().get("run_id"), "ctx": context()}
"""

# The flow of chrona-worker 0.2: for every call, `inputs = ViksaAI._strip_envelope(inputs)`
# then `await main.<endpoint>(inputs)`; here both in one event loop and one per call.
_WORKER = """
import asyncio, json, sys
sys.path.insert(0, ".")
import ViksaAI
import main

def calls():  # fresh inputs per pass: the hook pops the envelope from them
    return json.loads(sys.argv[1])

assert not any(name.startswith("viksa_ai") for name in sys.modules), "not alone"

async def serve_in_one_loop():
    seen = []
    for inputs in calls():
        inputs = ViksaAI._strip_envelope(inputs)
        seen.append(await main.echo(inputs))
    return seen

def serve_one_loop_per_call():
    seen = []
    for inputs in calls():
        inputs = ViksaAI._strip_envelope(inputs)
        seen.append(asyncio.run(main.echo(inputs)))
    return seen

print(json.dumps({
    "one_loop": asyncio.run(serve_in_one_loop()),
    "loop_per_call": serve_one_loop_per_call(),
}))
"""


def test_a_0_2_worker_loop_runs_endpoints_with_each_call_s_context(tmp_path: Path) -> None:
    (tmp_path / "ViksaAI.py").write_bytes(to_module_source().encode("utf-8"))
    (tmp_path / "main.py").write_text(_AGENT, encoding="utf-8")
    calls: list[dict[str, Any]] = [
        {"source": "JFK", KEY: {"run_id": "run-1", "parent_step_id": "s-1"}},
        {"source": "LAX"},
        {"source": "SFO", KEY: {"run_id": "run-3"}},
        {"source": "ORD", KEY: None},
        {"source": "BOS", KEY: {"run_id": "run-5", "metadata": {"n": 5}}},
    ]
    report = _worker_report(tmp_path, _WORKER, json.dumps(calls))

    expected = [
        {
            "payload": {"source": "JFK"},
            "run_id": "run-1",
            "ctx": {"run_id": "run-1", "parent_step_id": "s-1"},
        },
        {"payload": {"source": "LAX"}, "run_id": None, "ctx": {}},
        {"payload": {"source": "SFO"}, "run_id": "run-3", "ctx": {"run_id": "run-3"}},
        {"payload": {"source": "ORD"}, "run_id": None, "ctx": {}},
        {
            "payload": {"source": "BOS"},
            "run_id": "run-5",
            "ctx": {"run_id": "run-5", "metadata": {"n": 5}},
        },
    ]
    assert report == {"one_loop": expected, "loop_per_call": expected}


# A 0.2 agent that took everything from the injected file: 0.2's ViksaAI.py had no
# __all__, so `import *` also gave `os` and the typing names it imported.
_STAR_AGENT = """
from ViksaAI import *


@mcp_endpoint(description="Uses what 0.2's star import gave")
async def run(payload: Dict[str, Optional[str]]) -> List[str]:
    check: Callable[[str], bool] = os.path.isabs
    return [str(check("/")), context().get("run_id") or ""]
"""


def test_a_0_2_agent_gets_what_0_2s_star_import_gave(tmp_path: Path) -> None:
    (tmp_path / "ViksaAI.py").write_bytes(to_module_source().encode("utf-8"))
    (tmp_path / "main.py").write_text(_STAR_AGENT, encoding="utf-8")
    code = """
        import asyncio, json, sys
        sys.path.insert(0, ".")
        import main
        print(json.dumps(asyncio.run(main.run({}))))
    """
    assert _worker_report(tmp_path, code) == ["True", ""]


def test_the_0_2_star_names_stay_out_of_viksa_ai_runtime() -> None:
    # Only the injected copy gives them; the package's public names are its own.
    from viksa_ai.runtime import _viksa

    assert not {"os", "Dict", "List", "Optional", "Callable"} & set(_viksa.__all__)
    assert not {"os", "Dict", "List", "Optional", "Callable"} & set(viksa_ai.runtime.__all__)


def _worker_report(folder: Path, code: str, *args: str) -> Any:
    """What ``code`` prints as JSON, run in ``folder`` as a 0.2 worker runs: without
    site-packages (only the injected file can serve ``import ViksaAI``)."""
    return _fresh_python_report(code, *args, folder=folder, site=False)


# -- mcp_endpoint: every use 0.2 accepted still imports ----------------------------------

# 0.2's decorator returned the function unchanged whatever the description, so agents
# with these uses deployed; 0.3 warns about each instead of failing the import.
_LENIENT_AGENT = """
from ViksaAI import mcp_endpoint


@mcp_endpoint(description="")
async def blank(payload):
    return "blank"


@mcp_endpoint(description="   ")
async def spaces(payload):
    return "spaces"


@mcp_endpoint(description=None)
async def none(payload):
    return "none"


@mcp_endpoint(42)
async def number(payload):
    return "number"


@mcp_endpoint(description="Sync")
def sync(payload):
    return "sync"


@mcp_endpoint
async def bare(payload):
    return "bare"


@mcp_endpoint
def bare_sync(payload):
    return "bare_sync"


class Tools:
    @mcp_endpoint(description="A method")
    def method(self, payload):
        return "method"


@mcp_endpoint(description="Fine")
async def fine(payload):
    return "fine"
"""

_LENIENT_IMPORT = """
import asyncio, inspect, json, sys, warnings
sys.path.insert(0, ".")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import main
import ViksaAI

assert not any(name.startswith("viksa_ai") for name in sys.modules), "not alone"

def call(function):
    result = function({"q": 1})
    return asyncio.run(result) if inspect.iscoroutine(result) else result

names = ["blank", "spaces", "none", "number", "sync", "bare", "bare_sync", "fine"]
print(json.dumps({
    "results": {name: call(getattr(main, name)) for name in names}
    | {"method": call(main.Tools().method)},
    "info": {
        name: repr(ViksaAI.get_endpoint_info(getattr(main, name))) for name in names
    } | {"method": repr(ViksaAI.get_endpoint_info(main.Tools.method))},
    "warnings": [
        [w.category is ViksaAI.ViksaEndpointWarning, w.filename, w.lineno]
        for w in caught
    ],
}))
"""


def test_a_module_with_every_0_2_accepted_use_imports_and_serves(tmp_path: Path) -> None:
    (tmp_path / "ViksaAI.py").write_bytes(to_module_source().encode("utf-8"))
    (tmp_path / "main.py").write_text(_LENIENT_AGENT, encoding="utf-8")

    completed = subprocess.run(
        # -S: no site-packages, so only the injected file can serve `import ViksaAI`.
        [sys.executable, "-S", "-c", textwrap.dedent(_LENIENT_IMPORT)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)

    names = ["blank", "spaces", "none", "number", "sync", "bare", "bare_sync", "fine", "method"]
    assert report["results"] == {name: name for name in names}
    assert report["info"] == {
        "blank": "EndpointInfo(name='blank', description='')",
        "spaces": "EndpointInfo(name='spaces', description='   ')",
        "none": "EndpointInfo(name='none', description='')",
        "number": "EndpointInfo(name='number', description='')",
        "sync": "EndpointInfo(name='sync', description='Sync')",
        "bare": "EndpointInfo(name='bare', description='')",
        "bare_sync": "EndpointInfo(name='bare_sync', description='')",
        "fine": "EndpointInfo(name='fine', description='Fine')",
        "method": "EndpointInfo(name='method', description='A method')",
    }
    # One warning per problem, each naming the decorator's line in main.py.
    lines = _LENIENT_AGENT.splitlines()
    decorated = [n + 1 for n, line in enumerate(lines) if line.strip().startswith("@")]
    expected_lines = [*decorated[:5], decorated[5], decorated[6], decorated[6], decorated[7]]
    main_py = str(tmp_path / "main.py")
    assert report["warnings"] == [[True, main_py, line] for line in expected_lines]


# -- ViksaAuth -------------------------------------------------------------------------


def test_require_param_returns_an_empty_value(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0.2 raised only when the variable was missing; an empty value is a value.
    monkeypatch.setenv("oauth_client.scope", "")

    assert rt.ViksaAuth.require_param("oauth_client", "scope") == ""
    with pytest.raises(rt.ViksaAuthError, match="'audience' of method 'oauth_client' is not set"):
        rt.ViksaAuth.require_param("oauth_client", "audience")


@pytest.mark.parametrize("method_id", [None, "", 1, b"bearer_token", ("bearer_token",)])
def test_membership_checks_answer_false_for_anything_but_a_method_id(
    rt: ModuleType, monkeypatch: pytest.MonkeyPatch, method_id: object
) -> None:
    monkeypatch.setenv("VIKSA_AUTH_ENABLED_METHODS", "bearer_token")
    monkeypatch.setenv("VIKSA_AUTH_CONFIGURED_METHODS", "bearer_token")

    assert rt.ViksaAuth.is_method_enabled(method_id) is False
    assert rt.ViksaAuth.is_method_configured(method_id) is False


# -- the 0.2 submodules ----------------------------------------------------------------

_SUBMODULE_NAMES = {
    "viksa_ai.runtime.auth": ("ViksaAuth", "ViksaAuthError"),
    "viksa_ai.runtime.endpoints": ("mcp_endpoint",),
    "viksa_ai.runtime.a2a": (
        "A2A_PAYLOAD_KEY",
        "_A2A_PAYLOAD_KEY",
        "A2AContext",
        "attach_envelope",
        "context",
        "_set_envelope",
        "_strip_envelope",
    ),
}


@pytest.mark.parametrize("module_name", sorted(_SUBMODULE_NAMES))
def test_0_2_submodules_re_export_the_package_objects(module_name: str) -> None:
    module = importlib.import_module(module_name)  # filterwarnings=error: no warning

    names = _SUBMODULE_NAMES[module_name]
    assert set(module.__all__) == {name for name in names if not name.startswith("_")}
    for name in names:
        assert getattr(module, name) is getattr(viksa_ai.runtime, name)
    assert module.__doc__ is not None
    assert "viksa_ai.runtime" in module.__doc__


def test_0_2_submodules_serve_a_0_2_style_agent() -> None:
    from viksa_ai.runtime.a2a import _strip_envelope, attach_envelope, context
    from viksa_ai.runtime.auth import ViksaAuth
    from viksa_ai.runtime.endpoints import mcp_endpoint

    @mcp_endpoint(description="Echo the run id")
    async def echo(payload: dict[str, Any]) -> Any:
        return payload, context().get("run_id")

    inputs = _strip_envelope(attach_envelope({"q": 1}, {"run_id": "r-1"}))

    assert inputs == {"q": 1}
    assert context() == {"run_id": "r-1"}
    assert ViksaAuth.is_method_enabled(None) is False


def _fresh_python_report(
    code: str, *args: str, folder: Path | None = None, site: bool = True
) -> Any:
    """What ``code`` prints as JSON, run with warnings as errors in a fresh interpreter
    (in ``folder``; without site-packages unless ``site``)."""
    options = ["-W", "error"] if site else ["-S", "-W", "error"]
    completed = subprocess.run(
        [sys.executable, *options, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=SUBPROCESS_TIMEOUT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def test_0_2_submodules_import_only_the_standard_library_and_no_warnings() -> None:
    report = _fresh_python_report(
        """
        import json, sys
        before = set(sys.modules)
        import viksa_ai.runtime
        lean = set(sys.modules)
        import viksa_ai.runtime.auth, viksa_ai.runtime.a2a, viksa_ai.runtime.endpoints
        added = sorted(set(sys.modules) - lean)
        print(json.dumps({
            "eager": sorted(n for n in lean - before if n.startswith("viksa_ai.")),
            "added": added,
        }))
        """
    )

    # Loaded on demand only, so `import viksa_ai.runtime` costs what it did.
    assert report["eager"] == ["viksa_ai.runtime", "viksa_ai.runtime._viksa"]
    third_party = [
        name
        for name in report["added"]
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "viksa_ai"
    ]
    assert third_party == []
    assert {"viksa_ai.runtime.auth", "viksa_ai.runtime.a2a", "viksa_ai.runtime.endpoints"} <= set(
        report["added"]
    )


def test_0_2_submodules_are_attributes_of_the_package_as_in_0_2() -> None:
    # 0.2's package imported its submodules, so services wrote
    # `import viksa_ai.runtime` then `viksa_ai.runtime.inject.to_module_source()` (the
    # path the 0.2 README names): that raised AttributeError. A fresh interpreter, as
    # another test's import would set the attributes here.
    report = _fresh_python_report(
        """
        import json, sys
        import viksa_ai.runtime
        lazy = [n for n in ("a2a", "auth", "endpoints", "inject")
                if f"viksa_ai.runtime.{n}" in sys.modules]
        runtime = viksa_ai.runtime
        print(json.dumps({
            "lazy": lazy,
            "source": runtime.inject.to_module_source() == runtime.to_module_source(),
            "same": [
                runtime.auth.ViksaAuth is runtime.ViksaAuth,
                runtime.auth.ViksaAuthError is runtime.ViksaAuthError,
                runtime.a2a.context is runtime.context,
                runtime.a2a._strip_envelope is runtime._strip_envelope,
                runtime.endpoints.mcp_endpoint is runtime.mcp_endpoint,
            ],
            "listed": sorted({"a2a", "auth", "endpoints", "inject"} & set(dir(runtime))),
        }))
        """
    )

    assert report["lazy"] == []  # still loaded on first use only
    assert report["source"] is True
    assert report["same"] == [True] * 5
    assert report["listed"] == ["a2a", "auth", "endpoints", "inject"]
    with pytest.raises(AttributeError, match="no attribute 'nowhere'"):
        getattr(viksa_ai.runtime, "nowhere")  # noqa: B009
