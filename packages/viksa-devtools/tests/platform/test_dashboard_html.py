"""The dashboard's text helpers: what a reader cannot see is shown, what a form sends is kept."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from viksa_ai.devtools.platform.http._dashboard._html import attrs, esc, json_block, visible

# Invisible or reordering: every format character, the line and paragraph separators.
_HIDDEN_CATEGORIES = ("Cf", "Zl", "Zp")
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _hidden(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c) in _HIDDEN_CATEGORIES]


def test_every_format_character_of_this_python_is_made_visible() -> None:
    # The list is written out (a scan at import would cost every start); this scan keeps
    # it whole as Python's Unicode database grows.
    missed = [
        f"U+{point:04X}"
        for point in range(sys.maxunicode + 1)
        if unicodedata.category(chr(point)) in _HIDDEN_CATEGORIES
        and visible(chr(point)) == chr(point)
    ]
    assert missed == []


@settings(database=None, derandomize=True)
@given(_json_values)
def test_a_json_block_shows_no_hidden_character_and_means_the_same_value(value: object) -> None:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    shown = visible(text)
    assert _hidden(shown) == []
    assert json.loads(shown) == value


@settings(database=None, derandomize=True)
@given(st.text().filter(lambda text: "\\" not in text))
def test_text_is_shown_whole_each_hidden_character_as_its_escape(text: str) -> None:
    shown = visible(text)
    assert _hidden(shown) == []
    assert [c for c in shown if c in "\t\n\r"] == [c for c in text if c in "\t\n\r"]
    # Read back as JSON escapes, the shown text is the text.
    assert json.loads(json.dumps(shown).replace("\\\\u", "\\u")) == text


def test_shown_text_escapes_hidden_characters_but_form_values_stay_exact() -> None:
    value = "bob \u202e01\u200b"
    assert esc(value) == "bob \\u202e01\\u200b"
    assert attrs(value=value, name="to\u2066") == f'value="{value}" name="to\u2066"'
    block = json_block({"to": value, "tag": "\U000e0041"}, label="Inputs")
    assert "\\u202e01\\u200b" in block
    assert "\\udb40\\udc41" in block
    assert _hidden(block) == []


def test_the_pages_script_shows_the_same_characters_as_the_server() -> None:
    from viksa_ai.devtools.platform.http._dashboard import _html

    script = (Path(_html.__file__).parent / "static" / "dashboard.js").read_text()
    found = re.search(r"const HIDDEN = new RegExp\(\s*((?:\"[^\"]*\"\s*\+?\s*)+),", script)
    assert found is not None
    in_script = "".join(re.findall(r'"([^"]*)"', found[1])).replace("\\\\", "\\")
    on_server = re.sub(r"\\U000([0-9a-f]{5})", lambda m: "\\u{" + m[1] + "}", _html._HIDDEN.pattern)
    assert in_script == on_server
