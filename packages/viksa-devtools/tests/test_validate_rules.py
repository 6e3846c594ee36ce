"""validate_agent_manifest: every rule, each issue with its code and location."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools import (
    AgentValidationError,
    Issue,
    check_agent_manifest,
    validate_agent_manifest,
)
from viksa_ai.models.agent import AgentGenerationResponse

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

MAIN = """\
from typing import Any, Dict

from ViksaAI import mcp_endpoint


@mcp_endpoint(description="Search flights")
async def search(payload: Dict[str, Any]):
    return {"flights": [payload.get("source"), payload["destination"]]}
"""


def endpoint(name: str = "search", *refs: str | tuple[str, bool], **extra: Any) -> dict[str, Any]:
    inputs = [
        {"input_ref": ref} if isinstance(ref, str) else {"input_ref": ref[0], "required": ref[1]}
        for ref in (refs or ("source", "destination"))
    ]
    return {"name": name, "module": "main", "description": "d", "inputs": inputs, **extra}


def manifest(main: str = MAIN, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "agent_name": "Flights",
        "agent_description": "Finds flights",
        "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
        "inputs": [
            {"name": "source", "type": "string"},
            {"name": "destination", "type": "string"},
        ],
        "outputs": [{"name": "flights", "type": "list"}],
        "agent_endpoints": [endpoint(outputs=["flights"])],
    }
    data.update(fields)
    return data


def found(data: Any) -> list[tuple[str, str]]:
    """(code, location) of every issue."""
    return [(issue.code, issue.location) for issue in check_agent_manifest(data).issues]


def found_codes(data: Any) -> list[str]:
    return [code for code, _ in found(data)]


# --- the API -----------------------------------------------------------------------------


def test_valid_manifest_returns_the_model() -> None:
    result = validate_agent_manifest(manifest())
    assert isinstance(result, AgentGenerationResponse)
    assert result.agent_endpoints[0].name == "search"
    report = check_agent_manifest(manifest())
    assert report.ok
    assert report.issues == ()


def test_a_model_is_accepted_and_revalidated() -> None:
    model = AgentGenerationResponse.model_validate(manifest())
    assert validate_agent_manifest(model) == model
    broken = AgentGenerationResponse.model_construct(**{**manifest(), "agent_endpoints": [7]})
    with pytest.raises(AgentValidationError) as caught:
        validate_agent_manifest(broken)
    assert [issue.path for issue in caught.value.issues] == ["agent_endpoints[0]"]


def test_error_carries_every_issue_and_lists_them() -> None:
    data = manifest(
        agent_endpoints=[endpoint("missing", "nope"), endpoint(outputs=["flights", "x"])],
        inputs=[*manifest()["inputs"], {"name": "spare", "type": "string"}],
    )
    with pytest.raises(AgentValidationError) as caught:
        validate_agent_manifest(data)
    error = caught.value
    assert {issue.code for issue in error.issues} == {"VX108", "VX109", "VX210", "VX303"}
    assert error.errors
    assert error.warnings
    text = str(error)
    assert text.startswith("agent manifest is invalid: 3 errors, 1 warning")
    assert "agent_endpoints[0].inputs[0]: VX108 input_ref 'nope'" in text
    assert text.endswith(
        "  inputs[2]: VX303 (warning) no endpoint references or reads input "
        "'spare': reference it from an endpoint's inputs, or remove it"
    )
    assert isinstance(error, Exception)
    assert repr(error) == "AgentValidationError(4 issues)"
    copied = pickle.loads(pickle.dumps(error))
    assert copied.issues == error.issues


def test_warnings_alone_do_not_fail_validation() -> None:
    data = manifest(inputs=[*manifest()["inputs"], {"name": "spare", "type": "string"}])
    assert validate_agent_manifest(data).inputs[2].name == "spare"
    assert found(data) == [("VX303", "inputs[2]")]


def test_issue_is_a_frozen_value() -> None:
    issue = Issue("VX301", "m", path="files[0]", file="main.py", line=3, column=5)
    assert issue.location == "main.py:3:5"
    assert str(issue) == "main.py:3:5: VX301 m"
    assert Issue("VX104", "m", path="agent_endpoints").location == "agent_endpoints"
    assert str(Issue("VX001", "m")) == "VX001 m"
    assert issue.to_dict()["line"] == 3
    with pytest.raises(AttributeError):
        issue.code = "VX000"  # type: ignore[misc]


@pytest.mark.parametrize("name", ["aviation_agent", "text_tools_agent"])
def test_the_examples_are_valid(name: str) -> None:
    directory = EXAMPLES / name
    data = json.loads((directory / "agent.json").read_text())
    names = {file["name"] for file in data["files"]}
    if "main.py" not in names:
        content = (directory / "main.py").read_text()
        data["files"].append({"name": "main.py", "content": content, "mime_type": "python"})
    report = check_agent_manifest(data)
    assert report.errors == (), report.issues


@pytest.mark.parametrize("name", ["aviation_agent", "text_tools_agent"])
def test_the_examples_endpoint_paths_name_their_directory(name: str) -> None:
    # `viksa dev --with-examples` deploys each example under its directory's name, and
    # examples/quickstart.py calls `text_tools_agent.main.slugify`.
    data = json.loads((EXAMPLES / name / "agent.json").read_text())
    paths = [endpoint["endpoint"] for endpoint in data["agent_endpoints"]]
    assert paths == [f"{name}.main.{endpoint['name']}" for endpoint in data["agent_endpoints"]]


# --- structure ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, [], "agent", 3, 2.5, True])
def test_manifest_that_is_not_an_object(value: Any) -> None:
    assert found(value) == [("VX001", "")]


def test_structural_problems_have_manifest_paths() -> None:
    data = manifest(agent_name=5)
    data["inputs"][1]["type"] = "strin"
    data["inputs"][0]["min_value"] = "low"
    data["agent_endpoints"].append({"name": "x"})
    del data["agent_description"]
    issues = found(data)
    assert ("VX003", "agent_name") in issues
    assert ("VX002", "agent_description") in issues
    assert ("VX003", "inputs[1].type") in issues
    assert ("VX003", "inputs[0].min_value") in issues  # one issue for the int|float union
    assert ("VX002", "agent_endpoints[1].module") in issues
    assert [code for code, where in issues if where == "inputs[0].min_value"] == ["VX003"]


def test_rules_still_run_on_the_valid_parts_of_an_invalid_manifest() -> None:
    data = manifest(agent_name=None)
    data["agent_endpoints"].append(endpoint("ghost"))
    data["inputs"].append({"name": "broken", "type": 3})
    data["agent_endpoints"].append(endpoint("other", "broken", "destination"))
    codes = found_codes(data)
    assert "VX003" in codes  # agent_name and inputs[2].type
    assert "VX210" in codes  # ghost has no function
    assert "VX108" not in codes  # 'broken' is declared, only invalid


def test_secure_agent_without_queue() -> None:
    assert found(manifest(agent_type="secure")) == [("VX113", "chrona_queue")]
    queued = manifest(agent_type="secure", chrona_queue={"chrona_queues": ["q"]})
    assert found(queued) == []


# --- manifest rules ----------------------------------------------------------------------


def test_main_py_missing_or_not_python() -> None:
    assert found(manifest(files=[])) == [("VX101", "files")]
    wrong = manifest()
    wrong["files"][0]["mime_type"] = "yaml"
    assert found(wrong) == [("VX102", "files[0].mime_type")]
    invalid_entry = manifest(files=[{"name": "main.py", "content": 3, "mime_type": "python"}])
    assert found_codes(invalid_entry) == ["VX003"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("/etc/passwd", "absolute"),
        ("\\\\server\\share.txt", "absolute"),
        ("C:/agent/x.py", "absolute"),
        ("../up.txt", "climbs out"),
        ("data/../../up.txt", "climbs out"),
        ("data\\..\\..\\up.txt", "climbs out"),
        ("", "is empty"),
        ("data/", "names a directory"),
        (".", "names a directory"),
        ("data/.", "names a directory"),
        ("a\x00b.txt", "NUL"),
        ("data/\ud800.txt", "lone surrogate"),
        ("x" * 256, "longer than 255 bytes"),
        ("data/" + "é" * 128, "longer than 255 bytes"),
    ],
)
def test_file_names_the_worker_cannot_write(name: str, problem: str) -> None:
    data = manifest()
    data["files"].append({"name": name, "content": "x", "mime_type": "other"})
    [issue] = check_agent_manifest(data).issues
    assert (issue.code, issue.location, issue.is_error) == ("VX117", "files[1].name", True)
    assert problem in issue.message


@pytest.mark.parametrize("name", ["data/table.csv", "./helpers.py", "a..b.txt", "dir//x.py"])
def test_relative_file_names_inside_the_agent_are_fine(name: str) -> None:
    data = manifest()
    data["files"].append({"name": name, "content": "x", "mime_type": "other"})
    assert found(data) == []


@pytest.mark.parametrize("bound", ["min_value", "max_value"])
def test_non_finite_value_bounds_are_structural_issues(bound: str) -> None:
    # json.loads reads NaN: such a bound would silently check nothing.
    for value in (float("nan"), float("inf")):
        data = manifest()
        data["inputs"].append({"name": "n", "type": "float", bound: value})
        issues = check_agent_manifest(data).issues
        assert [(i.code, i.path) for i in issues if i.is_error] == [("VX003", f"inputs[2].{bound}")]
        assert "finite" in issues[0].message


def test_duplicate_names() -> None:
    data = manifest()
    data["files"].append(copy.deepcopy(data["files"][0]))
    data["inputs"].append({"name": "source", "type": "string"})
    data["outputs"].append({"name": "flights", "type": "dict"})
    data["agent_endpoints"].append(endpoint())
    issues = found(data)
    assert ("VX103", "files[1].name") in issues
    assert ("VX105", "inputs[2].name") in issues
    assert ("VX106", "outputs[1].name") in issues
    assert ("VX107", "agent_endpoints[1].name") in issues


@pytest.mark.parametrize("alias", ["./main.py", ".//main.py", "sub/../main.py"])
def test_file_names_that_write_the_same_file_are_duplicates(alias: str) -> None:
    # Written out, "./main.py" replaces main.py: the agent would run the other file.
    data = manifest()
    data["files"].append({"name": alias, "content": "x = 1\n", "mime_type": "python"})
    report = check_agent_manifest(data)
    duplicates = [issue for issue in report.issues if issue.code == "VX103"]
    if ".." in alias:
        assert duplicates == []  # not normalised across "..": VX117 refuses it instead
        assert "VX117" in {issue.code for issue in report.issues}
        return
    assert [issue.path for issue in duplicates] == ["files[1].name"]
    assert "(as 'main.py', the same path)" in duplicates[0].message


def test_no_endpoint() -> None:
    assert found(manifest(agent_endpoints=[])) == [
        ("VX104", "agent_endpoints"),
        ("VX219", "main.py:7:1"),
        ("VX303", "inputs[0]"),
        ("VX303", "inputs[1]"),
    ]


def test_references_to_undeclared_inputs_and_outputs() -> None:
    data = manifest(
        agent_endpoints=[endpoint("search", "source", "destination", "source", outputs=["x", "x"])]
    )
    assert found(data) == [
        ("VX112", "agent_endpoints[0].inputs[2]"),
        ("VX109", "agent_endpoints[0].outputs[0]"),
        ("VX116", "agent_endpoints[0].outputs[1]"),
    ]
    data = manifest(agent_endpoints=[endpoint("search", "source", "destination", "when")])
    assert ("VX108", "agent_endpoints[0].inputs[2]") in found(data)


def _messages(data: Any, code: str) -> list[str]:
    return [issue.message for issue in check_agent_manifest(data).issues if issue.code == code]


def test_a_misspelt_input_or_output_name_gets_a_did_you_mean() -> None:
    # A typo of a declared name says which one was meant; a name like none says nothing.
    misspelt = manifest(
        main=MAIN.replace('payload["destination"]', 'payload["destnation"]'),
        agent_endpoints=[endpoint("search", "source", "destination", "sourse", outputs=["flight"])],
    )
    [reference] = _messages(misspelt, "VX108")
    assert "'sourse' is not a declared input (did you mean 'source'?):" in reference
    [output] = _messages(misspelt, "VX109")
    assert "'flight' is not a declared output (did you mean 'flights'?):" in output
    [read] = _messages(misspelt, "VX301")
    assert "'destnation', which is not a declared input (did you mean 'destination'?):" in read
    unlike = manifest(
        main=MAIN.replace('payload["destination"]', 'payload["zzz"]'),
        agent_endpoints=[endpoint("search", "source", "destination", "qqq", outputs=["www"])],
    )
    for code in ("VX108", "VX109", "VX301"):
        [message] = _messages(unlike, code)
        assert "did you mean" not in message


@pytest.mark.parametrize(
    ("path", "codes"),
    [
        ("", []),
        ("flights.main.search", []),
        ("flights.search", ["VX110"]),
        ("main.search", ["VX110"]),
        ("a b.main.search", ["VX110"]),
        ("flights.main.other", ["VX110"]),
    ],
)
def test_endpoint_path(path: str, codes: list[str]) -> None:
    assert found_codes(manifest(agent_endpoints=[endpoint(endpoint=path)])) == codes


def test_endpoints_with_different_aliases() -> None:
    main = MAIN + '\n\n@mcp_endpoint(description="Two")\nasync def two(payload):\n    return 2\n'
    endpoints = [endpoint(endpoint="a.main.search"), endpoint("two", endpoint="b.main.two")]
    for item in endpoints[1:]:
        item["inputs"] = []
    assert found(manifest(main, agent_endpoints=endpoints)) == [
        ("VX115", "agent_endpoints[1].endpoint")
    ]


@pytest.mark.parametrize("name", ["get-flights", "class", "\uff53earch", "1st"])
def test_endpoint_names_the_worker_cannot_find(name: str) -> None:
    assert found(manifest(agent_endpoints=[endpoint(name)]))[0] == (
        "VX111",
        "agent_endpoints[0].name",
    )


def test_endpoint_module_without_file() -> None:
    tools = endpoint("lookup", module="tools")
    data = manifest(agent_endpoints=[endpoint(), tools])
    assert found(data) == [("VX114", "agent_endpoints[1].module")]
    # The platform cannot import the endpoint: an error, not advice.
    with pytest.raises(AgentValidationError) as caught:
        validate_agent_manifest(data)
    assert [issue.code for issue in caught.value.errors] == ["VX114"]
    data["files"].append({"name": "tools.py", "content": "", "mime_type": "python"})
    assert found(data) == []


def test_input_specs() -> None:
    inputs = [
        {"name": "source", "type": "string", "pattern": "(", "default": "JFK"},
        {"name": "destination", "type": "integer", "min_value": 5, "max_value": 1},
        {"name": "a", "type": "string", "min_length": -1, "max_length": 3, "default": "long"},
        {"name": "b", "type": "list", "min_length": 4, "max_length": 2},
        {"name": "c", "type": "boolean", "min_value": 1, "pattern": "x", "max_length": 2},
        {"name": "d", "type": "integer", "allowed_values": [1, "two", True], "default": 2},
    ]
    refs = ("source", "destination", "a", "b", "c", "d")
    main = MAIN.replace('payload["destination"]', "[payload[k] for k in 'abcd']")
    data = manifest(main, inputs=inputs, agent_endpoints=[endpoint("search", *refs)])
    issues = found(data)
    assert ("VX120", "inputs[0].pattern") in issues
    assert ("VX121", "inputs[1].min_value") in issues
    assert ("VX124", "inputs[2].min_length") in issues
    assert ("VX122", "inputs[2].default") in issues
    assert ("VX121", "inputs[3].min_length") in issues
    assert ("VX125", "inputs[4].min_value") in issues
    assert ("VX125", "inputs[4].max_length") in issues
    assert ("VX125", "inputs[4].pattern") in issues
    assert ("VX123", "inputs[5].allowed_values[1]") in issues
    assert ("VX123", "inputs[5].allowed_values[2]") in issues
    assert ("VX122", "inputs[5].default") in issues  # 2 is not among allowed_values
    assert ("VX122", "inputs[0].default") not in issues  # its pattern is reported instead


# --- main.py: endpoint functions ---------------------------------------------------------


def test_missing_and_redefined_and_sync_functions() -> None:
    main = MAIN + "\n\nasync def search(payload):\n    return payload\n"
    assert found(manifest(main)) == [("VX215", "main.py:7:1"), ("VX212", "main.py:11:1")]
    sync = MAIN.replace("async def", "def")
    assert found(manifest(sync)) == [("VX211", "main.py:7:1")]
    assert found(manifest(MAIN.replace("def search", "def other"))) == [
        ("VX210", "agent_endpoints[0]"),
        ("VX219", "main.py:7:1"),
    ]


# Each binds `search` at module level; appended after MAIN, its first line is line 9.
REBINDINGS = [
    "search = None",
    "search = other = print",
    "del search",
    "class search:\n    pass",
    "import json as search",
    "from os import path as search",
    "import search",
    "for search in range(3):\n    pass",
    "with open(__file__) as search:\n    pass",
    "search += 1",
    "search: int = 1",
    "a, *search = 1, 2",
    "try:\n    pass\nexcept Exception as search:\n    pass",
    "if True:\n    search = None",
    "while False:\n    pass\nelse:\n    del search",
]
REBINDING_EXPRESSIONS = [  # (code, column of the rebound name)
    ("(search := 1)", 2),
    ("print([search := x for x in range(3)])", 8),
    ("x = 1 if (search := 0) else 2", 11),
    ("@print\ndef other(a=(search := 1)):\n    pass", 14),
]
NOT_REBINDINGS = [
    "search: int",  # an annotation alone binds nothing
    "def other():\n    search = 1",
    "class Other:\n    search = 1",
    "f = lambda: (search := 2)",
    "search.attribute = 1",
    "x = {}\nx[search] = 1",
    "if TYPE_CHECKING:\n    search = None",
    "[search for search in range(3)]",
]


@pytest.mark.parametrize("code", REBINDINGS)
def test_an_endpoint_name_rebound_after_its_def_is_an_error(code: str) -> None:
    data = manifest(MAIN + code + "\n")
    (location,) = [location for found_code, location in found(data) if found_code == "VX220"]
    assert int(location.split(":")[1]) >= 9  # on the statement that rebinds it
    with pytest.raises(AgentValidationError) as caught:
        validate_agent_manifest(data)
    assert "VX220" in {issue.code for issue in caught.value.errors}
    # Bound before the def, the name is the function again once main.py is imported.
    before = MAIN.replace("\n\n@mcp_endpoint", f"\n{code}\n\n@mcp_endpoint")
    assert "VX220" not in found_codes(manifest(before))


@pytest.mark.parametrize(("code", "column"), REBINDING_EXPRESSIONS)
def test_an_endpoint_name_rebound_with_walrus_is_an_error(code: str, column: int) -> None:
    issues = found(manifest(MAIN + code + "\n"))
    assert [location for found_code, location in issues if found_code == "VX220"] == [
        f"main.py:{9 + code.count(chr(10)) - (1 if 'def other' in code else 0)}:{column}"
    ]


@pytest.mark.parametrize("code", NOT_REBINDINGS)
def test_other_bindings_of_the_name_are_not_rebindings(code: str) -> None:
    assert "VX220" not in found_codes(manifest(MAIN + code + "\n"))


def test_a_rebinding_message_says_what_rebinds_and_where() -> None:
    (issue,) = [
        issue
        for issue in check_agent_manifest(manifest(MAIN + "del search\n")).issues
        if issue.code == "VX220"
    ]
    assert issue.message.startswith("line 9 deletes 'search' after the endpoint function")
    assert "(line 7)" in issue.message
    assert issue.path == "files[0]"


def test_a_rebinding_before_a_later_def_is_only_a_redefinition() -> None:
    main = MAIN + "search = None\n\n" + MAIN.split("\n\n\n", 1)[1]
    assert "VX220" not in found_codes(manifest(main))
    assert "VX215" in found_codes(manifest(main))


def test_a_match_capture_rebinds_the_name() -> None:
    main = MAIN + "match 1:\n    case [1, *search]:\n        pass\n    case search:\n        pass\n"
    assert [location for code, location in found(manifest(main)) if code == "VX220"] == [
        "main.py:10:14",
        "main.py:12:10",
    ]


def test_functions_defined_in_module_level_blocks_count() -> None:
    main = MAIN.replace("\n@mcp_endpoint", "\nif True:\n  pass\n\n@mcp_endpoint", 1)
    wrapped = "try:\n    import json\nexcept ImportError:\n    pass\n" + main
    assert found(manifest(wrapped)) == []


@pytest.mark.parametrize(
    ("imports", "decorator"),
    [
        ("from ViksaAI import mcp_endpoint", "mcp_endpoint"),
        ("from viksa_ai.runtime import mcp_endpoint as endpoint", "endpoint"),
        ("import ViksaAI", "ViksaAI.mcp_endpoint"),
        ("import ViksaAI as V", "V.mcp_endpoint"),
        ("import viksa_ai.runtime", "viksa_ai.runtime.mcp_endpoint"),
        ("import viksa_ai.runtime as rt", "rt.mcp_endpoint"),
        ("from viksa_ai import runtime", "runtime.mcp_endpoint"),
        ("from viksa_ai import mcp_endpoint", "mcp_endpoint"),
        ("from ViksaAI import *", "mcp_endpoint"),
    ],
)
def test_decorator_imported_any_way(imports: str, decorator: str) -> None:
    main = (
        f"{imports}\n\n@{decorator}(description='Search')\n"
        "async def search(payload):\n    return [payload.get('source'), payload['destination']]\n"
    )
    # `from viksa_ai import ...` needs viksa-ai itself on a worker (VX221 otherwise).
    assert found(manifest(main, requirements=["viksa-ai"])) == []


@pytest.mark.parametrize(
    ("decorator", "expected"),
    [
        ("@mcp_endpoint", [("VX213", "main.py:3:2")]),
        ("@mcp_endpoint()", [("VX214", "main.py:3:2")]),
        ("@mcp_endpoint(description='')", [("VX214", "main.py:3:2")]),
        ("@mcp_endpoint(description=None)", [("VX214", "main.py:3:2")]),
        ("@mcp_endpoint('a', 'b')", [("VX214", "main.py:3:2")]),
        ("@mcp_endpoint('a', description='b')", [("VX214", "main.py:3:2")]),
        ("@mcp_endpoint(desc='a')", [("VX214", "main.py:3:2")]),
        ("@mcp_endpoint('Search')", []),
        ("@mcp_endpoint(description=f'{1}')", []),
        ("@mcp_endpoint(**options)", []),
        ("@other.mcp_endpoint(description='x')", [("VX217", "main.py:3:2")]),
        ("@staticmethod", [("VX212", "main.py:4:1")]),
    ],
)
def test_decorator_problems(decorator: str, expected: list[tuple[str, str]]) -> None:
    main = (
        f"from ViksaAI import mcp_endpoint\n\n{decorator}\n"
        "async def search(payload):\n    return [payload.get('source'), payload['destination']]\n"
    )
    assert found(manifest(main)) == expected


def test_decorator_not_imported_or_from_elsewhere() -> None:
    body = "\n@mcp_endpoint(description='x')\nasync def search(payload):\n    return payload\n"
    assert found(manifest(body)) == [("VX217", "main.py:2:2")]
    foreign = "from mylib import mcp_endpoint\n" + body
    assert found(manifest(foreign, requirements=["mylib"])) == [("VX218", "main.py:3:2")]
    local = "def mcp_endpoint(description):\n    return lambda f: f\n" + body
    assert found(manifest(local)) == [("VX218", "main.py:4:2")]


def test_decorator_on_a_sync_function_is_reported_even_off_the_endpoints() -> None:
    # The platform awaits whatever @mcp_endpoint marks; the runtime only warns at import.
    helper = "\n\n@mcp_endpoint(description='Helper')\ndef helper(payload):\n    return 1\n"
    assert found(manifest(MAIN + helper)) == [
        ("VX211", "main.py:12:1"),
        ("VX219", "main.py:12:1"),
    ]
    # Another decorator in between may make it async: the validator cannot tell.
    wrapped = "from tools import make_async" + helper.replace("def", "@make_async\ndef")
    assert found(manifest(MAIN + wrapped, requirements=["tools"])) == [("VX219", "main.py:13:1")]
    assert found(manifest(MAIN + helper.replace("def helper", "async def helper"))) == [
        ("VX219", "main.py:12:1")
    ]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # On a class: the platform awaits only `async def` functions (the runtime warns).
        ("@mcp_endpoint(description='x')\nclass Tool:\n    pass\n", [("VX211", "main.py:12:1")]),
        ("@mcp_endpoint\nclass Tool:\n    pass\n", [("VX213", "main.py:11:2")]),
        ("@mcp_endpoint()\nclass Tool:\n    pass\n", [("VX214", "main.py:11:2")]),
        # On a method: the class body runs at import, and so does the decorator.
        (
            "class Tool:\n    @mcp_endpoint\n    async def run(self, payload):\n        pass\n",
            [("VX213", "main.py:12:6")],
        ),
        (
            "class Tool:\n    @mcp_endpoint(description=' ')\n    async def run(self, p):\n"
            "        pass\n",
            [("VX214", "main.py:12:6")],
        ),
        (
            "class Tool:\n    @mcp_endpoint(description='x')\n    def run(self, p):\n"
            "        pass\n",
            [("VX211", "main.py:13:5")],
        ),
        # Fine at import: a described decorator on an async method.
        (
            "class Tool:\n    @mcp_endpoint(description='x')\n    async def run(self, p):\n"
            "        pass\n",
            [],
        ),
    ],
)
def test_decorator_uses_on_classes_and_methods(code: str, expected: list[tuple[str, str]]) -> None:
    assert found(manifest(MAIN + "\n\n" + code)) == expected


_ASYNC_HELPER = "\nasync def helper(payload):\n    return 1\n"


@pytest.mark.parametrize(
    ("snippet", "code", "says"),
    [
        ("@mcp_endpoint" + _ASYNC_HELPER, "VX213", "is used bare, so the endpoint has no"),
        ("@mcp_endpoint()" + _ASYNC_HELPER, "VX214", "fails when main.py is imported: it has"),
        ("@mcp_endpoint('a', 'b')" + _ASYNC_HELPER, "VX214", "fails when main.py is imported"),
        ("@mcp_endpoint(desc='a')" + _ASYNC_HELPER, "VX214", "fails when main.py is imported"),
        ("@mcp_endpoint(description='')" + _ASYNC_HELPER, "VX214", "no usable description"),
        ("@mcp_endpoint(None)" + _ASYNC_HELPER, "VX214", "no usable description"),
        ("@mcp_endpoint('x')\ndef helper(payload):\n    return 1\n", "VX211", "cannot await"),
        ("@mcp_endpoint('x')\nclass Helper:\n    pass\n", "VX211", "cannot await"),
    ],
)
def test_decorator_messages_say_what_breaks(snippet: str, code: str, says: str) -> None:
    # The runtime raises only for a call Python itself rejects (as 0.2 did); every other
    # use imports with a ViksaEndpointWarning, so the message must not claim a TypeError.
    issues = check_agent_manifest(manifest(MAIN + "\n\n" + snippet)).issues
    [issue] = [issue for issue in issues if issue.code == code]
    assert says in issue.message
    assert "TypeError" not in issue.message
    if "no usable description" in says:
        assert "only warns" in issue.message
        assert "fails" not in issue.message


_SEARCH = "async def search(payload):\n    return [payload.get('source'), payload['destination']]\n"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Bound by an alias assignment: the runtime's decorator under another name.
        ("import ViksaAI\nep = ViksaAI.mcp_endpoint\n\n@ep(description='x')\n", []),
        ("import ViksaAI\nmcp_endpoint = ViksaAI.mcp_endpoint\n@mcp_endpoint('x')\n", []),
        ("import viksa_ai.runtime\nrt = viksa_ai.runtime\n@rt.mcp_endpoint('x')\n", []),
        # Bound in ways the validator does not follow: maybe not the runtime's, but bound.
        (
            "import ViksaAI\nfor mcp_endpoint in [ViksaAI.mcp_endpoint]:\n    pass\n"
            "@mcp_endpoint('x')\n",
            [("VX218", "main.py:4:2")],
        ),
        (
            "import ViksaAI, contextlib\n"
            "with contextlib.nullcontext(ViksaAI.mcp_endpoint) as mcp_endpoint:\n    pass\n"
            "@mcp_endpoint('x')\n",
            [("VX218", "main.py:4:2")],
        ),
        # A star import from another module (an agent file) may re-export it.
        ("from helpers import *\n@mcp_endpoint('x')\n", [("VX218", "main.py:2:2")]),
        # A decorator of the agent's own: its arguments are not the runtime's.
        (
            "from mylib import mcp_endpoint\n@mcp_endpoint(description='x', tags=['a'])\n",
            [("VX218", "main.py:2:2")],
        ),
        ("from mylib import mcp_endpoint\n@mcp_endpoint()\n", [("VX218", "main.py:2:2")]),
        # Imported only for type checkers: not bound when main.py runs.
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from ViksaAI import mcp_endpoint\n@mcp_endpoint('x')\n",
            [("VX217", "main.py:4:2")],
        ),
        (
            "import typing\nif typing.TYPE_CHECKING:\n    pass\nelse:\n"
            "    from ViksaAI import mcp_endpoint\n@mcp_endpoint('x')\n",
            [],
        ),
    ],
)
def test_how_the_decorator_name_is_bound(code: str, expected: list[tuple[str, str]]) -> None:
    assert found(manifest(code + _SEARCH, requirements=["helpers", "mylib"])) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Methods of nested classes, and inside blocks of a class body, run at import.
        (
            "class A:\n    class B:\n        @mcp_endpoint(description='m', name='m')\n"
            "        async def m(self, p):\n            pass\n",
            [("VX214", "main.py:13:10")],
        ),
        (
            "class A:\n    class B:\n        @mcp_endpoint(description='m')\n"
            "        async def m(self, p):\n            pass\n",
            [],
        ),
        (
            "class A:\n    if True:\n        @mcp_endpoint()\n"
            "        async def m(self, p):\n            pass\n",
            [("VX214", "main.py:13:10")],
        ),
        # An earlier definition of a redefined function is decorated at import too.
        (
            "@mcp_endpoint()\nasync def helper(p):\n    pass\n\n"
            "@mcp_endpoint(description='h')\nasync def helper(p):\n    pass\n",
            [("VX214", "main.py:11:2"), ("VX219", "main.py:16:1")],
        ),
    ],
)
def test_decorators_that_run_at_import_are_checked(
    code: str, expected: list[tuple[str, str]]
) -> None:
    assert found(manifest(MAIN + "\n\n" + code)) == expected


def test_decorator_imported_after_its_use() -> None:
    body = (
        "@mcp_endpoint(description='x')\nasync def search(payload):\n"
        "    return [payload.get('source'), payload['destination']]\n"
    )
    late = body + "\nfrom ViksaAI import mcp_endpoint\n"
    [issue] = check_agent_manifest(manifest(late)).issues
    assert (issue.code, issue.location) == ("VX217", "main.py:1:2")
    assert "not bound until line 5" in issue.message
    dotted = body.replace("@mcp_endpoint", "@ViksaAI.mcp_endpoint") + "import ViksaAI\n"
    assert found(manifest(dotted)) == [("VX217", "main.py:1:2")]
    assert found(manifest("from ViksaAI import mcp_endpoint\n" + late)) == []


def test_signature_problems() -> None:
    none = MAIN.replace("search(payload: Dict[str, Any])", "search()")
    assert found(manifest(none)) == [("VX216", "main.py:7:1")]
    extra = MAIN.replace("(payload: Dict[str, Any])", "(payload, extra, *, flag, ok=1)")
    assert found(manifest(extra)) == [("VX216", "main.py:7:27"), ("VX216", "main.py:7:37")]


# --- main.py: the inputs read ------------------------------------------------------------


def test_every_way_of_reading_a_key() -> None:
    main = """\
