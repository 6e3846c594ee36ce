"""The pydantic-free fast path of the validator reports exactly what the model path does.

``manifest_issues`` (what ``viksa validate`` calls) reads a plainly valid manifest
without pydantic; ``check_agent_manifest`` always builds the model. Differential
property tests: for valid manifests and mutated ones (wrong types, missing and extra
fields, unicode, bools for ints, floats, NaN, nested nonsense) both give the same
issues, codes, messages and locations; whenever the fast path answers, the model
accepts the manifest and reads every entry field the same.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from viksa_ai.devtools import check_agent_manifest
from viksa_ai.devtools.validate._fast_manifest import fast_entries
from viksa_ai.devtools.validate._validate import manifest_issues
from viksa_ai.models.agent import AgentGenerationResponse

_SETTINGS = settings(
    max_examples=200,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ROOT = Path(__file__).resolve().parents[3]

MAIN = """\
from viksa_ai.runtime import mcp_endpoint

@mcp_endpoint(description="Greet")
async def greet(payload):
    name = payload["name"]
    return {"greeting": f"hi {name}" + ("!" if payload.get("excited") else "")}

@mcp_endpoint(description="Count")
async def count(payload):
    return {"n": len(payload.get("items", []))}
"""

# Values that sit on the edges of what the model takes: bools for ints, whole floats,
# numeric strings, enum spellings, NaN and infinities, huge ints, odd unicode.
EDGE_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    3,
    10,
    11,
    36000,
    36001,
    2**63,
    2**70,
    -(2**64),
    1.0,
    3.0,
    0.5,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    "",
    " ",
    "3",
    "1.5",
    "true",
    "string",
    "String",
    "STRING",
    "integer",
    "Float",
    "python",
    "Python",
    "yaml",
    "cloud",
    "Cloud",
    "secure",
    "enabled",
    "Disabled",
    "main",
    "main.py",
    "greet",
    "name",
    "\ud800",
    "é",
    "\u0130",
    "x" * 257,
    [],
    {},
    [None],
    {"": None},
    {"chrona_queues": ["q"]},
    {"chrona_queues": [" "]},
]
# Copied: the tests change what they draw, and these objects are shared.
EDGE = st.sampled_from(EDGE_VALUES).map(copy.deepcopy)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6) | EDGE,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from(
    [
        "name",
        "type",
        "content",
        "mime_type",
        "default",
        "allowed_values",
        "min_value",
        "max_value",
        "min_length",
        "max_length",
        "pattern",
        "nullable",
        "example",
        "format",
        "description",
        "module",
        "endpoint",
        "status",
        "inputs",
        "outputs",
        "input_ref",
        "required",
        "execution_config",
        "retry_count",
        "timeout_seconds",
        "requires_approval",
        "chrona_queues",
        "agent_type",
        "model_config",
        "__dict__",
        "_private",
        "extra",
    ]
) | st.text(max_size=6)


def _value(draw: st.DrawFn, good: st.SearchStrategy[Any]) -> Any:
    """Mostly a ``good`` value; sometimes an edge value in its place."""
    return draw(st.one_of(good, good, good, EDGE))


def _input(draw: st.DrawFn, name: str) -> dict[str, Any]:
    kind = _value(draw, st.sampled_from(["string", "integer", "float", "boolean", "dict", "list"]))
    spec: dict[str, Any] = {"name": name, "type": kind}
    optional = {
        "description": st.text(max_size=8) | st.none(),
        "default": JSON,
        "allowed_values": st.lists(JSON, max_size=3) | st.none(),
        "min_value": st.integers(-5, 5) | st.floats(-5, 5) | st.none(),
        "max_value": st.integers(-5, 5) | st.floats(-5, 5) | st.none(),
        "min_length": st.integers(-2, 5) | st.none(),
        "max_length": st.integers(-2, 5) | st.none(),
        "pattern": st.sampled_from(["^a", "[", "x*", "(?P<n>"]) | st.none(),
    }
    for key, values in optional.items():
        if draw(st.booleans()):
            spec[key] = _value(draw, values)
    return spec


@st.composite
def manifests(draw: st.DrawFn) -> dict[str, Any]:
    """Manifests the model accepts (mostly), in the shapes ``viksa init`` and users write."""
    inputs = [
        _input(draw, name)
        for name in draw(
            st.lists(st.sampled_from(["name", "excited", "items", "Name", "é"]), max_size=4)
        )
    ]
    names = [spec["name"] for spec in inputs] + ["ghost"]
    outputs = [
        {"name": name, "type": _value(draw, st.sampled_from(["string", "dict", "list"]))}
        | ({"nullable": _value(draw, st.booleans())} if draw(st.booleans()) else {})
        for name in draw(st.lists(st.sampled_from(["greeting", "n"]), max_size=2))
    ]
    endpoints = []
    for name in draw(st.lists(st.sampled_from(["greet", "count", "missing", "class"]), max_size=3)):
        endpoint: dict[str, Any] = {
            "name": name,
            "module": draw(st.sampled_from(["main", "main", "helpers"])),
            "description": draw(st.text(max_size=8)),
            "inputs": [
                {"input_ref": ref}
                | ({"required": _value(draw, st.booleans())} if draw(st.booleans()) else {})
                for ref in draw(st.lists(st.sampled_from(names), max_size=3))
            ],
            "outputs": draw(st.lists(st.sampled_from(["greeting", "n", "other"]), max_size=2)),
        }
        if draw(st.booleans()):
            endpoint["endpoint"] = draw(
                st.sampled_from(["", f"me.main.{name}", "x.y", "a b.main.greet"])
            )
        if draw(st.booleans()):
            endpoint["execution_config"] = {
                "retry_count": _value(draw, st.integers(0, 10)),
                "timeout_seconds": _value(draw, st.integers(1, 36000)),
            }
        if draw(st.booleans()):
            endpoint["status"] = _value(draw, st.sampled_from(["enabled", "disabled"]))
        endpoints.append(endpoint)
    manifest: dict[str, Any] = {
        "agent_name": draw(st.text(min_size=1, max_size=10)),
        "agent_description": draw(st.text(min_size=1, max_size=10)),
        "files": [
            {"name": "main.py", "content": MAIN, "mime_type": _value(draw, st.just("python"))}
        ],
        "inputs": inputs,
        "outputs": outputs,
        "agent_endpoints": endpoints,
    }
    if draw(st.booleans()):
        manifest["files"].append({"name": "data/x.json", "content": "{}", "mime_type": "json"})
    agent_type = _value(draw, st.sampled_from([None, "absent", "cloud", "secure"]))
    if agent_type != "absent":
        manifest["agent_type"] = agent_type
    if draw(st.booleans()):
        manifest["chrona_queue"] = {
            "chrona_queues": draw(st.lists(st.sampled_from(["q", " "]), max_size=2))
        }
    if draw(st.booleans()):
        manifest["requirements"] = ["httpx"]
    if draw(st.booleans()):
        manifest["$schema"] = "x"
    return manifest


def _containers(node: Any) -> list[Any]:
    found = [node]
    children = node.values() if isinstance(node, dict) else node
    for child in children:
        if isinstance(child, (dict, list)):
            found.extend(_containers(child))
    return found


def _mutate(data: st.DataObject, manifest: dict[str, Any]) -> None:
    """Replace, delete or add one value in any object or list of ``manifest``."""
    node = data.draw(st.sampled_from(_containers(manifest)))
    action = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if isinstance(node, dict):
        if action == "add" or not node:
            node[data.draw(KEYS)] = data.draw(JSON)
            return
        key = data.draw(st.sampled_from(sorted(node)))
    else:
        if action == "add" or not node:
            node.append(data.draw(JSON))
            return
        key = data.draw(st.integers(0, len(node) - 1))
    if action == "delete":
        del node[key]
    else:
        node[key] = data.draw(st.one_of(EDGE, JSON))


def _same(fast: Any, model: Any) -> bool:
    """Whether a fast entry (or value) holds what the model's does, type for type."""
    if isinstance(model, BaseModel):
        fields = type(model).model_fields
        return set(type(fast).__slots__) == set(fields) and all(
            _same(getattr(fast, name), getattr(model, name)) for name in fields
        )
    if isinstance(model, list):
        return type(fast) is list and len(fast) == len(model) and all(map(_same, fast, model))
    return type(fast) is type(model) and (fast is model or fast == model)


