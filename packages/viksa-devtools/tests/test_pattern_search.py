"""An input's pattern is searched within limits: sized first, costly ones in a worker."""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viksa_ai.devtools import _validation_workers as workers
from viksa_ai.devtools.runner import InvalidInputError, load_agent
from viksa_ai.devtools.runner._call import prepare_call_on_loop
from viksa_ai.devtools.validate import _pattern_search as ps
from viksa_ai.devtools.validate import check_inputs
from viksa_ai.devtools.validate._pattern_search import (
    INLINE_STEPS,
    PatternSearchDeferred,
    PatternTimeoutError,
    inline_searches_only,
    search_pattern,
    worst_case_steps,
)

# Each takes seconds to hours in re on the hostile value below (measured: the first
# one takes longer than a minute at 40 characters).
CATASTROPHIC = [
    r"^(a|aa)+$",
    r"^(a+)+$",
    r"(a*)*b",
    r"^(\w+\s?)+$",
    r"([a-z]+)*$",
    r"^(a|a?)+$",
    r"(.*a){25}",
    r"^(?:a|b|ab)*c",
]


@pytest.fixture
def quick_limit(monkeypatch: pytest.MonkeyPatch) -> float:
    """A short time limit for searches in the worker, so refusals come fast."""
    monkeypatch.setattr(ps, "PATTERN_TIME_LIMIT_SECONDS", 0.5)
    return 0.5


# -- sizing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [r"^[A-Z]{3}$", r"\A\d+\Z", r"^[\w.+-]+@[\w-]+\.[\w.]+$", r"^(?:GET|POST)$", r"^$", "^abc"],
)
def test_anchored_patterns_of_single_character_repeats_stay_inline_on_long_values(
    pattern: str,
) -> None:
    assert worst_case_steps(pattern, 60) <= INLINE_STEPS


@pytest.mark.parametrize("pattern", [r"[a-z]+$", r"\d+", r"(?m)^a*b"])
def test_unanchored_repeats_are_quadratic_inline_only_on_short_values(pattern: str) -> None:
    assert worst_case_steps(pattern, 500) <= INLINE_STEPS
    assert worst_case_steps(pattern, 40_000) > INLINE_STEPS


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_catastrophic_patterns_go_to_the_worker_on_values_long_enough_to_hurt(
    pattern: str,
) -> None:
    assert worst_case_steps(pattern, 40) > INLINE_STEPS


def test_patterns_without_repeats_are_linear_whatever_the_value() -> None:
    assert worst_case_steps(r"^(foo|bar|baz)-(x|y)$", 10_000_000) <= INLINE_STEPS
    assert worst_case_steps(r"(foo|bar)", 100_000) <= INLINE_STEPS


def test_a_pattern_that_does_not_parse_is_never_searched_inline() -> None:
    assert worst_case_steps("(", 1) == math.inf
    assert worst_case_steps(r"(a)\2", 1) == math.inf


def test_lookarounds_backreferences_and_conditionals_are_sized() -> None:
    for pattern in (r"^(?=a)\w+$", r"^(?!x)\w+$", r"^(a)\1$", r"^(a)?(?(1)b|c)$"):
        assert worst_case_steps(pattern, 100) <= INLINE_STEPS, pattern
    assert worst_case_steps(r"^(?=(a|a)+$)", 100) == math.inf


# -- searching -------------------------------------------------------------------------


def test_a_cheap_search_runs_inline_and_answers_as_re_does() -> None:
    compiled = re.compile(r"^[a-z]+$")
    assert search_pattern(compiled, "abc") is True
    assert search_pattern(compiled, "ab1") is False
    with inline_searches_only():
        assert search_pattern(compiled, "x" * 100_000) is True


def test_on_a_loop_a_costly_search_is_deferred_not_run() -> None:
    with inline_searches_only(), pytest.raises(PatternSearchDeferred):
        search_pattern(re.compile(r"^(a|aa)+$"), "a" * 40 + "!")


