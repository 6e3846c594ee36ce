"""Typed ``-i KEY=VALUE`` and the human output (colour, durations, errors)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools._cli_inputs import InputError, typed_input
from viksa_ai.devtools._cli_output import (
    format_duration,
    highlight_json,
    output_format,
    render_error,
    render_value,
    use_color,
)

DECLARED: dict[str, str | None] = {
    "name": "string",
    "top": "integer",
    "ratio": "float",
    "excited": "boolean",
    "options": "dict",
    "tags": "list",
    "free": None,
}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name=12345", ("name", "12345")),
        ("name=true", ("name", "true")),
        ('name={"a": 1}', ("name", '{"a": 1}')),
        ("name=", ("name", "")),
        ("name=a=b", ("name", "a=b")),
        ("top=5", ("top", 5)),
        ("top=-3", ("top", -3)),
        ("ratio=2", ("ratio", 2.0)),
        ("ratio=0.5", ("ratio", 0.5)),
        ("excited=true", ("excited", True)),
        ("excited=No", ("excited", False)),
        ('options={"k": [1]}', ("options", {"k": [1]})),
        ('tags=["a", "b"]', ("tags", ["a", "b"])),
        ("free=5", ("free", 5)),
        ("free=JFK", ("free", "JFK")),
    ],
)
def test_values_take_the_declared_type(text: str, expected: tuple[str, Any]) -> None:
    assert typed_input(text, DECLARED) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("top=1.5", "-i top: '1.5' is not a whole number (input 'top' is an integer)"),
        ("ratio=nan", "-i ratio: 'nan' is not a finite number (input 'ratio' is a float)"),
        ("excited=maybe", "-i excited: 'maybe' is not a boolean: use true or false"),
        ("options=[1]", "-i options: '[1]' is not a JSON object (input 'options' is a dict"),
        ("tags=a,b", "-i tags: 'a,b' is not JSON: give a JSON array"),
        ("nmae=Ada", "-i nmae: no such input (did you mean 'name'?); this endpoint takes: "),
        ("zzz=1", "-i zzz: no such input; this endpoint takes: excited, free, name"),
        ("Ada", "-i 'Ada' has no '=': give each input as KEY=VALUE, e.g. -i name=Ada"),
        ("=Ada", "-i '=Ada' has no KEY before '='"),
    ],
)
def test_bad_values_say_what_to_give(text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        typed_input(text, DECLARED)
    assert str(caught.value).startswith(message)


def test_without_declared_types_values_are_json_or_text() -> None:
    assert typed_input("n=5", None) == ("n", 5)
    assert typed_input("code=JFK", None) == ("code", "JFK")


@settings(database=None, derandomize=True)
@given(st.sampled_from(sorted(DECLARED)), st.text(max_size=40))
def test_any_value_gives_a_value_or_an_input_error(name: str, value: str) -> None:
    try:
        key, parsed = typed_input(f"{name}={value}", DECLARED)
    except InputError as exc:
        message = str(exc)
    else:
        assert key == name
        if DECLARED[name] == "string":
            assert parsed == value
        return
    assert message.startswith(f"-i {name}: ")


@settings(database=None, derandomize=True)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
)
def test_highlighting_only_adds_colour(value: Any) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    assert ANSI.sub("", highlight_json(text)) == text


def test_keys_and_values_get_different_colours() -> None:
    painted = highlight_json('{"a": "b", "n": 1, "t": true}')
    assert '\x1b[34m"a"\x1b[0m:' in painted
    assert '\x1b[32m"b"\x1b[0m' in painted
    assert "\x1b[36m1\x1b[0m" in painted
    assert "\x1b[35mtrue\x1b[0m" in painted


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("no_color", "environ", "expected"),
    [
        (False, {}, True),
        (True, {}, False),
        (False, {"NO_COLOR": "1"}, False),
        (False, {"TERM": "dumb"}, False),
    ],
)
def test_colour_honours_no_color(no_color: bool, environ: dict[str, str], expected: bool) -> None:
    assert use_color(no_color, _Terminal(), environ) is expected
    assert use_color(no_color, io.StringIO(), environ) is False


def test_json_is_the_default_format_off_a_terminal() -> None:
    assert output_format(None, io.StringIO()) == "json"
    assert output_format(None, _Terminal()) == "text"
    assert output_format("text", io.StringIO()) == "text"


@pytest.mark.parametrize(
    ("milliseconds", "text"),
    [(0.4, "0 ms"), (155.3, "155 ms"), (999.4, "999 ms"), (2430, "2.4 s"), (185_000, "3 min 5 s")],
)
def test_durations_are_rounded(milliseconds: float, text: str) -> None:
    assert format_duration(milliseconds) == text


def test_a_message_that_says_its_kind_is_not_prefixed_with_it() -> None:
    error = {"kind": "invalid_input", "message": "invalid inputs: 'name' is missing"}
    assert render_error(error, color=False) == "invalid inputs: 'name' is missing"


def test_an_error_is_a_headline_and_the_agents_traceback() -> None:
    error = {
        "kind": "endpoint_error",
        "message": "the endpoint raised KeyError: 'name'",
        "traceback": 'Traceback (most recent call last):\n  File "main.py", line 3, in greet\n'
        "KeyError: 'name'\n",
        "output": "debug line\n",
        "duration_ms": 12.4,
    }
    assert render_error(error, color=False).splitlines() == [
        "endpoint error: the endpoint raised KeyError: 'name'",
        "",
        "Traceback (most recent call last):",
        '  File "main.py", line 3, in greet',
        "KeyError: 'name'",
        "",
        "what the agent printed:",
        "  debug line",
        "after 12 ms",
    ]
    assert "\x1b[1;31mendpoint error" in render_error(error, color=True)


# Escape sequences an agent can put in what it raises or prints: set the clipboard (OSC
# 52), retitle the window, clear the screen, hide text, an 8-bit CSI, a carriage return
# writing over a line, a right-to-left override reordering it.
HOSTILE_TEXT = "a\x1b]52;c;cHduZWQ=\x07b\x1b]0;title\x07c\x1b[2Jd\x1b[8me\x9b31mf\rg\u202eh\x00i"
TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("color", [False, True])
def test_text_an_agent_wrote_reaches_the_terminal_as_escapes_not_controls(color: bool) -> None:
    error = {
        "kind": "endpoint_error",
        "message": HOSTILE_TEXT,
        "traceback": f"Traceback (most recent call last):\nValueError: {HOSTILE_TEXT}\n",
        "output": f"{HOSTILE_TEXT}\n",
        "hint": HOSTILE_TEXT,
    }
    shown = ANSI.sub("", render_error(error, color=color))
    assert TERMINAL_CONTROLS.search(shown.replace("\n", "")) is None
    assert "a\\u001b]52;c;cHduZWQ=\\u0007b" in shown
    assert "\\u009b31mf\\u000dg\\u202eh\\u0000i" in shown
    value = ANSI.sub("", render_value({"k": HOSTILE_TEXT}, color=color))
    assert TERMINAL_CONTROLS.search(value.replace("\n", "")) is None
    assert json.loads(value) == {"k": HOSTILE_TEXT}
