"""Golden test: the validator's exact report over a corpus of generated agents.

The corpus is generated here, deterministically (one seeded ``random.Random`` per case):
manifests and main.py files that mix every rule's findings (decorators of every kind,
signatures, payload reads, rebindings, odd names, paths, references, input specs,
structurally invalid entries, code that does not parse). The reports were recorded in
``fixtures/validate_golden.json`` by the validator as it was before the rules were fused
into one pass per endpoint; every issue (code, message, path, position, severity, input)
and their order must stay the same. After a deliberate change of a message or a rule,
re-record with ``uv run python packages/viksa-devtools/tests/test_validate_golden.py``
and review the diff.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools import check_agent_manifest
from viksa_ai.devtools.validate._validate import manifest_issues

GOLDEN = Path(__file__).parent / "fixtures" / "validate_golden.json"
CASES = 300

_NAMES = ["search", "book", "cancel", "route_1", "search", "bad-name", "class", "\uff53earch", ""]
_INPUTS = ["source", "destination", "limit", "extra", "__viksa_a2a__", "source"]
_IMPORTS = [
    "from ViksaAI import mcp_endpoint\n",
    "from ViksaAI import mcp_endpoint\n",
    "from ViksaAI import mcp_endpoint\n",
    "import ViksaAI\n",
    "from viksa_ai.runtime import mcp_endpoint as ep\n",
    "from other import mcp_endpoint\n",
    "from other import *\n",
    "from ViksaAI import *\n",
    "import viksa_ai.runtime as rt\n",
    "ep = ViksaAI.mcp_endpoint\n",
    "",
]
_DECORATORS = [
    '@mcp_endpoint(description="d")',
    '@mcp_endpoint(description="d")',
    '@mcp_endpoint(description="d")',
    "@mcp_endpoint",
    "@mcp_endpoint()",
    '@mcp_endpoint(description="  ")',
    "@mcp_endpoint(description=1)",
    '@mcp_endpoint("a", "b")',
    '@mcp_endpoint("a")',
    '@mcp_endpoint(description="d", x=1)',
    "@mcp_endpoint(*args)",
    '@ViksaAI.mcp_endpoint(description="d")',
    '@ep(description="d")',
    '@rt.mcp_endpoint(description="d")',
    '@other.mcp_endpoint(description="d")',
    "@staticmethod",
    "",
]
_SIGNATURES = [
    "(payload)",
    "(payload)",
    "(payload: Dict[str, Any])",
    "()",
    "(source, destination=None)",
    "(source, limit)",
    "(source, **kw)",
    "(p, extra)",
    "(*, source, limit=1)",
    "(**kwargs)",
    "(data, limit=2)",
    "(payload, /, other=1)",
    "(*args)",
]
_BODY = [
    '    return payload.get("source")\n',
    '    x = payload["destination"]\n',
    '    if "limit" in payload: pass\n',
    "    helper(payload)\n",
    '    payload["written"] = 1\n',
    '    return payload.get("nope", 3)\n',
    '    y = kw.get("limit")\n',
    '    return kwargs["source"]\n',
    '    return data.pop("extra")\n',
    '    return payload.get("__viksa_a2a__")\n',
    "    return source\n",
    "    return limit\n",
    "    f = lambda payload: payload['q']\n",
    '    return [payload[k] for k in ("a",)]\n',
    "    pass\n",
    "    return '\\d'\n",
]
_EXTRA = [
    "{n} = None\n",
    "del {n}\n",
    "({n} := 1)\n",
    "for {n} in []: pass\n",
    "try:\n    pass\nexcept Exception as {n}:\n    pass\n",
    "class {n}: pass\n",
    "import {n}\n",
    "with open('x') as {n}: pass\n",
    "{n}: int\n",
    "{n} += 1\n",
    "x, *{n} = 1, 2\n",
    "if TYPE_CHECKING:\n    {n} = 1\nelse:\n    pass\n",
    "match 1:\n    case {n}: pass\n",
    'class K:\n    @mcp_endpoint(description="d")\n    def {n}(self): pass\n',
    '@mcp_endpoint(description="d")\nclass C{n}: pass\n',
    '@mcp_endpoint(description="d")\ndef helper_{n}(payload): pass\n',
    '@mcp_endpoint(description="d")\nasync def helper_{n}(payload): pass\n',
    "def helper(x): return x\n",
    "if True:\n    async def {n}(payload): return payload\n",
    "return 1\n",
    "x = (\n",
    "def f(a, a): pass\n",
    "nonlocal q\n",
]
_TYPES = ["string", "integer", "float", "boolean", "list", "dict", "String", "any"]


def _pick(rng: random.Random, noise: float, choices: list[Any]) -> Any:
    """The first (usual) choice, or with probability ``noise`` any of them."""
    return rng.choice(choices) if rng.random() < noise else choices[0]


def _main_py(rng: random.Random, names: list[str], noise: float) -> str:
    parts = ["from typing import Any, Dict\n"]
    parts.extend(rng.sample(_IMPORTS, rng.choice([1, 1, 1, 2])) if noise > 0.3 else _IMPORTS[:1])
    functions = [name for name in names if name.isidentifier()]
    if rng.random() < 0.3:
        functions.append(rng.choice(["helper_fn", "other_ep", "search"]))
    for name in functions:
        if rng.random() < 0.08 * noise:
            continue  # no function for this endpoint
        decorator = _pick(rng, noise, _DECORATORS)
        kind = "def" if rng.random() < 0.12 * noise else "async def"
        body = "".join(rng.sample(_BODY, rng.choice([1, 2, 3]))) if noise else _BODY[0]
        if rng.random() < 0.15 * noise:
            parts.append(rng.choice(_EXTRA).format(n=name))
        parts.append(f"\n{decorator}\n{kind} {name}{_pick(rng, noise, _SIGNATURES)}:\n{body}")
        if rng.random() < 0.2 * noise:
            parts.append(rng.choice(_EXTRA).format(n=name))
    if rng.random() < 0.1 * noise:
        parts.append(
            rng.choice(["é = 'ü'\n", "x = '\\d'\n", "\0", "def (:\n", "if x is 1: pass\n"])
        )
    return "".join(parts)


def _input(rng: random.Random, name: str, noise: float) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "type": _pick(rng, noise, _TYPES)}
    for field, values in (
        ("min_value", [1, 5, 2.5, "x"]),
        ("max_value", [3, 0, 10]),
        ("min_length", [1, -1, 4]),
        ("max_length", [2, 3]),
        ("pattern", ["^[A-Z]+$", "(", "a"]),
        ("default", ["ABC", 7, None, "abcdefgh", [1]]),
        ("allowed_values", [["LAX", "JFK"], [1, "x"], []]),
    ):
        if rng.random() < 0.2 * noise:
            spec[field] = rng.choice(values)
    return spec


def _endpoint(rng: random.Random, name: str, inputs: list[str], noise: float) -> dict[str, Any]:
    module = _pick(rng, noise, ["main"] * 8 + ["lib", "pkg.mod", "gone"])
    refs = []
    pool = [*inputs, "ghost", inputs[0] if inputs else "ghost"]
    for ref in rng.sample(pool, rng.randint(0, min(3, len(pool)))) if noise else inputs:
        item: dict[str, Any] = {"input_ref": ref}
        if rng.random() < 0.5:
            item["required"] = rng.random() < 0.5
        refs.append(item)
    outputs = rng.sample(["flights", "flights", "ghost_out", "other"], rng.randint(0, 2))
    if noise < 0.2:
        outputs = ["flights"]
    path = _pick(
        rng,
        noise,
        [
            "",
            f"flights.{module}.{name}",
            f"flights.{module}.{name}",
            f"other.{module}.{name}",
            "x.y",
        ],
    )
    endpoint: dict[str, Any] = {
        "name": name,
        "module": module,
        "endpoint": path,
        "description": "d",
        "inputs": refs,
        "outputs": outputs,
    }
    if rng.random() < 0.04 * noise:
        del endpoint["description"]  # an invalid entry: the partial view
    return endpoint


def generate(seed: int) -> dict[str, Any]:
    """The manifest of case ``seed``."""
    rng = random.Random(seed)
    noise = rng.choice([0.0, 0.1, 0.3, 0.6, 1.0])
    names = rng.sample(_NAMES if noise else _NAMES[:4], rng.randint(0 if noise else 1, 4))
    inputs = rng.sample(_INPUTS, rng.randint(0, 5)) if noise else ["source"]
    files: list[dict[str, Any]] = [
        {
            "name": "main.py",
            "content": _main_py(rng, names, noise),
            "mime_type": "python" if rng.random() > 0.1 * noise else "yaml",
        }
    ]
    for extra in ("lib.py", "pkg/mod/__init__.py", "./main.py", "../evil.py"):
        if rng.random() < 0.15 * noise:
            files.append({"name": extra, "content": "x = 1\n", "mime_type": "python"})
    if rng.random() < 0.04 * noise:
        files.pop(0)
    manifest: dict[str, Any] = {
        "agent_name": "Flights",
        "agent_description": "Generated for the golden test",
        "agent_type": "cloud",
        "files": files,
        "inputs": [_input(rng, name, noise) for name in inputs],
        "outputs": [
            {"name": name, "type": "list"}
            for name in (
                rng.sample(["flights", "other", "flights"], rng.randint(0, 3))
                if noise
                else ["flights"]
            )
        ],
        "agent_endpoints": [_endpoint(rng, name, inputs, noise) for name in names],
    }
    if rng.random() < 0.03 * noise:
        manifest["inputs"].append({"name": "broken", "type": "bogus"})
    return manifest


def report(seed: int) -> list[list[Any]]:
    """Every issue of case ``seed``, each as the values of its ``to_dict()``."""
    return [list(issue.to_dict().values()) for issue in check_agent_manifest(generate(seed)).issues]


def test_the_corpus_exercises_the_rules() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    codes = {issue[0] for case in golden for issue in case}
    expected = {f"VX00{n}" for n in (2, 3)}
    expected |= {f"VX{n}" for n in (101, 102, 103, 104, 105, 106, 107, 108, 109, 110)}
    expected |= {f"VX{n}" for n in (111, 112, 114, 115, 116, 117, 120, 121, 122, 123, 124)}
    expected |= {f"VX{n}" for n in (125, 201, 202, 206)}
    expected |= {f"VX{n}" for n in (210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220)}
    expected |= {f"VX{n}" for n in (301, 302, 303, 304, 305, 306, 307)}
    assert expected <= codes, sorted(expected - codes)
    assert sum(not case for case in golden) > 10  # valid agents too


@pytest.mark.parametrize("chunk", range(8))
def test_reports_match_the_recorded_corpus(chunk: int) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert len(golden) == CASES
    for seed in range(chunk, CASES, 8):
        assert report(seed) == golden[seed], f"case {seed}"
        issues = [list(issue.to_dict().values()) for issue in manifest_issues(generate(seed))]
        assert issues == golden[seed], f"case {seed} (manifest_issues)"


if __name__ == "__main__":  # re-record (review the diff: it is the validator's behaviour)
    lines = [json.dumps(report(seed), ensure_ascii=True) for seed in range(CASES)]
    GOLDEN.write_text("[\n" + ",\n".join(lines) + "\n]\n", encoding="utf-8")
    sys.exit(0)
