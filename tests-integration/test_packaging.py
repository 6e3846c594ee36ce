"""The five wheels, built from this checkout, installed alone and together in fresh venvs.

Every wheel and sdist carries the one version (VERSION at the repository root) and the
Apache-2.0 LICENSE.

Proves the namespace-packaging promises of ARCHITECTURE.md: each wheel ships only its
own portion of ``viksa_ai`` and pins its siblings to the one version; any subset works;
viksa-runtime needs no third-party module; the meta-package adds the top-level names and
can be uninstalled; a pip upgrade from the single-wheel viksa-ai 0.2.x ends working or
in an ImportError naming a repair command that works.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shlex
import tarfile
import zipfile
from collections.abc import Callable
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Venv, Wheelhouse

pytestmark = pytest.mark.packaging

REPO_ROOT = Path(__file__).resolve().parents[1]
VERSION = (REPO_ROOT / "VERSION").read_text(encoding="utf-8").strip()
LICENSE = (REPO_ROOT / "LICENSE").read_bytes()

MakeVenv = Callable[..., "Venv"]
# Distribution -> its part of the namespace: one line per distribution.
DISTRIBUTIONS = {
    "viksa-ai": "",
    "viksa-runtime": "runtime",
    "viksa-models": "models",
    "viksa-client": "client",
    "viksa-devtools": "devtools",
    "viksa-mcp": "mcp_bridge",
}
# Installed with an extra of the meta-package (viksa-ai[mcp]), not by viksa-ai alone.
EXTRA_DISTRIBUTIONS = {"viksa-mcp"}

# Runs BODY (which sets `facts`) and prints the facts as JSON, with the third-party
# modules BODY loaded: from a file, outside the standard library and viksa_ai (a module
# object built at run time, with no file, can only come from our code) and the
# distributions installed in the venv.
_PROBE = """
import importlib.metadata, json, sys
_before = set(sys.modules)
{body}
_third_party = sorted(
    name for name in set(sys.modules) - _before
    if name.partition(".")[0] not in {{*sys.stdlib_module_names, "viksa_ai"}}
    and getattr(sys.modules[name], "__file__", None) is not None
)
_installed = sorted(
    dist.metadata["Name"].lower().replace("_", "-")
    for dist in importlib.metadata.distributions()
)
print(json.dumps({{**facts, "third_party": _third_party, "installed": _installed}}))
"""


def probe(venv: Venv, body: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``body`` in the venv and return its facts (see _PROBE)."""
    done = venv.python_code(_PROBE.format(body=body), env=env)
    facts: dict[str, Any] = json.loads(done.stdout)
    return facts


def wheel_metadata(wheel: Path) -> Message:
    """The METADATA of a wheel."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return HeaderParser().parsestr(archive.read(metadata).decode("utf-8"))


def sdist_files(sdist: Path) -> dict[str, bytes]:
    """The regular files of an sdist, by path below its top folder."""
    with tarfile.open(sdist) as archive:
        files = {}
        for member in archive.getmembers():
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is not None:
                files[member.name.partition("/")[2]] = extracted.read()
        return files


def requires_dist(wheel: Path) -> list[str]:
    """The Requires-Dist lines of a wheel's METADATA."""
    return wheel_metadata(wheel).get_all("Requires-Dist") or []


# name, [extras], version specifiers, ; marker
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)(;.*)?$")


