"""The parse's short warning recorder against ``catch_warnings`` + ``simplefilter``."""

from __future__ import annotations

import threading
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from viksa_ai.devtools.validate import _recorded_warnings
from viksa_ai.devtools.validate._parse import parse_source
from viksa_ai.devtools.validate._recorded_warnings import recorded_warnings

# Lines Python warns about when it parses or compiles them (invalid escapes, `is` with
# a literal, calling or indexing a literal...), and lines it takes without a word.
_LINES = (
    "x = '\\d'",
    "y = b'\\q'",
    "z = 1 is 1",
    "w = x is not ()",
    "v = (1, 2)(3)",
    "u = [1, 2]['a']",
    "assert (x, 'message')",
    "t = 0x1for",
    "s = 1",
    "def f():\n    return '\\w'",
    "if x:\n    pass",
)
_OUTER_ACTIONS = ("default", "ignore", "error", "always", "once", "module")

needs_short = pytest.mark.skipif(
    not _recorded_warnings._SHORT, reason="this Python records with catch_warnings"
)


def _issues(text: str, *, short: bool) -> list[tuple[str, int | None, str]]:
    saved = _recorded_warnings._SHORT
    _recorded_warnings._SHORT = short
    try:
        issues = parse_source(text).issues
    finally:
        _recorded_warnings._SHORT = saved
    return [(issue.code, issue.line, issue.message) for issue in issues]


@needs_short
@given(st.lists(st.sampled_from(_LINES), max_size=6), st.sampled_from(_OUTER_ACTIONS))
def test_the_short_recorder_reports_what_catch_warnings_reports(
    lines: list[str], outer: str
) -> None:
    # Whatever the filters in force outside (even "error" or "ignore"), the parse sees
    # every warning once per line and message, and the outside state comes back.
    text = "\n".join(lines) + "\n"
    with warnings.catch_warnings():
        warnings.simplefilter(outer)  # type: ignore[arg-type]
        filters, show = warnings.filters, warnings.showwarning
        short = _issues(text, short=True)
        assert warnings.filters is filters
        assert warnings.showwarning is show
        standard = _issues(text, short=False)
    assert short == standard


@needs_short
def test_the_short_recorder_restores_the_warnings_state_after_an_error() -> None:
    module: object = warnings
    before = (
        warnings.filters,
        list(warnings.filters),
        warnings.showwarning,
        module._showwarnmsg_impl,  # type: ignore[attr-defined]
    )
    logs: list[list[warnings.WarningMessage]] = []

    def fail_while_recording() -> None:
        with recorded_warnings() as log:
            logs.append(log)
            warnings.warn("recorded", UserWarning, stacklevel=1)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail_while_recording()
    assert [str(record.message) for record in logs[0]] == ["recorded"]
    after = (
        warnings.filters,
        list(warnings.filters),
        warnings.showwarning,
        module._showwarnmsg_impl,  # type: ignore[attr-defined]
    )
    assert after == before
    assert after[0] is before[0]


def test_each_recorder_records_a_warning_shown_before() -> None:
    # "always": a warning already shown from this line (so in its registry) is recorded
    # again, by either path.
    def warn() -> None:
        warnings.warn("again", SyntaxWarning, stacklevel=1)

    for short in (True, False) if _recorded_warnings._SHORT else (False,):
        saved = _recorded_warnings._SHORT
        _recorded_warnings._SHORT = short
        try:
            with recorded_warnings() as first:
                warn()
            with recorded_warnings() as second:
                warn()
        finally:
            _recorded_warnings._SHORT = saved
        assert len(first) == len(second) == 1


@pytest.mark.parametrize("short", [True, False] if _recorded_warnings._SHORT else [False])
def test_recorders_in_two_threads_leave_the_warnings_state_as_found(short: bool) -> None:
    # The platform validates in up to four threads at once. A second recorder entered
    # while the first is open saved the first's state ("always", its log) and restored
    # it last: every later warning of the process was then appended to a dead list.
    module: object = warnings
    before = (warnings.filters, warnings.showwarning, module._showwarnmsg_impl)  # type: ignore[attr-defined]
    entered, first_left = threading.Event(), threading.Event()

    def second() -> None:
        with recorded_warnings():
            entered.set()
            first_left.wait(5)

    saved = _recorded_warnings._SHORT
    _recorded_warnings._SHORT = short
    try:
        thread = threading.Thread(target=second)
        with recorded_warnings():
            thread.start()
            # Serialized, the second waits for this one to leave: this wait times out.
            entered.wait(0.5)
        first_left.set()
        thread.join()
    finally:
        _recorded_warnings._SHORT = saved
    after = (warnings.filters, warnings.showwarning, module._showwarnmsg_impl)  # type: ignore[attr-defined]
    assert after == before
    assert after[0] is before[0]