def test_a_costly_search_that_finishes_answers_as_re_does() -> None:
    compiled = re.compile(r"[a-z]+$")
    assert search_pattern(compiled, "a" * 3000) is True
    assert search_pattern(compiled, "a" * 3000 + "!") is False


@pytest.mark.parametrize("pattern", CATASTROPHIC[:3])
def test_a_catastrophic_search_is_ended_at_the_time_limit(pattern: str, quick_limit: float) -> None:
    started = time.monotonic()
    with pytest.raises(PatternTimeoutError) as caught:
        search_pattern(re.compile(pattern), "a" * 5000 + "!")
    assert time.monotonic() - started < quick_limit + 10  # a worker's start included
    assert caught.value.limit == quick_limit


def test_the_worker_ends_a_search_itself_and_stays_warm(quick_limit: float) -> None:
    with pytest.raises(PatternTimeoutError):
        workers.search_in_worker(r"^(a|aa)+$", "a" * 5000 + "!", quick_limit)
    searchers = workers._searchers
    assert searchers is not None
    pids = [worker.process.pid for worker in searchers._idle]
    assert pids, "the worker answered on time, so it was kept"
    started = time.monotonic()
    assert workers.search_in_worker(r"b+$", "a" * 10 + "b", quick_limit) is True
    assert time.monotonic() - started < 5  # no new worker to start
    assert [worker.process.pid for worker in searchers._idle] == pids


def test_check_inputs_refuses_a_value_it_cannot_check_in_time(quick_limit: float) -> None:
    endpoint = {
        "name": "e",
        "module": "main",
        "description": "e",
        "inputs": [{"input_ref": "code"}],
    }
    specs: list[dict[str, Any]] = [{"name": "code", "type": "string", "pattern": r"^(a|aa)+$"}]
    secret = "a" * 5000 + "!"
    issues = check_inputs({"code": secret}, endpoint, specs)
    assert [issue.code for issue in issues] == ["VX410"]
    message = issues[0].message
    assert "did not finish searching this value within 0.5 seconds" in message
    assert "5,001 characters" in message
    assert secret not in message
    # A short value of the same pattern is still checked, inline.
    assert check_inputs({"code": "aaa"}, endpoint, specs) == []
    assert [i.code for i in check_inputs({"code": "ab"}, endpoint, specs)] == ["VX408"]


# -- the sizing agrees with re -------------------------------------------------------

_ATOMS = st.sampled_from(["a", "b", "[ab]", r"\w", ".", "(?:a|b)", "(a|ab)", "(?:a?)", r"\d"])
_QUANTIFIERS = st.sampled_from(["", "*", "+", "?", "{2}", "{1,3}", "*?"])


@st.composite
def _patterns(draw: st.DrawFn) -> str:
    parts = [draw(_ATOMS) + draw(_QUANTIFIERS) for _ in range(draw(st.integers(1, 4)))]
    body = "".join(parts)
    if draw(st.booleans()):
        body = f"(?:{body}){draw(_QUANTIFIERS)}"
    return ("^" if draw(st.booleans()) else "") + body + ("$" if draw(st.booleans()) else "")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pattern=_patterns(), value=st.text(alphabet="ab1 ", max_size=30))
def test_an_inline_search_answers_exactly_what_re_search_answers(pattern: str, value: str) -> None:
    compiled = re.compile(pattern)
    if worst_case_steps(pattern, len(value)) <= INLINE_STEPS:
        with inline_searches_only():
            assert search_pattern(compiled, value) is (compiled.search(value) is not None)


@settings(max_examples=300, deadline=None)
@given(pattern=_patterns(), length=st.integers(0, 5000))
def test_the_bound_never_shrinks_as_values_grow(pattern: str, length: int) -> None:
    assert worst_case_steps(pattern, length) <= worst_case_steps(pattern, length * 2 + 1)


