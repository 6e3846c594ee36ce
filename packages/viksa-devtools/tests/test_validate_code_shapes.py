"""The validator on main.py shapes a CI user or a hostile author writes (red-team pass).

Each test pins a defect found from outside: a correct agent that failed validation
(false positive) or code the platform cannot serve that passed it (false negative).
"""

from __future__ import annotations

import keyword
import textwrap
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools import check_agent_manifest

HEADER = "from viksa_ai.runtime import mcp_endpoint\n"


def agent(code: str) -> dict[str, Any]:
    """A manifest of one endpoint ``greet`` (required ``name``, optional ``excited``)."""
    return {
        "agent_name": "Greeter",
        "agent_description": "Greets",
        "files": [{"name": "main.py", "content": code, "mime_type": "python"}],
        "inputs": [
            {"name": "name", "type": "string"},
            {"name": "excited", "type": "boolean", "default": False},
        ],
        "outputs": [],
        "agent_endpoints": [
            {
                "name": "greet",
                "module": "main",
                "description": "d",
                "inputs": [
                    {"input_ref": "name", "required": True},
                    {"input_ref": "excited", "required": False},
                ],
            }
        ],
    }


def endpoint_body(body: str, signature: str = "payload") -> str:
    """main.py whose endpoint ``greet(signature)`` runs ``body``."""
    return (
        HEADER
        + f'@mcp_endpoint(description="Greets")\nasync def greet({signature}):\n'
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


def codes(code: str) -> list[str]:
    return [issue.code for issue in check_agent_manifest(agent(code)).issues]


READ = 'n = payload["name"], payload.get("excited")'
READS_BOTH = 'return payload["name"], payload.get("excited")'


# --- payload rebound or written: later reads are not reads of inputs (false positives) --


@pytest.mark.parametrize(
    "body",
    [
        # a read of the rebound dict, after the inputs are read
        f'{READ}\npayload = {{"other": 1}}\nreturn payload["other"], n',
        f'{READ}\nfor payload in [{{"other": 1}}]:\n    print(payload["other"])\nreturn n',
        f"import contextlib\n{READ}\n"
        'with contextlib.nullcontext({"other": 1}) as payload:\n    return payload["other"], n',
        f'{READ}\nif (payload := {{"other": 1}}):\n    return payload["other"], n',
        f'{READ}\nmatch {{"other": 1}}:\n    case payload:\n        return payload["other"], n',
        f'{READ}\nmatch {{"other": 1}}:\n    case {{**payload}}:\n'
        '        return payload["other"], n',
        f'{READ}\ntry:\n    pass\nexcept Exception as payload:\n    return payload.get("other"), n',
        f'{READ}\ndef inner():\n    nonlocal payload\n    payload = {{"other": 1}}\n'
        'inner()\nreturn payload["other"], n',
        f'{READ}\nfrom os import environ as payload\nreturn payload.get("HOME"), n',
        # a class body with its own variable of that name
        f'class K:\n    payload = {{"other": 1}}\n    x = payload["other"]\n{READS_BOTH}',
        # a comprehension whose target has that name
        f'xs = [payload["other"] for payload in [{{"other": 1}}]]\n{READS_BOTH}',
        f'xs = {{k: payload["other"] for k, payload in {{}}.items()}}\n{READS_BOTH}',
        # keys the code writes, then reads
        f'payload["other"] = 1\nx = payload["other"]\n{READS_BOTH}',
        f'payload.update({{"other": 1}})\nx = payload["other"]\n{READS_BOTH}',
    ],
)
def test_reads_of_a_rebound_or_written_payload_are_not_undeclared_inputs(body: str) -> None:
    assert codes(endpoint_body(body)) == []


def test_an_undeclared_key_read_before_the_payload_is_rebound_is_still_reported() -> None:
    body = f'x = payload["other"]\n{READ}\npayload = {{}}\nreturn x, n'
    assert codes(endpoint_body(body)) == ["VX301"]


def test_an_input_overwritten_before_it_is_read_is_never_read() -> None:
    body = 'payload["name"] = "x"\nreturn payload["name"], payload.get("excited")'
    assert codes(endpoint_body(body)) == ["VX302"]


def test_an_undeclared_key_read_before_the_code_writes_it_is_still_reported() -> None:
    body = f'x = payload.get("other")\npayload["other"] = 1\n{READS_BOTH}'
    assert codes(endpoint_body(body)) == ["VX301"]


@pytest.mark.parametrize(
    "body",
    [
        'payload["name"] = payload["name"].strip()\nreturn payload["name"], payload.get("excited")',
        'payload = {**payload, "name": payload["name"].strip()}\nreturn payload.get("excited")',
        'if (payload := dict(payload, n=payload["name"])):\n    return payload.get("excited")',
    ],
)
def test_a_write_never_makes_an_input_read_look_unread(body: str) -> None:
    # The value of an assignment is computed before its target is bound.
    assert "VX302" not in codes(endpoint_body(body))


def test_a_comprehension_storing_into_the_payload_is_not_its_own_variable() -> None:
    body = f'[0 for payload["x"] in [1]]\n{READS_BOTH}'
    assert codes(endpoint_body(body)) == []
    body = 'return [payload.get("name") for payload["x"] in [1]]'
    # the comprehension's body reads the payload (only `excited` is left unread)
    assert codes(endpoint_body(body)) == ["VX304"]


def test_a_comprehension_over_the_payload_still_reads_it() -> None:
    # The first iterable of a comprehension runs in the function: that is the payload.
    body = 'return [v for payload in [payload["name"], payload.get("excited")] for v in payload]'
    assert codes(endpoint_body(body)) == []


# --- module-level code the platform's import does not run, or that keeps the function ---

DEFINED = endpoint_body(READS_BOTH)


@pytest.mark.parametrize(
    "tail",
    [
        # the name wrapped after its def: the function is kept, as by a decorator
        "def retry(f):\n    return f\ngreet = retry(greet)\n",
        "import functools\ngreet = functools.partial(greet)\n",
        # code that runs only as a script, or never
        'if __name__ == "__main__":\n    import asyncio\n    greet = asyncio.run(greet({}))\n',
        'if "__main__" == __name__:\n    del greet\nelse:\n    pass\n',
        "if False:\n    greet = None\n",
    ],
)
def test_module_code_that_keeps_the_endpoint_function_is_valid(tail: str) -> None:
    assert codes(DEFINED + tail) == []


def test_the_decorator_may_be_applied_by_assignment_after_the_def() -> None:
    code = HEADER + (
        "async def greet(payload):\n"
        f"    {READS_BOTH}\n"
        'greet = mcp_endpoint(description="Greets")(greet)\n'
    )
    assert codes(code) == []


def test_a_decorator_applied_by_assignment_is_checked_like_one() -> None:
    code = HEADER + f"async def greet(payload):\n    {READS_BOTH}\ngreet = mcp_endpoint(greet)\n"
    assert codes(code) == ["VX213"]  # as a bare @mcp_endpoint


@pytest.mark.parametrize(
    "tail",
    [
        "greet = None\n",
        "greet = print(1)\n",  # a call that does not take the function
        'if __name__ != "__main__":\n    greet = None\n',  # runs on import
    ],
)
def test_a_rebinding_that_replaces_the_function_is_still_reported(tail: str) -> None:
    assert codes(DEFINED + tail) == ["VX220"]


def test_an_endpoint_defined_only_under_the_main_guard_is_missing() -> None:
    code = HEADER + 'if __name__ == "__main__":\n' + textwrap.indent(DEFINED, "    ")
    assert "VX210" in codes(code)


# --- signatures the worker cannot call as written (false negatives) ----------------------
# The worker (the runner, as the platform's) passes the inputs dict as the first
# positional argument when a parameter is named `payload` or none is named after an
# input; otherwise it passes the inputs as keyword arguments.


@pytest.mark.parametrize(
    ("signature", "says"),
    [
        ("*, payload", "'payload' is keyword-only"),
        ("*payload", "`*payload` does not receive it as a dict"),
        ("**payload", "`**payload` does not receive it as a dict"),
        ("context=None, payload=None", "it reaches 'context', not 'payload'"),
        ("name, /, excited=False", "'name' of 'greet' is positional-only"),
        ("name=None, /, *, excited=False", "'name' of 'greet' is positional-only"),
        # with **kwargs, a positional-only name goes into the kwargs, not the parameter
        ("name, excited=False, /, **rest", "'name' of 'greet' is positional-only"),
    ],
)
def test_a_parameter_the_worker_cannot_fill_is_reported(signature: str, says: str) -> None:
    reads = READS_BOTH if "payload" in signature else "return name, excited"
    report = check_agent_manifest(agent(endpoint_body(reads, signature)))
    vx216 = [issue.message for issue in report.issues if issue.code == "VX216"]
    assert vx216
    assert says in vx216[0]
    assert not report.ok


@pytest.mark.parametrize(
    "signature",
    ["payload, /", "payload, *, trace=False", "*, name, excited=False", "name, excited=False"],
)
def test_signatures_the_worker_can_call_are_valid(signature: str) -> None:
    reads = READS_BOTH if "payload" in signature else "return name, excited"
    assert codes(endpoint_body(reads, signature)) == []


# --- an async generator is not an endpoint -------------------------------------------


def test_an_async_generator_endpoint_is_reported() -> None:
    code = endpoint_body('yield payload["name"], payload.get("excited")')
    report = check_agent_manifest(agent(code))
    assert [(issue.code, issue.location) for issue in report.issues] == [("VX222", "main.py:3:1")]
    assert not report.ok


@pytest.mark.parametrize(
    "body",
    [
        # a nested generator, a generator expression: the endpoint itself returns
        "async def rows():\n    yield 1\n" + READS_BOTH,
        "gen = (x for x in [1])\n" + READS_BOTH,
    ],
)
def test_an_endpoint_that_uses_a_generator_is_valid(body: str) -> None:
    assert codes(endpoint_body(body)) == []


def test_only_the_last_definition_is_checked_for_yield() -> None:
    earlier = "async def greet(payload):\n    yield 1\n"
    assert codes(earlier + DEFINED) == ["VX215"]
    # ...and a helper async generator of another name is no endpoint
    assert codes(DEFINED + "async def helper():\n    yield 1\n") == []


# --- property: what follows a rebinding is never an undeclared input -------------------

_REBINDINGS = [
    "payload = {{}}",
    "for payload in [{{}}]:\n    pass",
    "payload |= {{}}",
    "payload.update({{}})",
    "(payload := {{}})",
    "try:\n    pass\nexcept Exception as payload:\n    pass",
]
_KEYS = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda key: key not in {"name", "excited"} and not keyword.iskeyword(key)
)