from ViksaAI import mcp_endpoint

@mcp_endpoint(description="All")
async def search(payload):
    if "source" not in payload:
        return None
    first = payload.pop("destination", None)
    payload.setdefault("limit", 3)
    del payload["stale"]
    payload["note"] = "x"
    return [first, "limit" in payload]
"""
    data = manifest(main)
    data["inputs"].append({"name": "limit", "type": "integer"})
    data["agent_endpoints"][0]["inputs"].append({"input_ref": "limit", "required": False})
    assert found(data) == []


def test_undeclared_and_unreferenced_keys() -> None:
    main = MAIN.replace(
        'payload["destination"]]',
        'payload["destination"], payload.get("other"), payload["spare"], payload["__viksa_a2a__"]]',
    )
    data = manifest(main, inputs=[*manifest()["inputs"], {"name": "spare", "type": "string"}])
    assert found(data) == [
        ("VX301", "main.py:8:72"),
        ("VX306", "main.py:8:94"),
        ("VX307", "main.py:8:112"),
    ]


def test_required_and_optional_inputs_never_read() -> None:
    main = MAIN.replace(', payload["destination"]', "")
    assert found(manifest(main)) == [("VX302", "agent_endpoints[0].inputs[1]")]
    optional = manifest(
        main, agent_endpoints=[endpoint("search", "source", ("destination", False))]
    )
    assert found(optional) == [("VX304", "agent_endpoints[0].inputs[1]")]


@pytest.mark.parametrize(
    "use",
    [
        "helper(payload)",
        "payload.keys()",
        "payload.get(key)",
        "{**payload}",
        "[k for k in payload]",
        "(payload := {})",
    ],
)
def test_opaque_uses_do_not_claim_unread_inputs(use: str) -> None:
    main = MAIN.replace(', payload["destination"]', f", {use}")
    assert found(manifest(main)) == []


def test_a_nested_function_with_its_own_payload_is_not_ours() -> None:
    main = MAIN.replace(
        '    return {"flights"',
        "    def inner(payload):\n        return payload['whatever']\n\n    return {\"flights\"",
    )
    assert found(manifest(main)) == []


def test_dict_parameter_under_another_name() -> None:
    main = MAIN.replace("payload", "data")
    assert found(manifest(main)) == []


def test_named_parameters_are_checked_like_payload_keys() -> None:
    main = MAIN.replace(
        "(payload: Dict[str, Any])", "(source: str, destination: str, unknown: int = 0)"
    ).replace('[payload.get("source"), payload["destination"]]', "[source, destination]")
    assert found(manifest(main)) == [("VX301", "main.py:7:49")]
    optional = manifest(
        main.replace(", unknown: int = 0", ""),
        agent_endpoints=[endpoint("search", "source", ("destination", False))],
    )
    assert found(optional) == [("VX305", "main.py:7:31")]
    missing = manifest(main.replace(", destination: str, unknown: int = 0", ""))
    assert found(missing) == [("VX302", "agent_endpoints[0].inputs[1]")]


def test_signature_styles_follow_the_worker() -> None:
    # As the runner calls them: a `payload` parameter gets the dict; else **kwargs or a
    # parameter named after an input means keyword arguments; else the first parameter.
    reads = '[payload.get("source"), payload["destination"]]'
    keyword_only = MAIN.replace("(payload: Dict[str, Any])", "(*, flag)")
    assert found(manifest(keyword_only)) == [("VX216", "main.py:7:1")]
    with_kwargs = MAIN.replace("(payload: Dict[str, Any])", "(data, **rest)").replace(
        reads, '[rest.get("source"), rest["destination"]]'
    )
    assert found(manifest(with_kwargs)) == [("VX301", "main.py:7:18")]
    payload_wins = MAIN.replace("(payload: Dict[str, Any])", "(source, payload, **rest)")
    # `source` gets the dict (the first positional parameter); `payload` nothing.
    assert found(manifest(payload_wins)) == [("VX216", "main.py:7:18"), ("VX216", "main.py:7:26")]


def test_named_parameters_with_kwargs() -> None:
    main = MAIN.replace("(payload: Dict[str, Any])", "(source, **rest)").replace(
        '[payload.get("source"), payload["destination"]]', '[source, rest.get("destination")]'
    )
    assert found(manifest(main)) == []


def test_unused_inputs_are_warnings() -> None:
    data = manifest(inputs=[*manifest()["inputs"], {"name": "spare", "type": "string"}])
    report = check_agent_manifest(data)
    assert [(i.code, i.severity, i.input) for i in report.issues] == [("VX303", "warning", "spare")]
    assert report.ok


def test_code_issues_carry_file_entry_and_input() -> None:
    main = MAIN.replace('payload["destination"]', 'payload["when"]')
    data = manifest(main)
    data["files"].insert(0, {"name": "README.md", "content": "", "mime_type": "other"})
    issue = next(i for i in check_agent_manifest(data).issues if i.code == "VX301")
    assert (issue.path, issue.file, issue.line, issue.column, issue.input) == (
        "files[1]",
        "main.py",
        8,
        48,
        "when",
    )


def test_columns_count_characters_not_bytes() -> None:
    main = MAIN.replace(
        'return {"flights"', 'x = "ééé"; y = payload["nope"]\n    return {"flights"'
    )
    issue = next(i for i in check_agent_manifest(manifest(main)).issues if i.code == "VX301")
    assert (issue.line, issue.column) == (8, 20)


def test_compile_errors_are_reported_with_the_other_issues() -> None:
    main = MAIN + "\nreturn 1\n"
    data = manifest(main, agent_endpoints=[endpoint(outputs=["nope"])])
    assert found(data) == [
        ("VX109", "agent_endpoints[0].outputs[0]"),
        ("VX202", "main.py:10:1"),
    ]


def test_syntax_error_stops_only_the_code_rules() -> None:
    data = manifest("def broken(:\n", agent_endpoints=[endpoint(outputs=["nope"])])
    assert found(data) == [("VX109", "agent_endpoints[0].outputs[0]"), ("VX201", "main.py:1:12")]


def test_a_payload_spelled_otherwise_under_nfkc_is_still_followed() -> None:
    # The scan stops once it has found as many `payload` names as the text spells;
    # a fullwidth p is the same name to Python (NFKC), so that bound must not apply.
    main = MAIN.replace('payload["destination"]', '\uff50ayload["destination"], payload["when"]')
    assert found(manifest(main)) == [("VX301", "main.py:8:72")]