def test_a_value_refused_already_is_not_searched_at_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(*args: object) -> bool:
        raise AssertionError("a refused value was searched in the worker")

    monkeypatch.setattr(workers, "search_in_worker", never)
    endpoint = {"name": "e", "module": "main", "description": "e", "inputs": [{"input_ref": "c"}]}
    spec = {"name": "c", "type": "string", "max_length": 100, "pattern": r"^(a|aa)+$"}
    issues = check_inputs({"c": "a" * 3000 + "!"}, endpoint, [spec])
    assert [issue.code for issue in issues] == ["VX407"]
    # A cheap search still runs beside other issues: every problem is reported at once.
    spec = {"name": "c", "type": "string", "max_length": 2, "pattern": r"^[a-z]+$"}
    assert [i.code for i in check_inputs({"c": "ab1"}, endpoint, [spec])] == ["VX407", "VX408"]


def test_a_long_pattern_costs_more_per_start_than_a_short_one() -> None:
    # 3,000 character classes tried at each of 100,000 positions: 0.7 s in re.
    assert worst_case_steps("[ab]" * 3000 + "c", 100_000) > INLINE_STEPS
    assert worst_case_steps("[ab]" * 3 + "c", 100_000) <= INLINE_STEPS


# -- counterexamples found by the red team: sized inline, yet seconds to hours in re -----

# Each was measured (Python 3.11) with its bound at most INLINE_STEPS before the fix.
_WIDE_CLASS = "".join(chr(0x10000 + 2 * i) for i in range(3000))
_UNDER_SIZED = [
    # A backreference compares up to the whole value at each try: 0.9 s at 100,001
    # characters, over 99 s at 500,001 (bound 3.2M).
    (r"^(a*)\1$", 100_001),
    (r"^(.*)\1\1$", 100_001),
    # A class of characters beyond U+FFFF is a list re scans at each character: 0.6 s.
    ("[" + _WIDE_CLASS + "]*x", 1000),
    ("^[" + _WIDE_CLASS + "]*x", 100_000),
    # Forced iterations ({1000}) walk their item a thousand times at each start: > 99 s.
    (r"(?:(?:abc){1000}){1000}|x", 150_000),
    (r"(?:ab){100000000}|x", 500_000),
    # An item that matches the empty string is repeated ``low`` times whatever the
    # value: a billion iterations on one character (> 99 s).
    (r"^(?:(?:(?:){1000}){1000}){1000}", 1),
    # ... and each of those iterations may take either branch: 2 ** 30 ways (> 99 s).
    (r"^(?:\b|){30}x", 1),
    (r"^(?:(?=a)|(?=.)){40}x", 1),
    # An iteration of a group costs re some 35 ns (seven steps), even an empty one.
    (r"^(?:(?:){1000}){1000}", 1),
    (r"^(?:(?:\b){1000}){1900}", 1),
]


@pytest.mark.parametrize(("pattern", "length"), _UNDER_SIZED)
def test_patterns_that_ran_long_inline_now_go_to_the_worker(pattern: str, length: int) -> None:
    assert worst_case_steps(pattern, length) > INLINE_STEPS


def test_common_patterns_still_run_inline_on_values_of_their_usual_size() -> None:
    email = r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$"
    assert worst_case_steps(email, 40) <= INLINE_STEPS
    assert worst_case_steps(r"^\d{3}-\d{3}-\d{4}$", 100_000) <= INLINE_STEPS
    assert worst_case_steps(r"^(?:\d{1,3}\.){3}\d{1,3}$", 10_000) <= INLINE_STEPS
    assert worst_case_steps(r"^[A-Z]{3}$", 1_000_000) <= INLINE_STEPS
    assert worst_case_steps(r"^([\"'])[^\"']*\1$", 1000) <= INLINE_STEPS
    assert worst_case_steps(r"^[\w\s]+$", 1000) <= INLINE_STEPS