@settings(database=None, derandomize=True, max_examples=60, deadline=None)
@given(
    before=st.lists(_KEYS, max_size=3),
    after=st.lists(_KEYS, max_size=3),
    rebinding=st.sampled_from(_REBINDINGS),
    read=st.sampled_from(['payload["{}"]', 'payload.get("{}")', '"{}" in payload']),
)
def test_only_keys_read_before_a_rebinding_are_undeclared_inputs(
    before: list[str], after: list[str], rebinding: str, read: str
) -> None:
    lines = [READ, *(f"x = {read.format(key)}" for key in before), rebinding.format()]
    lines += [f"x = {read.format(key)}" for key in after]
    report = check_agent_manifest(agent(endpoint_body("\n".join([*lines, "return n"]))))
    undeclared = [issue.input for issue in report.issues if issue.code == "VX301"]
    assert undeclared == list(dict.fromkeys(before))
    assert {issue.code for issue in report.issues} <= {"VX301"}


# --- the runtime's decorator made once and applied by name ------------------------------

GREET = f"async def greet(payload):\n    {READS_BOTH}\n"


def test_a_decorator_made_by_assignment_counts_as_the_runtime_decorator() -> None:
    code = HEADER + f'endpoint = mcp_endpoint(description="Greets")\n@endpoint\n{GREET}'
    assert codes(code) == []