def _assert_paths_agree(manifest: dict[str, Any]) -> bool:
    """Both paths report the same; a fast answer is one the model agrees with. Fast?"""
    slow = [issue.to_dict() for issue in check_agent_manifest(manifest).issues]
    fast = [issue.to_dict() for issue in manifest_issues(manifest)]
    assert fast == slow
    entries = fast_entries(manifest)
    if entries is None:
        return False
    try:
        model = AgentGenerationResponse.model_validate(manifest)
    except ValidationError as exc:  # pragma: no cover - the failure this test looks for
        raise AssertionError(f"the fast path accepted what the model refuses: {exc}") from exc
    assert _same(entries.files, model.files)
    assert _same(entries.inputs, model.inputs)
    assert _same(entries.outputs, model.outputs)
    assert _same(entries.endpoints, model.agent_endpoints)
    return True


@_SETTINGS
@given(manifests())
def test_valid_shapes_report_the_same_on_both_paths(manifest: dict[str, Any]) -> None:
    _assert_paths_agree(manifest)


@_SETTINGS
@given(manifests(), st.data())
def test_mutated_manifests_report_the_same_on_both_paths(
    manifest: dict[str, Any], data: st.DataObject
) -> None:
    for _ in range(data.draw(st.integers(1, 3))):
        _mutate(data, manifest)
    _assert_paths_agree(manifest)


@_SETTINGS
@given(JSON)
def test_any_json_value_reports_the_same_on_both_paths(value: Any) -> None:
    slow = [issue.to_dict() for issue in check_agent_manifest(value).issues]
    assert [issue.to_dict() for issue in manifest_issues(value)] == slow