def test_a_backreference_search_sent_to_the_worker_still_answers_as_re_does() -> None:
    compiled = re.compile(r"^(a*)\1$")
    assert search_pattern(compiled, "a" * 20_000) is True
    assert search_pattern(compiled, "a" * 3_001) is False


def test_a_class_repeated_up_to_a_character_outside_it_has_one_way_on() -> None:
    # Each repeat stops at its literal, whatever the backtracking: linear on 100,000.
    assert worst_case_steps(r"^[a-z]+A[a-z]+A[a-z]+A$", 100_000) <= INLINE_STEPS
    assert worst_case_steps(r"^[^@\s]+@[a-z]+\.com$", 100_000) <= INLINE_STEPS
    # Not when the literal is in the class, or may be once cases are folded: those are
    # cubic on "a" * 1000 (seconds in re).
    for pattern in (
        r"^[a-zA]+A[a-zA]+A[a-zA]+A$",
        r"(?i)^[a-z]+A[a-z]+A[a-z]+A$",
        r"^(?i:[a-z]+A[a-z]+A[a-z]+A)$",
        r"^[\w]+é[\w]+é[\w]+é$",  # a word character in Unicode, not in ASCII
        r"^[^x]+a[^x]+a[^x]+a$",
    ):
        assert worst_case_steps(pattern, 1000) > INLINE_STEPS, pattern


# -- one check of many values holds a worker for one time limit, not one per value -----