@pytest.mark.parametrize(
    ("made", "expected"),
    [
        ("mcp_endpoint()", ["VX214"]),  # its call has no description
        ('mcp_endpoint(description="Greets")\nendpoint = print', ["VX212"]),  # rebound
    ],
)
def test_a_decorator_made_by_assignment_is_checked(made: str, expected: list[str]) -> None:
    assert codes(HEADER + f"endpoint = {made}\n@endpoint\n{GREET}") == expected


def test_an_import_only_a_local_run_of_main_py_makes_needs_no_requirement() -> None:
    # VX221 (a warning, which fails --strict): the worker imports main.py, so the
    # `__main__` block never runs there.
    guarded = DEFINED + 'if __name__ == "__main__":\n    import pytest\n    pytest.main([])\n'
    manifest = {**agent(guarded), "requirements": []}
    assert [issue.code for issue in check_agent_manifest(manifest).issues] == []
    unguarded = DEFINED + "import pytest\n"
    manifest = {**agent(unguarded), "requirements": []}
    assert [issue.code for issue in check_agent_manifest(manifest).issues] == ["VX221"]


def test_overload_stubs_before_an_endpoint_are_not_redefinitions() -> None:
    # VX215 is a warning, which fails --strict.
    stubs = (
        "from typing import overload\n"
        "@overload\nasync def greet(payload: dict) -> tuple: ...\n"
        "@overload\nasync def greet(payload: list) -> tuple: ...\n"
    )
    assert codes(stubs + DEFINED) == []
    # an earlier definition that is no stub still is one (see also the yield test above)
    assert codes("async def greet(payload):\n    return 1\n" + DEFINED) == ["VX215"]
