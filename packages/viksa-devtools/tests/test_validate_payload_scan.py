"""The payload scan's shortcut for leading ``x = payload.get("k")`` statements."""

from __future__ import annotations

import ast

from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools.validate._payload_usage import scan_payload_usage

# Statements that read, write, rebind or pass on the payload, or do none of these.
_STATEMENTS = (
    'a = payload.get("k")',
    'a = payload["k"]',
    'a = payload.pop("j")',
    'a = payload.get("k", payload)',
    'a = payload.get("k", "")',
    'a = payload.pop("j", 0)',
    'a = payload.get("k", "", 1)',
    'a = payload.get("j", default=1)',
    "a = payload.get(key)",
    'payload = payload.get("k")',
    'a = b = payload["k"]',
    'payload["k"] = 1',
    "a = payload",
    'a = other.get("k")',
    'a = other["k"]',
    'a["k"] = payload["j"]',
    "payload.update(x)",
    'a = payload.setdefault("j")',
    'a = payload[b"k"]',
    "return payload",
    'return payload.get("j")',
    "pass",
)


@given(
    st.lists(st.sampled_from(_STATEMENTS), max_size=8),
    st.none() | st.integers(min_value=0, max_value=10),
)
def test_the_shortcut_finds_what_the_walk_finds(statements: list[str], bound: int | None) -> None:
    body = ast.parse("\n".join(statements) or "pass").body
    # A leading `pass` turns the shortcut off (the walk skips it): both must agree.
    walked = scan_payload_usage([ast.Pass(), *body], "payload", bound)
    assert scan_payload_usage(body, "payload", bound) == walked
