"""Property tests: any input gives a report or AgentValidationError, never another exception."""

from __future__ import annotations

import copy
import keyword
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viksa_ai.devtools import AgentValidationError, Issue, check_agent_manifest
from viksa_ai.devtools import validate_agent_manifest as validate
from viksa_ai.models.agent import AgentGenerationResponse

MAIN = """\
from typing import Any, Dict
from ViksaAI import mcp_endpoint

@mcp_endpoint(description="Search")
async def search(payload: Dict[str, Any]):
    if "limit" in payload:
        return payload["limit"]
    return {"flights": [payload.get("source"), payload["destination"]]}

def helper(x, *args, **kwargs):
    return x
"""
VALID: dict[str, Any] = {
    "agent_name": "Flights",
    "agent_description": "Finds flights",
    "agent_type": "cloud",
    "files": [
        {"name": "main.py", "content": MAIN, "mime_type": "python"},
        {"name": "config.yaml", "content": "a: 1", "mime_type": "yaml"},
    ],
    "requirements": ["httpx"],
    "inputs": [
        {"name": "source", "type": "string", "pattern": "^[A-Z]{3}$", "min_length": 3},
        {"name": "destination", "type": "String", "allowed_values": ["LAX", "JFK"]},
        {"name": "limit", "type": "integer", "min_value": 1, "max_value": 9, "default": 2},
    ],
    "outputs": [{"name": "flights", "type": "list", "nullable": True}],
    "agent_endpoints": [
        {
            "name": "search",
            "module": "main",
            "endpoint": "flights.main.search",
            "description": "Search",
            "inputs": [
                {"input_ref": "source"},
                {"input_ref": "destination", "required": True},
                {"input_ref": "limit", "required": False},
            ],
            "outputs": ["flights"],
            "execution_config": {"timeout_seconds": 30, "retry_count": 1},
        }
    ],
}

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["main.py", "main", "python", "string", "search", "source", ""])
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
CODE_PIECES = st.sampled_from(
    [
        "async def search(payload):\n",
        "def search(payload):\n",
        "@mcp_endpoint(description='x')\n",
        "@mcp_endpoint\n",
        "@ViksaAI.mcp_endpoint(description='')\n",
        "from ViksaAI import mcp_endpoint\n",
        "import viksa_ai.runtime as rt\n",
        "    return payload['source']\n",
        "    x = payload.get('destination', 1)\n",
        "    if 'limit' in payload: pass\n",
        "    helper(payload)\n",
        "    nonlocal payload\n",
        "return 1\n",
        "    yield 1\n",
        "class A:\n",
        "    def search(self): pass\n",
        "x = (\n",
        ")\n",
        "'\\d'\n",
        "é = 'ü'\n",
        "\0",
        "\ud800",
        "\ufeff",
        "\r\n",
        "\t",
        "lambda payload: payload['q']\n",
        "    ",
    ]
)


def check(manifest: Any) -> None:
    """Validate; only a model or AgentValidationError may come out."""
    report = check_agent_manifest(manifest)
    assert all(isinstance(issue, Issue) for issue in report.issues)
    assert all(issue.code.startswith("VX") for issue in report.issues)
    if report.ok:
        assert isinstance(validate(manifest), AgentGenerationResponse)
    else:
        with pytest.raises(AgentValidationError) as caught:
            validate(manifest)
        assert caught.value.issues == report.issues
        assert str(caught.value)


def test_the_base_manifest_is_valid() -> None:
    assert check_agent_manifest(VALID).issues == ()


@given(JSON)
def test_arbitrary_json_values(value: Any) -> None:
    check(value)


@given(st.dictionaries(st.sampled_from(sorted(VALID)), JSON, max_size=6))
def test_arbitrary_top_level_fields(fields: dict[str, Any]) -> None:
    check({**VALID, **fields})


