"""Parsing and compile-checking main.py: hostile text always gives issues, never an exception."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools import check_agent_manifest
from viksa_ai.devtools.validate._parse import MAX_SOURCE_CHARS, parse_source


def located(text: str) -> list[tuple[str, int | None, int | None]]:
    return [(issue.code, issue.line, issue.column) for issue in parse_source(text).issues]


def test_valid_source_has_a_tree_and_no_issue() -> None:
    parsed = parse_source("async def f(payload):\n    return payload['x']\n")
    assert parsed.tree is not None
    assert parsed.issues == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("def f(:\n    pass\n", ("VX201", 1, 7)),
        ("x = (1,\n", ("VX201", 1, 5)),
        ("if x:\npass\n", ("VX201", 2, 1)),
        ("é = 1 +\n", ("VX201", 1, 8)),
        ("x = 0777\n", ("VX201", 1, 5)),
        ("x = '\\N{NOPE}'\n", ("VX201", 1, 15)),
    ],
)
def test_syntax_errors_have_line_and_column(text: str, expected: tuple[str, int, int]) -> None:
    issues = located(text)
    assert issues == [expected]
    assert parse_source(text).tree is None


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("return 1\n", 1, "'return' outside function"),
        ("nonlocal x\n", 1, "nonlocal declaration not allowed at module level"),
        ("def f(a, a):\n    pass\n", 1, "duplicate argument 'a'"),
        ("await x\n", 1, "'await' outside function"),
        ("for x in y:\n    pass\nbreak\n", 3, "'break' outside loop"),
        ("def f():\n    x = 1\n    global x\n", 3, "assigned to before global declaration"),
        (
            "async def f():\n    yield 1\n    return 2\n",
            3,
            "'return' with value in async generator",
        ),
        ("from __future__ import braces\n", 1, "not a chance"),
        ("def f():\n    from os import *\n", 2, "import * only allowed at module level"),
    ],
)
def test_what_only_the_compiler_refuses(text: str, line: int, message: str) -> None:
    parsed = parse_source(text)
    assert [(issue.code, issue.line) for issue in parsed.issues] == [("VX202", line)]
    assert message in parsed.issues[0].message
    assert parsed.tree is not None  # the other rules still read it


def test_compile_error_columns_count_characters() -> None:
    assert located("é = 1; return 1\n") == [("VX202", 1, 8)]


def test_nul_byte() -> None:
    assert located("x = 1\ny = '\0'\n") == [("VX201", 2, 6)]


def test_lone_surrogate() -> None:
    issues = parse_source("x = 1\ny = '\ud800'\n").issues
    assert [(i.code, i.line, i.column) for i in issues] == [("VX203", 2, 6)]
    assert "U+D800" in issues[0].message


def test_byte_order_mark_is_ignored() -> None:
    assert located("\ufeffx = 1\n") == []


def test_form_feed_and_carriage_returns() -> None:
    assert located("\x0cx = 1\ry = 2\r\nz = (\n") == [("VX201", 3, 5)]


def test_too_large() -> None:
    text = "x = 1\n" * (MAX_SOURCE_CHARS // 6 + 1)
    issues = parse_source(text).issues
    assert [issue.code for issue in issues] == ["VX204"]


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "1 + " * 20_000 + "1\n",
        "x = " + "not " * 20_000 + "1\n",
        "x = " + "-" * 20_000 + "1\n",
        "x = a" + ".b" * 20_000 + "\n",
        "x = f" + "()" * 20_000 + "\n",
    ],
)
def test_too_deep_for_python(text: str) -> None:
    assert [issue.code for issue in parse_source(text).issues] == ["VX205"]


def test_nesting_too_deep_only_for_the_tree_falls_back_to_the_text() -> None:
    # compile() of this tree recurses in Python and overflows; CPython compiles the
    # same text (its parser is not recursive in Python), so it is no error.
    depth = sys.getrecursionlimit()
    text = "x = " + "1 + " * depth + "1\n"
    parsed = parse_source(text)
    if parsed.tree is None:
        pytest.skip("this interpreter cannot parse the expression at all")
    assert parsed.issues == ()


def test_other_nesting_limits_are_syntax_errors() -> None:
    assert located("x = " + "(" * 300 + ")" * 300 + "\n")[0][0] == "VX201"
    blocks = "".join(" " * i + "if x:\n" for i in range(120)) + " " * 120 + "pass\n"
    assert located(blocks)[0][0] == "VX201"


def test_python_warnings_become_warning_issues() -> None:
    issues = parse_source("x = '\\d'\ny = 1 is 1\n").issues
    assert {(issue.code, issue.severity, issue.line) for issue in issues} == {
        ("VX206", "warning", 1),
        ("VX206", "warning", 2),
    }


def test_validation_never_runs_the_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    main = (
        f"open({str(marker)!r}, 'w').write('x')\n"
        "import sys\nsys.exit(3)\n"
        "from ViksaAI import mcp_endpoint\n\n"
        "@mcp_endpoint(description='d')\nasync def f(payload):\n    return 1\n"
    )
    manifest = {
        "agent_name": "a",
        "agent_description": "d",
        "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
        "agent_endpoints": [{"name": "f", "module": "main", "description": "d"}],
    }
    assert check_agent_manifest(manifest).issues == ()
    assert not marker.exists()
    assert "ViksaAI" not in sys.modules


def test_counting_a_name_in_lines() -> None:
    from viksa_ai.devtools.validate._source import SourceText

    ascii_text = SourceText("payload = 1\npayload.get('payload')\nx = 2\n")
    assert ascii_text.count_in_lines("payload", 2, 2) == 2
    assert ascii_text.count_in_lines("payload", 1, 9) == 3  # clipped to the text
    assert ascii_text.count_in_lines("payload", 3, 2) == 0
    # Line 3 spells `payload` with a fullwidth p, which NFKC turns into the same name.
    mixed = SourceText("x = 1\npayload['a']\n\uff50ayload = 2\n")
    assert mixed.count_in_lines("payload", 2, 2) == 1  # ASCII lines of a non-ASCII text
    assert mixed.count_in_lines("payload", 2, 3) is None  # no textual bound there


@given(
    st.text(alphabet="pa\r\n \uff50", max_size=40),
    st.integers(min_value=-2, max_value=12),
    st.integers(min_value=-2, max_value=12),
)
def test_counting_in_lines_matches_the_lines_python_reads(text: str, first: int, last: int) -> None:
    # Counted on lines split at "\n" (or, when the text holds a "\r", at the tokenizer's
    # line ends): the same count as in the text of those lines, ends included.
    import re

    from viksa_ai.devtools.validate._source import SourceText

    lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", text)
    low, high = max(first, 1), min(last, len(lines))
    span = "".join(lines[low - 1 : high]) if low <= high else ""
    expected = span.count("pa") if text.isascii() or span.isascii() else None
    assert SourceText(text).count_in_lines("pa", first, last) == expected


def test_gc_paused_restores_the_collector_state() -> None:
    import gc

    from viksa_ai.devtools.validate._gc import gc_paused

    def fail_while_paused() -> None:
        with gc_paused():
            assert not gc.isenabled()
            raise KeyError("boom")

    assert gc.isenabled()
    with pytest.raises(KeyError):
        fail_while_paused()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()
