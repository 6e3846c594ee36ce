"""Red team: hostile values through ``viksa run`` and the runner end as typed errors.

A lone UTF-16 surrogate (``"\\ud800"`` in JSON, which Python's parser accepts) in an
input or the envelope crashed ``viksa run`` with a traceback (``UnicodeEncodeError``
writing the call to the worker); the platform answers 422 for it, the runner now an
``invalid_input`` error, and the worker stays usable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from viksa_ai.devtools.cli import main
from viksa_ai.devtools.runner import AsyncAgentWorker, InvalidInputError, run_endpoint

PROBE = Path(__file__).parent / "fixtures" / "runner_probe"


@pytest.mark.parametrize(
    "argv",
    [
        ["--payload", '{"note": "a\\ud800b"}'],
        ["--payload", '{"note": "x", "count": 1, "\\udfff": 1}'],
        ["--envelope", '{"run_id": "\\ud800"}'],
        ["--envelope", '{"run_id": "r", "trace_context": {"tracestate": "\\ud800"}}'],
    ],
)
def test_a_lone_surrogate_is_invalid_input_not_a_crash(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", str(PROBE), "echo", "--no-sandbox", "--format", "json", *argv])
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    error = json.loads(captured.err[captured.err.rindex('{\n  "error"') :])["error"]
    assert code == 3, error
    assert error["kind"] == "invalid_input"
    assert "surrogate" in error["message"]


async def test_the_worker_still_answers_after_a_refused_call() -> None:
    async with AsyncAgentWorker(PROBE, sandbox=False) as worker:
        with pytest.raises(InvalidInputError) as caught:
            await worker.call("echo", {"note": "a\ud800"})
        assert [issue.code for issue in caught.value.issues] == ["VX003"]
        result = await worker.call("echo", {"note": "fine"})
    assert result.value["note"] == "fine"


@pytest.mark.parametrize("timeout", ["5", b"5", [5], None.__class__])
def test_a_timeout_that_is_not_a_number_is_a_type_error(timeout: Any) -> None:
    with pytest.raises(TypeError, match="timeout must be a number of seconds"):
        run_endpoint(PROBE, "echo", {"note": "x"}, timeout=timeout)


@pytest.mark.parametrize("timeout", [True, False, 0, -1, float("nan"), float("-inf")])
def test_a_timeout_that_is_not_positive_is_a_value_error(timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout must be a positive number of seconds"):
        run_endpoint(PROBE, "echo", {"note": "x"}, timeout=timeout)


def test_a_timeout_too_large_for_a_float_waits_as_long_as_infinity() -> None:
    # An int past the largest float raised OverflowError from deep in asyncio.
    assert run_endpoint(PROBE, "echo", {"note": "x"}, timeout=10**400).value["note"] == "x"