def _slow_worker(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A worker whose every search runs out of time; the limits it was given."""
    given: list[float] = []

    def search(pattern: str, value: str, time_limit: float) -> bool:
        given.append(time_limit)
        time.sleep(time_limit)
        raise PatternTimeoutError(time_limit)

    monkeypatch.setattr(workers, "search_in_worker", search)
    return given


def test_a_call_of_many_hostile_values_holds_the_worker_for_one_time_limit(
    monkeypatch: pytest.MonkeyPatch, quick_limit: float
) -> None:
    # Before: a call of ten such inputs held a worker for ten limits (20 s on viksa dev).
    given = _slow_worker(monkeypatch)
    names = [f"t{index}" for index in range(10)]
    endpoint = {
        "name": "e",
        "module": "main",
        "description": "e",
        "inputs": [{"input_ref": name} for name in names],
    }
    specs = [{"name": name, "type": "string", "pattern": r"^(a|aa)+$"} for name in names]
    issues = check_inputs(dict.fromkeys(names, "a" * 5000 + "!"), endpoint, specs)
    assert [issue.code for issue in issues] == ["VX410"] * 10
    assert given == [quick_limit]
    assert "did not finish searching this value within 0.5 seconds" in issues[0].message
    assert "no time was left to search it (the 0.5 seconds" in issues[1].message
    # The next call has a time limit of its own.
    check_inputs({"t0": "a" * 5000 + "!"}, endpoint, specs)
    assert given == [quick_limit, quick_limit]


def test_a_manifest_of_many_hostile_allowed_values_holds_the_worker_for_one_time_limit(
    monkeypatch: pytest.MonkeyPatch, quick_limit: float
) -> None:
    # Before: each default and allowed value had the limit (20 s for ten on viksa dev).
    from viksa_ai.devtools import check_agent_manifest

    given = _slow_worker(monkeypatch)
    hostile = "a" * 5000 + "!"
    text = {
        "name": "text",
        "type": "string",
        "pattern": r"^(a|aa)+$",
        "default": hostile + "0",
        "allowed_values": [hostile + str(index) for index in range(10)],
    }
    manifest = {
        "agent_name": "n",
        "agent_description": "d",
        "files": [{"name": "main.py", "content": "x = 1\n", "mime_type": "python"}],
        "inputs": [text],
        "agent_endpoints": [],
    }
    issues = check_agent_manifest(manifest).issues
    refused = [issue for issue in issues if "cannot be checked" in issue.message]
    assert len(refused) == 11, issues
    assert given == [quick_limit]


def test_searches_of_a_block_within_another_share_the_outer_time(
    monkeypatch: pytest.MonkeyPatch, quick_limit: float
) -> None:
    given = _slow_worker(monkeypatch)
    compiled = re.compile(r"^(a|aa)+$")
    with ps.shared_search_time():
        with pytest.raises(PatternTimeoutError):
            search_pattern(compiled, "a" * 5000 + "!")
        with ps.shared_search_time(), pytest.raises(PatternTimeoutError) as caught:
            search_pattern(compiled, "a" * 5000 + "!")
    assert caught.value.spent
    assert given == [quick_limit]


def test_a_search_waits_for_a_busy_searcher_one_time_limit_at_most(quick_limit: float) -> None:
    # Before: it queued behind every search ahead of it (30 s behind 30 hostile calls).
    pool = workers._WorkerPool(1)
    answers: list[object] = []
    with pool._slots:  # the one searcher is busy
        pool_of = workers._searchers
        workers._searchers = pool
        try:

            def search() -> None:
                try:
                    answers.append(search_pattern(re.compile(r"^(a|aa)+$"), "a" * 5000 + "!"))
                except PatternTimeoutError as exc:
                    answers.append(exc)

            waiting = threading.Thread(target=search, daemon=True)
            waiting.start()
            waiting.join(timeout=30)
        finally:
            workers._searchers = pool_of
    assert not waiting.is_alive(), "the search waited for a searcher without end"
    [answer] = answers
    assert isinstance(answer, PatternTimeoutError)
    assert answer.spent
    pool.close()


def test_a_searcher_whose_caller_is_gone_ends_its_search_and_exits(quick_limit: float) -> None:
    # The caller killed (SIGKILL) mid-search: its pipes close, nobody reads the answer.
    worker = workers._Worker()
    try:
        assert worker.ask(("search", ("b", "b", quick_limit)), 60) == ("ok", True)
        assert worker.process.stdin is not None
        assert worker.process.stdout is not None
        job = ("search", (r"^(a|aa)+$", "a" * 5000 + "!", quick_limit))
        workers._write(worker.process.stdin, job)
        worker.process.stdin.close()
        worker.process.stdout.close()
        # Ended by its own alarm, then by the closed pipes: no process is left behind.
        assert worker.process.wait(timeout=30) is not None
    finally:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


async def test_a_call_prepared_on_an_event_loop_searches_costly_patterns_off_it(
    searched_in: list[threading.Thread],
) -> None:
    # What AsyncAgentWorker.call and the platform's pools use: the loop keeps serving.
    main = (
        "from ViksaAI import mcp_endpoint\n\n"
        "@mcp_endpoint(description='e')\nasync def e(payload):\n    return payload\n"
    )
    agent = load_agent(
        {
            "agent_name": "Patterns",
            "agent_description": "d",
            "files": [{"name": "main.py", "content": main, "mime_type": "python"}],
            "inputs": [{"name": "code", "type": "string", "pattern": r"[a-z]+$"}],
            "agent_endpoints": [
                {
                    "name": "e",
                    "module": "main",
                    "description": "e",
                    "inputs": [{"input_ref": "code"}],
                }
            ],
        }
    )
    loop_thread = threading.current_thread()
    assert (await prepare_call_on_loop(agent, "e", {"code": "abc"})).inputs == {"code": "abc"}
    assert searched_in == []  # cheap: checked in place
    long = "a" * 3000
    assert (await prepare_call_on_loop(agent, "e", {"code": long})).inputs == {"code": long}
    assert len(searched_in) == 1
    assert searched_in[0] is not loop_thread
    with pytest.raises(InvalidInputError) as caught:
        await prepare_call_on_loop(agent, "e", {"code": long + "!"})
    assert [issue.code for issue in caught.value.issues] == ["VX408"]