def split_requirement(requirement: str) -> tuple[str, str]:
    """The normalized project name of a requirement and its version specifiers."""
    match = _REQUIREMENT.match(requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(3).strip()


# --- the wheels themselves --------------------------------------------------------------


def test_one_wheel_and_sdist_per_distribution_at_the_one_version(
    wheelhouse: Wheelhouse,
) -> None:
    assert set(wheelhouse.wheels) == set(DISTRIBUTIONS)
    assert set(wheelhouse.sdists) == set(DISTRIBUTIONS)
    assert wheelhouse.version == VERSION
    assert {sdist.name for sdist in wheelhouse.sdists.values()} == {
        f"{name.replace('-', '_')}-{VERSION}.tar.gz" for name in DISTRIBUTIONS
    }


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_wheel_ships_the_license(wheelhouse: Wheelhouse, name: str) -> None:
    metadata = wheel_metadata(wheelhouse.wheels[name])
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    dist_info = f"{name.replace('-', '_')}-{VERSION}.dist-info"
    with zipfile.ZipFile(wheelhouse.wheels[name]) as archive:
        assert archive.read(f"{dist_info}/licenses/LICENSE") == LICENSE


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_sdist_ships_the_license_and_the_one_version(wheelhouse: Wheelhouse, name: str) -> None:
    files = sdist_files(wheelhouse.sdists[name])
    assert files["LICENSE"] == LICENSE
    pkg_info = HeaderParser().parsestr(files["PKG-INFO"].decode("utf-8"))
    assert (pkg_info["Name"], pkg_info["Version"]) == (name, VERSION)
    assert pkg_info["License-Expression"] == "Apache-2.0"
    assert pkg_info.get_all("License-File") == ["LICENSE"]
    assert pkg_info.get_all("Dynamic") is None  # nothing left for a later build to decide
    for requirement in pkg_info.get_all("Requires-Dist") or []:
        required, specifiers = split_requirement(requirement)
        if required in DISTRIBUTIONS:
            assert specifiers == f"=={VERSION}", requirement
    # The sdist builds on its own: its pyproject holds the version, not a path outside.
    assert re.search(rf'^version = "{re.escape(VERSION)}"$', files["pyproject.toml"].decode(), re.M)


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_wheel_holds_only_its_own_portion(wheelhouse: Wheelhouse, name: str) -> None:
    part = DISTRIBUTIONS[name]
    dist_info = f"{name.replace('-', '_')}-{wheelhouse.version}.dist-info/"
    with zipfile.ZipFile(wheelhouse.wheels[name]) as archive:
        files = [n for n in archive.namelist() if not n.startswith(dist_info)]
    if part:
        root = f"viksa_ai/{part}/"
        assert [n for n in files if not n.startswith(root)] == []
        assert {f"{root}__init__.py", f"{root}py.typed"} <= set(files)
    else:
        assert sorted(files) == ["viksa_ai/__init__.py", "viksa_ai/py.typed"]
    assert [n for n in files if "__pycache__" in n or n.endswith(".pyc")] == []


def test_the_devtools_wheel_ships_the_dashboard_files(wheelhouse: Wheelhouse) -> None:
    # The dashboard loads nothing from another origin: its files come with the wheel.
    static = "viksa_ai/devtools/platform/http/_dashboard/static/"
    with zipfile.ZipFile(wheelhouse.wheels["viksa-devtools"]) as archive:
        files = set(archive.namelist())
    assert {f"{static}dashboard.js", f"{static}dashboard.css"} <= files
    server = [r for r in requires_dist(wheelhouse.wheels["viksa-devtools"]) if "server" in r]
    assert any(r.startswith("swagger-ui-bundle-v2") for r in server), server


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_wheel_pins_its_siblings_to_the_one_version(wheelhouse: Wheelhouse, name: str) -> None:
    metadata = wheel_metadata(wheelhouse.wheels[name])
    assert (metadata["Name"], metadata["Version"]) == (name, VERSION)
    for requirement in requires_dist(wheelhouse.wheels[name]):
        required, specifiers = split_requirement(requirement)
        if required in DISTRIBUTIONS:
            assert specifiers == f"=={wheelhouse.version}", requirement


def test_wheel_dependencies_follow_the_house_plan(wheelhouse: Wheelhouse) -> None:
    requires = {
        name: {split_requirement(req)[0] for req in requires_dist(wheel) if "extra ==" not in req}
        for name, wheel in wheelhouse.wheels.items()
    }
    assert requires["viksa-runtime"] == set()
    assert requires["viksa-models"] == {"pydantic"}
    assert requires["viksa-client"] >= {"httpx", "viksa-models"}
    assert "viksa-runtime" not in requires["viksa-client"]
    assert requires["viksa-devtools"] >= {"viksa-models", "viksa-runtime"}
    assert requires["viksa-ai"] >= set(DISTRIBUTIONS) - {"viksa-ai", *EXTRA_DISTRIBUTIONS}
    assert requires["viksa-mcp"] >= {"mcp", "viksa-client"}
    assert f"viksa-mcp=={wheelhouse.version}; extra == 'mcp'" in requires_dist(
        wheelhouse.wheels["viksa-ai"]
    )


# --- subsets in fresh venvs -------------------------------------------------------------

_RUNTIME_AT_WORK = """
import asyncio
from viksa_ai.runtime import (
    A2A_PAYLOAD_KEY, ViksaAuth, ViksaAuthError, attach_envelope, context, mcp_endpoint,
    to_module_source,
)

@mcp_endpoint(description="Echo the payload with the call's context")
async def echo(payload):
    return {"payload": payload, "context": context()}

try:
    ViksaAuth.require_param("oauth_client", "client_id")
    missing = "no error"
except ViksaAuthError as error:
    missing = type(error).__name__
source = to_module_source()
compile(source, "ViksaAI.py", "exec")
facts = {
    "root_file": getattr(sys.modules["viksa_ai"], "__file__", None),
    "result": asyncio.run(echo({"q": 1})),
    "name": echo.__name__,
    "api_key": ViksaAuth.require_param("bearer_token", "api_key"),
    "preferred": ViksaAuth.preferred_method("oauth_client", "bearer_token"),
    "missing": missing,
    "attached": A2A_PAYLOAD_KEY in attach_envelope({"q": 1}, {"run_id": "r-1"}),
    "source_is_module": "mcp_endpoint" in source,
}
"""
_AUTH_ENV = {
    "bearer_token.api_key": "key-1",
    "VIKSA_AUTH_ENABLED_METHODS": "bearer_token",
    "VIKSA_AUTH_CONFIGURED_METHODS": "bearer_token,oauth_client",
}


def test_runtime_alone_works_with_the_standard_library_only(make_venv: MakeVenv) -> None:
    venv = make_venv()
    venv.install("viksa-runtime")
    facts = probe(venv, _RUNTIME_AT_WORK, env=_AUTH_ENV)
    assert facts["installed"] == ["viksa-runtime"]
    assert facts["third_party"] == []
    assert facts["root_file"] is None  # viksa_ai is a namespace package here
    assert facts["result"] == {"payload": {"q": 1}, "context": {}}
    assert facts["name"] == "echo"
    assert (facts["api_key"], facts["preferred"]) == ("key-1", "bearer_token")
    assert facts["missing"] == "ViksaAuthError"
    assert facts["attached"] is True
    assert facts["source_is_module"] is True


def test_models_alone_need_only_pydantic(make_venv: MakeVenv) -> None:
    venv = make_venv()
    venv.install("viksa-models")
    facts = probe(
        venv,
        """
import importlib.util, pydantic
from viksa_ai.models import a2a, agent, answers, auth, executor
from viksa_ai.models.a2a import A2A_PROTOCOL_VERSION
from viksa_ai.models.agent import AgentGenerationResponse
facts = {
    "pydantic": pydantic.VERSION,
    "is_model": issubclass(AgentGenerationResponse, pydantic.BaseModel),
    "protocol": A2A_PROTOCOL_VERSION,
    "answer_types": pydantic.TypeAdapter(answers.AgentPage).validate_python(
        {"agents": [{"id": "a", "agent_name": "A", "agent_alias": "a"}]}
    )["agents"][0]["id"],
    "siblings": [p for p in ("runtime", "client", "devtools")
                 if importlib.util.find_spec(f"viksa_ai.{p}") is not None],
}
""",
    )
    assert facts["is_model"] is True
    assert facts["protocol"] == 1
    assert facts["answer_types"] == "a"
    assert facts["siblings"] == []
    # Exactly what pydantic alone brings, at the same version.
    bare = make_venv()
    bare.install(f"pydantic=={facts['pydantic']}")
    pydantic_only = probe(bare, "facts = {}")["installed"]
    assert sorted({*pydantic_only, "viksa-models"}) == facts["installed"]


@pytest.mark.parametrize(
    ("name", "with_it"),
    [
        ("viksa-client", {"viksa-models"}),
        ("viksa-devtools", {"viksa-models", "viksa-runtime"}),
        ("viksa-mcp", {"viksa-client", "viksa-models"}),
    ],
)
def test_a_part_alone_imports_with_only_its_declared_siblings(
    make_venv: MakeVenv, name: str, with_it: set[str]
) -> None:
    venv = make_venv()
    venv.install(name)
    part = DISTRIBUTIONS[name]
    facts = probe(venv, f"import viksa_ai.{part}\nfacts = {{}}")
    ours = {dist for dist in facts["installed"] if dist in DISTRIBUTIONS}
    assert ours == {name, *with_it}


@pytest.fixture(scope="module")
def full_venv(make_venv: MakeVenv) -> Venv:
    """One venv holding all five wheels (and their dependencies); tests must not change it."""
    venv = make_venv()
    venv.install("viksa-ai[mcp]")
    return venv


def test_all_five_give_the_version_and_every_part(full_venv: Venv) -> None:
    facts = probe(
        full_venv,
        """
import viksa_ai
from viksa_ai import __version__
import viksa_ai.client, viksa_ai.devtools, viksa_ai.models, viksa_ai.runtime
from viksa_ai import ViksaClient, ViksaNotFoundError, ViksaValidationError
from viksa_ai.devtools.platform import create_app
import asyncio, httpx
app = create_app()
app.state.platform.close()
sent = []
def answer(request):
    sent.append(request.headers["User-Agent"])
    return httpx.Response(200, json={})
async def call():
    transport = httpx.MockTransport(answer)
    async with httpx.AsyncClient(transport=transport) as http:
        async with ViksaClient("tok-1", base_url="https://api.viksa.test", http_client=http) as c:
            await c.request("GET", "/builder", "/x")
asyncio.run(call())
facts = {
    "version": __version__,
    "versions": [viksa_ai.runtime.__version__, viksa_ai.client.__version__, app.version],
    "user_agent": sent,
    "root_file": viksa_ai.__file__,
    "path": list(viksa_ai.__path__),
    "unresolved": [name for name in viksa_ai.__all__ if not hasattr(viksa_ai, name)],
    "client": ViksaClient is viksa_ai.client.ViksaClient,
}
""",
    )
    assert facts["version"] == VERSION
    assert facts["versions"] == [VERSION] * 3  # runtime, client, local platform
    assert facts["user_agent"] == [f"viksa-client/{VERSION}"]
    assert Path(facts["root_file"]).is_relative_to(full_venv.path)
    assert len(facts["path"]) == 1  # one site-packages holds every portion
    assert facts["unresolved"] == []
    assert facts["client"] is True
    assert set(DISTRIBUTIONS) <= set(facts["installed"])


def test_the_mcp_extra_gives_the_bridge_and_its_0_2_names(full_venv: Venv) -> None:
    facts = probe(
        full_venv,
        """
from viksa_ai.mcp_bridge import (
    BridgeRegistry, ViksaToolSpec, agent_doc_to_tools, build_registry, load_tool_registry,
    make_tool_name,
)
facts = {"name": make_tool_name("my-agent", "run"), "tools": build_registry([]).names()}
""",
    )
    assert (facts["name"], facts["tools"]) == ("my_agent_run", [])
    assert "mcp" in facts["installed"]


def test_runtime_import_stays_light_with_everything_installed(full_venv: Venv) -> None:
    # The worker image that has the whole SDK: httpx and pydantic are there, unused.
    facts = probe(full_venv, "import viksa_ai.runtime\nfacts = {}")
    assert {"httpx", "pydantic"} <= set(facts["installed"])
    assert facts["third_party"] == []


def test_console_scripts_are_installed(full_venv: Venv) -> None:
    for script in ("viksa", "viksa-agent-validate", "viksa-mcp-bridge"):
        assert "usage" in full_venv.script(script, "--help").stdout.lower()


def test_uninstalling_the_meta_leaves_the_parts_working(make_venv: MakeVenv) -> None:
    venv = make_venv()
    venv.install("viksa-ai")
    venv.uninstall("viksa-ai")
    facts = probe(
        venv,
        """
import viksa_ai.client, viksa_ai.devtools, viksa_ai.models, viksa_ai.runtime
from viksa_ai.client import ViksaClient
from viksa_ai.runtime import mcp_endpoint
try:
    from viksa_ai import ViksaClient as top_level
except ImportError:
    top_level = None
facts = {
    "root_file": getattr(sys.modules["viksa_ai"], "__file__", None),
    "version": hasattr(sys.modules["viksa_ai"], "__version__"),
    "top_level": top_level is not None,
}
""",
    )
    assert facts["root_file"] is None
    assert facts["version"] is False
    assert facts["top_level"] is False
    assert "viksa-ai" not in facts["installed"]
    assert set(DISTRIBUTIONS) - {"viksa-ai", *EXTRA_DISTRIBUTIONS} <= set(facts["installed"])


# --- pip upgrade from the single-wheel viksa-ai 0.2.x ----------------------------------

OLD_VERSION = "0.2.1"
# The file layout of the single wheel up to 0.2.x: every part under one distribution.
OLD_FILES = [
    "viksa_ai/__init__.py",
    "viksa_ai/py.typed",
    "viksa_ai/runtime/__init__.py",
    "viksa_ai/runtime/inject.py",
    "viksa_ai/models/__init__.py",
    "viksa_ai/models/agent.py",
    "viksa_ai/models/auth.py",
    "viksa_ai/models/a2a.py",
    "viksa_ai/models/executor.py",
    "viksa_ai/client/__init__.py",
    "viksa_ai/client/client.py",
    "viksa_ai/client/errors.py",
    "viksa_ai/devtools/__init__.py",
    "viksa_ai/devtools/cli.py",
    "viksa_ai/devtools/validate.py",
]


def build_old_single_wheel(directory: Path) -> Path:
    """A stand-in of the published viksa-ai 0.2.x wheel, with its name and file paths."""
    dist_info = f"viksa_ai-{OLD_VERSION}.dist-info"
    contents = dict.fromkeys(OLD_FILES, f'"""viksa-ai {OLD_VERSION} stand-in."""\n')
    contents["viksa_ai/__init__.py"] = f'__version__ = "{OLD_VERSION}"\n'
    contents["viksa_ai/py.typed"] = ""
    contents["viksa_ai/devtools/cli.py"] = "def validate_main() -> int:\n    return 0\n"
    contents[f"{dist_info}/METADATA"] = (
        "Metadata-Version: 2.1\nName: viksa-ai\n"
        f"Version: {OLD_VERSION}\nRequires-Python: >=3.10\n"
        "Requires-Dist: httpx\nRequires-Dist: pydantic>=2\n"
    )
    contents[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: viksa-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    contents[f"{dist_info}/entry_points.txt"] = (
        "[console_scripts]\nviksa-agent-validate = viksa_ai.devtools.cli:validate_main\n"
    )
    record = []
    for path, text in contents.items():
        data = text.encode("utf-8")
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}\n")
    contents[f"{dist_info}/RECORD"] = "".join(record) + f"{dist_info}/RECORD,,\n"
    wheel = directory / f"viksa_ai-{OLD_VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, text in contents.items():
            archive.writestr(path, text)
    return wheel


_WHOLE_SDK = """
import importlib.metadata, pathlib
import viksa_ai
import viksa_ai.client, viksa_ai.devtools, viksa_ai.models, viksa_ai.runtime
from viksa_ai import ViksaClient, mcp_endpoint
lost = [
    str(file)
    for name in ("viksa-ai", "viksa-runtime", "viksa-models", "viksa-client", "viksa-devtools")
    for file in importlib.metadata.distribution(name).files or []
    if not pathlib.Path(file.locate()).exists()
]
facts = {"version": viksa_ai.__version__, "lost": lost}
"""


def test_pip_upgrade_from_the_single_wheel_works_or_names_a_working_repair(
    make_venv: MakeVenv, tmp_path: Path
) -> None:
    venv = make_venv(seed=True)
    wheelhouse = venv.wheelhouse
    # The third-party dependencies from the index; our names below only from files.
    venv.install("viksa-ai")
    venv.uninstall(*DISTRIBUTIONS)
    venv.pip("install", "--no-index", str(build_old_single_wheel(tmp_path)))
    assert probe(venv, "import viksa_ai\nfacts = {'v': viksa_ai.__version__}")["v"] == OLD_VERSION

    find_links = ["--no-index", "--find-links", str(wheelhouse.directory)]
    venv.pip("install", "--upgrade", *find_links, "viksa-ai")

    upgraded = venv.python_code(_PROBE.format(body=_WHOLE_SDK), check=False)
    if upgraded.returncode != 0:
        assert "ImportError: " in upgraded.stderr, upgraded.stderr
        commands = re.findall(r"^\s*(pip install .+)$", upgraded.stderr, flags=re.MULTILINE)
        assert len(commands) == 1, upgraded.stderr
        repair = shlex.split(commands[0])
        venv.pip(*repair[1:], *find_links)
    facts = probe(venv, _WHOLE_SDK)
    assert facts["version"] == wheelhouse.version
    assert facts["lost"] == []
    assert (venv.bin / "viksa-agent-validate").exists()
    venv.pip("check")


def test_uv_upgrade_from_the_single_wheel_works(make_venv: MakeVenv, tmp_path: Path) -> None:
    # uv removes the old distribution before installing the new ones: nothing is lost.
    venv = make_venv()
    venv.install_file(build_old_single_wheel(tmp_path))
    venv.install("--upgrade", "viksa-ai")
    facts = probe(venv, _WHOLE_SDK)
    assert facts["version"] == venv.wheelhouse.version
    assert facts["lost"] == []
    assert (venv.bin / "viksa-agent-validate").exists()


_WITHOUT_OPENTELEMETRY = """
import json, pathlib, tempfile
import httpx
from viksa_ai.client import ViksaSyncClient
from viksa_ai.devtools.runner import run_endpoint
from viksa_ai.runtime import A2A_PAYLOAD_KEY, attach_envelope, trace_context

sent = []
def answer(request):
    sent.append(dict(request.headers))
    return httpx.Response(200, json={"id": "u1", "email": "e@x.io", "account_id": "a1"})
http = httpx.Client(transport=httpx.MockTransport(answer), base_url="https://x.test")
ViksaSyncClient(base_url="https://x.test", access_token="t", http_client=http).auth.me()

folder = pathlib.Path(tempfile.mkdtemp())
(folder / "agent.json").write_text(json.dumps({
    "agent_name": "t", "agent_description": "t", "agent_type": "cloud", "files": [],
    "requirements": [], "inputs": [], "outputs": [],
    "agent_endpoints": [{"name": "where", "module": "main", "description": "where",
                         "inputs": [], "execution_config": {"timeout_seconds": 30}}],
}))
(folder / "main.py").write_text(
    "from ViksaAI import mcp_endpoint, trace_context\\n"
    "@mcp_endpoint(description='where')\\n"
    "async def where(payload):\\n"
    "    return trace_context()\\n"
)
envelope = {"run_id": "r", "trace_context": {
    "traceparent": "00-11111111111111111111111111111111-2222222222222222-01"}}
facts = {
    "header": "traceparent" in sent[0],
    "runtime": trace_context(),
    "attached": attach_envelope({}, {"run_id": "r"})[A2A_PAYLOAD_KEY],
    # Unsandboxed: bwrap cannot exec this test venv's interpreter (outside its binds).
    "endpoint": run_endpoint(folder, "where", envelope=envelope, sandbox=False).value,
    "loaded": sorted(name for name in sys.modules if name.startswith("opentelemetry")),
}
"""


def test_without_opentelemetry_everything_works_and_nothing_of_it_loads(
    make_venv: MakeVenv,
) -> None:
    # viksa-devtools without its server extra: FastAPI (and mcp) require opentelemetry-api.
    venv = make_venv()
    venv.install("viksa-client", "viksa-devtools")
    facts = probe(venv, _WITHOUT_OPENTELEMETRY)
    assert not [name for name in facts["installed"] if name.startswith("opentelemetry")]
    assert facts["loaded"] == []
    assert facts["header"] is False
    assert facts["runtime"] == {}
    assert facts["attached"] == {"run_id": "r"}
    # The runtime alone still passes the caller's trace on: the strings, no spans.
    assert facts["endpoint"] == {
        "traceparent": "00-11111111111111111111111111111111-2222222222222222-01"
    }
