"""The dashboard's HTML: small functions that escape every value they put in a page.

Pages are plain server-rendered documents; ``static/dashboard.js`` adds the run form's
checks, the buttons' requests and live updates. No inline script or style is used, so
the Content-Security-Policy can forbid both.

Text shown to a reader also shows the characters a reader cannot see or that reorder
what follows them (bidi controls, zero-width and tag characters, separators), as
``\\uXXXX``: inputs waiting for an approval must read as what will run. Values a form
sends back (``value``, ``name``, ids) keep their exact text: :func:`esc_exact`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from viksa_ai.devtools._json import dumps_json

__all__ = [
    "PAGES",
    "attrs",
    "badge",
    "esc",
    "esc_exact",
    "json_block",
    "page",
    "pretty_json",
    "table",
    "visible",
    "when",
]

PAGES = (
    ("agents", "/", "Agents"),
    ("executions", "/dashboard/executions", "Executions"),
    ("approvals", "/dashboard/approvals", "Approvals"),
    ("triggers", "/dashboard/triggers", "Triggers"),
    ("schedules", "/dashboard/schedules", "Schedules"),
    ("secrets", "/dashboard/secrets", "Secrets"),
    ("faults", "/dashboard/faults", "Faults"),
)
"""The navigation: (key, path, label) of each page."""

_STATUS_TONE = {
    "completed": "ok",
    "enabled": "ok",
    "active": "ok",
    "built": "ok",
    "deployed": "ok",
    "approved": "ok",
    "running": "busy",
    "building": "busy",
    "awaiting_approval": "wait",
    "pending": "wait",
    "paused": "wait",
    "outdated": "wait",
    "failed": "bad",
    "timeout": "bad",
    "rejected": "bad",
    "cancelled": "bad",
    "disabled": "bad",
}


# Every format character (Unicode category Cf: bidi controls, zero-width characters,
# tags), the line and paragraph separators (Zl, Zp) up to Unicode 15.1, the control
# characters but tab and line breaks, the variation selectors 17-256 and the Hangul
# fillers: invisible, or reordering the text around them ("Trojan Source").
_HIDDEN = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u034f\u0600-\u0605\u061c\u06dd\u070f"
    r"\u0890\u0891\u08e2\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    r"\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\U000110bd\U000110cd"
    r"\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    r"\U000e0020-\U000e007f\U000e0100-\U000e01ef]"
)


def _escape_hidden(found: re.Match[str]) -> str:
    # One \uXXXX per UTF-16 unit: a JSON text stays JSON meaning the same value.
    units = found[0].encode("utf-16-be")
    return "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))


def visible(text: str) -> str:
    """``text`` with each hidden or reordering character written as ``\\uXXXX``."""
    return _HIDDEN.sub(_escape_hidden, text)


def esc(value: Any) -> str:
    """``value`` as text shown in HTML: escaped, hidden characters made visible (None as
    an empty string)."""
    return "" if value is None else html.escape(visible(str(value)), quote=True)


def esc_exact(value: Any) -> str:
    """``value`` escaped for HTML as it is: for what a form sends back or an id names."""
    return "" if value is None else html.escape(str(value), quote=True)


def attrs(**values: Any) -> str:
    """HTML attributes (``data_x`` becomes ``data-x``); None and False are left out."""
    parts = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        key = name.rstrip("_").replace("_", "-")
        parts.append(key if value is True else f'{key}="{esc_exact(value)}"')
    return " ".join(parts)


def badge(status: Any) -> str:
    """A status word, coloured by what it means (ok, busy, waiting, bad)."""
    tone = _STATUS_TONE.get(str(status), "plain")
    return f'<span class="badge {tone}">{esc(status)}</span>'


def when(stamp: Any) -> str:
    """A timestamp as a ``<time>`` element (the page shows it as written, in UTC)."""
    if not stamp:
        return '<span class="muted">-</span>'
    text = str(stamp).replace("T", " ").replace("Z", " UTC")
    return f'<time datetime="{esc(stamp)}">{esc(text)}</time>'


def pretty_json(value: Any) -> str:
    """``value`` as indented JSON (a string as it is)."""
    if isinstance(value, str):
        return value
    return json.dumps(json.loads(dumps_json(value)), indent=2, ensure_ascii=False)


def json_block(value: Any, *, label: str, more: str | None = None, limit: int = 0) -> str:
    """A value as indented JSON in a labelled, scrollable block.

    With ``limit``, at most that many characters, then how many more ``more`` (a page's
    path) shows.
    """
    text = pretty_json(value)
    cut = ""
    if limit and len(text) > limit:
        cut = (
            f'<p class="muted">{len(text) - limit:,} more characters: '
            f'<a href="{esc_exact(more)}">open the execution</a> to read them all.</p>'
        )
        text = text[:limit] + "…"
    return f'<pre class="code" tabindex="0" aria-label="{esc(label)}">{esc(text)}</pre>{cut}'


def table(
    caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]], *, empty: str
) -> str:
    """A table of already-escaped cells, or ``empty`` when there is no row."""
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    if not body:
        return f'<p class="empty">{esc(empty)}</p>'
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in headers)
    return (
        f'<table><caption class="visually-hidden">{esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def page(
    title: str,
    body: str,
    *,
    active: str | None,
    signed_in: bool,
    project: str | None = None,
    action_token: str | None = None,
    filled_by_script: bool = False,
) -> str:
    """A whole document: the header and navigation (when signed in) around ``body``.

    ``action_token`` is put in the page only by the answer to a sign-in: the page's
    script keeps it in this origin's storage (see ``_access``). ``filled_by_script``
    marks a shell, what a page answers without that token: the script asks again with it.
    """
    nav = ""
    if signed_in:
        links = "".join(
            f'<li><a href="{path}"{" aria-current=page" if key == active else ""}>{label}</a></li>'
            for key, path, label in PAGES
        )
        nav = (
            f'<nav aria-label="Dashboard pages"><ul>{links}</ul></nav>'
            f'<div class="who"><span class="muted">project {esc(project)}</span>'
            '<a href="/docs">API docs</a>'
            '<button type="button" id="sign-out" class="link">Sign out</button>'
            '<span id="live-state" class="muted" role="status">offline</span></div>'
        )
    meta = f'<meta name="viksa-csrf" content="{esc_exact(action_token)}">' if action_token else ""
    if filled_by_script:
        meta += '<meta name="viksa-shell" content="true">'
    return (
        "<!doctype html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{meta}<title>{esc(title)} · viksa dev</title>"
        '<link rel="icon" href="data:,">'
        '<link rel="stylesheet" href="/dashboard/static/dashboard.css">'
        '<script src="/dashboard/static/dashboard.js" defer></script>'
        "</head><body>"
        '<a class="skip" href="#main">Skip to content</a>'
        f'<header><a class="brand" href="/">viksa dev</a>{nav}</header>'
        f'<main id="main" tabindex="-1"><h1>{esc(title)}</h1>{body}</main>'
        '<div id="toast" role="status" aria-live="polite"></div>'
        "</body></html>"
    )
