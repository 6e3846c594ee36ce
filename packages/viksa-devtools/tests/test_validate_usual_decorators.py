"""The rules' skip of the decorator checks when every function is a usual endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools import check_agent_manifest
from viksa_ai.devtools.validate import _rules

_NAMES = ("f0", "f1", "f2")
# What a function may carry above its def: nothing, the usual decorator, look-alikes
# with something to report, another decorator, or two.
_DECORATIONS = (
    "",
    '@mcp_endpoint(description="d")\n',
    "@mcp_endpoint\n",
    "@mcp_endpoint()\n",
    '@mcp_endpoint(description="")\n',
    "@other\n",
    '@other\n@mcp_endpoint(description="d")\n',
    '@mcp_endpoint(description="d")\n@mcp_endpoint(description="e")\n',
)
# Code beside the endpoints that the decorator rules report on: a method or class
# decorated, a function wrapped by the decorator after its def, an earlier definition
# of an endpoint's function, a decorated function no endpoint lists.
_EXTRAS = (
    "class Tool:\n    @mcp_endpoint\n    async def run(self, payload):\n        return 1\n",
    '@mcp_endpoint(description="d")\nclass Tool:\n    pass\n',
    "f1 = mcp_endpoint(f1)\n",
    '@mcp_endpoint(description="d")\nasync def helper(payload):\n    return 2\n',
)
# Placed before the endpoints: f0 defined twice, the first time with a bare decorator.
_EARLIER = "@mcp_endpoint\nasync def f0(payload):\n    return 0\n"


@st.composite
def _agents(draw: st.DrawFn) -> dict[str, Any]:
    # Mostly the usual agent, each function listed once as an endpoint, with one change
    # or two (a function otherwise decorated, a class, an endpoint listed twice...).
    chunks = ["from ViksaAI import mcp_endpoint\nfrom tools import other\n"]
    defined = draw(st.lists(st.sampled_from(_NAMES), min_size=1, unique=True))
    for name in defined:
        decoration, kind = _DECORATIONS[1], "async def"
        if draw(st.integers(0, 3)) == 0:
            decoration = draw(st.sampled_from(_DECORATIONS))
            kind = draw(st.sampled_from(("async def", "def")))
        chunks.append(f"{decoration}{kind} {name}(payload):\n    return payload.get('k')\n")
    extra = draw(st.sampled_from(("", _EARLIER, *_EXTRAS)))
    if extra == _EARLIER:
        chunks.insert(1, extra)
    else:
        chunks.append(extra)
    listed = list(defined)
    for _ in range(draw(st.integers(0, 2))):
        change = draw(st.sampled_from(("drop", "repeat", "add")))
        if change == "drop" and listed:
            listed.pop(draw(st.integers(0, len(listed) - 1)))
        elif change == "repeat" and listed:
            listed.append(draw(st.sampled_from(listed)))
        else:
            listed.append(draw(st.sampled_from((*_NAMES, "helper", "f9"))))
    return _manifest("\n\n".join(chunks), listed)


def _manifest(main: str, endpoints: list[str]) -> dict[str, Any]:
    return {
        "agent_name": "a",
        "agent_description": "d",
        "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
        "inputs": [{"name": "k", "type": "string"}],
        "agent_endpoints": [
            {"name": name, "module": "main", "description": "d", "inputs": [{"input_ref": "k"}]}
            for name in endpoints
        ],
    }


@settings(deadline=None, max_examples=300)  # deadline: the first examples build the models
@given(_agents())
def test_skipping_the_decorator_rules_reports_what_running_them_reports(
    manifest: dict[str, Any],
) -> None:
    skipping = check_agent_manifest(manifest).issues
    endpoint_pass = _rules._endpoint_pass

    def never_skip(ctx: Any, found: Any) -> tuple[frozenset[str], set[str], bool]:
        declared, used, _ = endpoint_pass(ctx, found)
        return declared, used, False

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_rules, "_endpoint_pass", never_skip)
        running = check_agent_manifest(manifest).issues
    assert skipping == running


def test_the_usual_agent_skips_them() -> None:
    # The case the skip is for (else the property above holds trivially).
    main = (
        "from ViksaAI import mcp_endpoint\n\n"
        '@mcp_endpoint(description="d")\nasync def f0(payload):\n    return payload["k"]\n'
    )
    manifest = _manifest(main, ["f0"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_rules, "decorator_issues", None)  # calling it would raise
        patch.setattr(_rules, "undeclared_endpoints", None)
        assert check_agent_manifest(manifest).issues == ()