def _mutate(data: st.DataObject, document: Any) -> Any:
    """Replace, delete or insert one value somewhere inside ``document``."""
    node = document
    while True:
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)))
        elif isinstance(node, list) and node:
            key = data.draw(st.integers(0, len(node) - 1))
        else:
            return document
        child = node[key]
        if isinstance(child, (dict, list)) and child and data.draw(st.booleans()):
            node = child
            continue
        action = data.draw(st.sampled_from(["replace", "delete", "insert"]))
        if action == "replace":
            node[key] = data.draw(JSON)
        elif action == "delete":
            del node[key]
        elif isinstance(node, list):
            node.insert(key, data.draw(JSON))
        else:
            node[data.draw(st.text(max_size=8))] = data.draw(JSON)
        return document


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_valid_manifests(data: st.DataObject) -> None:
    document = copy.deepcopy(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        document = _mutate(data, document)
    check(document)


@given(st.text(max_size=300))
def test_arbitrary_text_as_main_py(text: str) -> None:
    document = copy.deepcopy(VALID)
    document["files"][0]["content"] = text
    check(document)


@settings(max_examples=300)
@given(st.lists(CODE_PIECES, max_size=12).map("".join))
def test_python_like_text_as_main_py(text: str) -> None:
    document = copy.deepcopy(VALID)
    document["files"][0]["content"] = text
    check(document)


@given(st.text(max_size=40), st.text(max_size=40))
def test_odd_names_and_keys(name: str, key: str) -> None:
    document = copy.deepcopy(VALID)
    document["agent_endpoints"][0]["name"] = name
    document["inputs"][0]["name"] = key
    document["files"][0]["content"] = MAIN.replace("source", key.replace("\\", "")[:10] or "k")
    check(document)


def test_integers_too_long_to_print_are_reported_not_raised() -> None:
    # Python refuses to print an int of more than 4,300 digits; messages quote bounds.
    document = copy.deepcopy(VALID)
    document["inputs"][2]["min_value"] = 10**5000
    issues = check_agent_manifest(document).issues
    assert [(issue.code, issue.path) for issue in issues] == [
        ("VX121", "inputs[2].min_value"),  # above max_value 9
        ("VX122", "inputs[2].default"),
    ]
    assert "must be at least (too long to print)" in issues[1].message


_BOUND = st.none() | st.integers(-3, 3) | st.floats(-3, 3, allow_nan=False)


@given(
    st.sampled_from(["string", "integer", "float", "boolean", "dict", "list"]),
    st.tuples(_BOUND, _BOUND),
    st.tuples(st.none() | st.integers(-3, 3), st.none() | st.integers(-3, 3)),
)
def test_the_fast_bounds_check_agrees_with_the_full_one(
    kind: str, values: tuple[Any, Any], lengths: tuple[Any, Any]
) -> None:
    from viksa_ai.devtools.validate._manifest_rules import _bounds_problem, _input_spec_issues
    from viksa_ai.models.agent import AgentInput

    spec = AgentInput.model_validate(
        {
            "name": "x",
            "type": kind,
            "min_value": values[0],
            "max_value": values[1],
            "min_length": lengths[0],
            "max_length": lengths[1],
        }
    )
    assert _bounds_problem(spec) == bool(list(_input_spec_issues(spec, "inputs[0]")))


_NAME_PARTS = st.sampled_from(["..", ".", "", "a", "é", "C:", "x ", "\x00", "\ud800", "b" * 256])


@settings(deadline=None)
@given(st.lists(_NAME_PARTS | st.text(max_size=8), min_size=1, max_size=4), st.sampled_from("/\\"))
def test_a_file_name_vx117_accepts_can_be_written_inside_the_agent(
    parts: list[str], separator: str
) -> None:
    # What the validator accepts, the runner writes inside its directory and nowhere else.
    from viksa_ai.devtools.validate._file_names import file_name_problem, normalized_file_name

    name = separator.join(parts)
    if file_name_problem(name) is not None:
        return
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        target = root / normalized_file_name(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x", encoding="utf-8")
        assert target.resolve().is_relative_to(root.resolve())
        assert target.is_file()


_REBIND_TEMPLATES = [
    "{n} = None",
    "del {n}",
    "class {n}:\n    pass",
    "import json as {n}",
    "for {n} in ():\n    pass",
    "with open(__file__) as {n}:\n    pass",
    "{n} += 1",
    "{n}: int = 1",
    "({n} := 1)",
    "x, {n} = 1, 2",
    "try:\n    pass\nexcept Exception as {n}:\n    pass",
]
_SAFE_STATEMENTS = ["x = 1", "def f():\n    {n} = 2", "{n}: int", "print({n})", "y = [{n}]"]


@settings(max_examples=200, database=None, derandomize=True)
@given(
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
        lambda name: (
            not keyword.iskeyword(name)
            and name
            not in {"x", "y", "f", "json", "open", "print", "int", "Exception", "mcp_endpoint"}
        )
    ),
    st.lists(st.sampled_from(_SAFE_STATEMENTS), max_size=3),
    st.sampled_from(_REBIND_TEMPLATES),
    st.booleans(),
)
def test_vx220_reports_exactly_the_rebindings_after_the_def(
    name: str, safe: list[str], rebind: str, after: bool
) -> None:
    function = (
        f'@mcp_endpoint(description="d")\nasync def {name}(payload):\n'
        '    return payload.get("source")\n'
    )
    noise = "".join(statement.format(n=name) + "\n" for statement in safe)
    binding = rebind.format(n=name) + "\n"
    parts = [noise, function, binding] if after else [noise, binding, function]
    document = copy.deepcopy(VALID)
    document["files"][0]["content"] = "from ViksaAI import mcp_endpoint\n" + "".join(parts)
    document["agent_endpoints"][0]["name"] = name
    document["agent_endpoints"][0]["endpoint"] = ""
    codes = [issue.code for issue in check_agent_manifest(document).issues]
    assert codes.count("VX220") == (1 if after else 0)