FULL: dict[str, Any] = {
    "agent_name": "Greeter",
    "agent_description": "Greets",
    "agent_type": "secure",
    "chrona_queue": {"chrona_queues": ["q", " "]},
    "files": [
        {"name": "main.py", "content": MAIN, "mime_type": "python"},
        {"name": "data/x.json", "content": "{}", "mime_type": "json"},
    ],
    "requirements": ["httpx"],
    "inputs": [
        {
            "name": "name",
            "type": "string",
            "description": "who",
            "default": "you",
            "allowed_values": ["you", "me"],
            "min_length": 1,
            "max_length": 9,
            "pattern": "^[a-z]",
        },
        {"name": "excited", "type": "Boolean", "default": False},
        {"name": "items", "type": "list", "min_value": 1, "max_value": 2.5},
    ],
    "outputs": [
        {
            "name": "greeting",
            "type": "string",
            "description": "d",
            "nullable": True,
            "example": "hi",
            "format": "text",
        },
        {"name": "n", "type": "integer"},
    ],
    "agent_endpoints": [
        {
            "name": "greet",
            "module": "main",
            "endpoint": "me.main.greet",
            "description": "Greet",
            "status": "enabled",
            "inputs": [{"input_ref": "name", "required": True}, {"input_ref": "excited"}],
            "outputs": ["greeting"],
            "execution_config": {
                "requires_approval": False,
                "retry_count": 3,
                "timeout_seconds": 30,
            },
        },
        {
            "name": "count",
            "module": "main",
            "description": "Count",
            "inputs": [{"input_ref": "items", "required": False}],
            "outputs": ["n"],
        },
    ],
}


def _positions(node: Any) -> list[tuple[Any, Any]]:
    """(container, key) of every value inside ``node``, depth first."""
    found: list[tuple[Any, Any]] = []
    keys = list(node) if isinstance(node, dict) else range(len(node))
    for key in keys:
        found.append((node, key))
        if isinstance(node[key], (dict, list)):
            found.extend(_positions(node[key]))
    return found


class _Added(NamedTuple):
    key: str  # an unknown key added to an object (None appended to a list)


_DELETE = object()
_ADDED_KEYS = (_Added("model_config"), _Added("\ud800"), _Added("_private"))


def test_every_field_set_to_every_edge_value_reports_the_same_on_both_paths() -> None:
    # Exhaustive where the property tests sample: one field changed at a time, so the
    # fast path's answer hangs on that field alone (a bool read as an int, say).
    assert _assert_paths_agree(copy.deepcopy(FULL))
    count = len(_positions(FULL))
    fast = 0
    for position in range(count):
        for change in [*EDGE_VALUES, _DELETE, *_ADDED_KEYS]:
            manifest = copy.deepcopy(FULL)
            node, key = _positions(manifest)[position]
            if change is _DELETE:
                del node[key]
            elif change in _ADDED_KEYS:
                if isinstance(node[key], dict):
                    node[key][change.key] = None
                elif isinstance(node[key], list):
                    node[key].append(None)
            else:
                node[key] = copy.deepcopy(change)
            fast += _assert_paths_agree(manifest)
    assert fast > count  # many changes keep the manifest valid: the fast path is tried


def test_the_examples_and_the_scaffold_take_the_fast_path(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "viksa_ai.devtools.cli", "init", str(tmp_path / "a")],
        check=True,
        capture_output=True,
    )
    paths = [tmp_path / "a" / "agent.json", *sorted((ROOT / "examples").glob("*/agent.json"))]
    assert len(paths) >= 3
    for path in paths:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not any(file.get("name") == "main.py" for file in manifest.get("files", [])):
            folder_main = path.parent / "main.py"
            manifest["files"].append(
                {"name": "main.py", "content": folder_main.read_text(), "mime_type": "python"}
            )
        assert _assert_paths_agree(manifest), path


def test_a_model_instance_and_odd_mappings_take_the_model_path() -> None:
    manifest: dict[Any, Any] = {
        "agent_name": "A",
        "agent_description": "B",
        "files": [{"name": "main.py", "content": MAIN, "mime_type": "python"}],
    }
    assert fast_entries(manifest) is not None
    assert fast_entries(AgentGenerationResponse.model_validate(manifest)) is None
    assert fast_entries({**manifest, 1: "x"}) is None  # not JSON: the model decides
    assert fast_entries(copy.deepcopy(manifest) | {"agent_type": "secure"}) is None


def test_validate_of_one_agent_imports_no_pydantic(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "viksa_ai.devtools.cli", "init", str(tmp_path / "a")],
        check=True,
        capture_output=True,
    )
    code = (
        "import sys\n"
        "from viksa_ai.devtools.cli import main\n"
        f"code = main(['validate', {str(tmp_path / 'a')!r}])\n"
        "print(code, sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'pydantic_core', 'httpx')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.splitlines()[-1] == "0 []"
