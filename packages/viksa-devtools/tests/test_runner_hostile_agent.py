"""Red team: agent code that changes what the worker's child process relies on.

The child serves calls in the agent's own process, so an endpoint can rebind module
attributes the child uses to answer. Each case below used to end the call as a dead
worker (or a confusing one); the call now ends with a typed error, or succeeds, and the
same child serves the next call.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from viksa_ai.devtools.runner import AgentWorker, EndpointError

AGENT_CODE = textwrap.dedent(
    """
    import json
    import sys
    import time

    from viksa_ai.runtime import _set_envelope, context, mcp_endpoint

    # Module code running in the child's main context, where every call's task starts.
    _set_envelope({"run_id": "set-at-import"})

    @mcp_endpoint(description="Swap json's functions for a faster library's")
    async def patch_json(payload):
        json.dumps = lambda value, **options: b"{}"
        json.loads = lambda text, **options: {}
        return {"patched": True}

    @mcp_endpoint(description="Freeze the clock the way a test helper would, badly")
    async def patch_clock(payload):
        time.perf_counter = lambda: "frozen"
        return {"patched": True}

    @mcp_endpoint(description="Lift the int digit limit and return a huge int")
    async def huge_int(payload):
        sys.set_int_max_str_digits(0)
        return {"digits": 10**5000}

    @mcp_endpoint(description="Leave the recursion limit a few frames above this one")
    async def tight_recursion(payload):
        depth, frame = 0, sys._getframe()
        while frame is not None:
            depth, frame = depth + 1, frame.f_back
        sys.setrecursionlimit(depth + 8)
        return {"limit": sys.getrecursionlimit()}

    @mcp_endpoint(description="What context() says")
    async def envelope(payload):
        return context()

    @mcp_endpoint(description="Ping")
    async def ping(payload):
        return {"pong": True}
    """
)


def agent(*names: str) -> dict[str, Any]:
    """The agent above, with an endpoint per name."""
    return {
        "agent_name": "Hostile",
        "agent_description": "Changes the child's modules",
        "files": [{"name": "main.py", "content": AGENT_CODE, "mime_type": "python"}],
        "agent_endpoints": [
            {"name": name, "module": "main", "description": name} for name in names
        ],
    }


def test_an_agent_replacing_json_dumps_does_not_break_the_channel() -> None:
    with AgentWorker(agent("patch_json", "ping"), sandbox=False) as warm:
        assert warm.call("patch_json").value == {"patched": True}
        assert warm.call("ping").value == {"pong": True}
        assert warm.starts == 1


def test_an_agent_replacing_time_perf_counter_does_not_break_the_reply() -> None:
    with AgentWorker(agent("patch_clock", "ping"), sandbox=False) as warm:
        assert warm.call("patch_clock").value == {"patched": True}
        assert warm.call("ping").value == {"pong": True}
        assert warm.starts == 1


def test_an_int_past_the_digit_limit_is_an_endpoint_error_even_with_the_limit_lifted() -> None:
    with AgentWorker(agent("huge_int", "ping"), sandbox=False) as warm:
        with pytest.raises(EndpointError, match=r"not JSON-serialisable.*4300 digits"):
            warm.call("huge_int")
        assert warm.call("ping").value == {"pong": True}
        assert warm.starts == 1


def test_a_call_without_an_envelope_sees_none_whatever_the_agent_set_at_import() -> None:
    with AgentWorker(agent("envelope"), sandbox=False) as warm:
        assert warm.call("envelope").value == {}
        assert warm.call("envelope", envelope={"run_id": "r-1"}).value == {"run_id": "r-1"}
        assert warm.call("envelope").value == {}


def test_a_recursion_limit_lowered_by_the_agent_does_not_break_later_calls() -> None:
    # Below what the child's own code needs, every later call failed with
    # "RecursionError: <exception str() failed>", and the worker was never replaced.
    with AgentWorker(agent("tight_recursion", "ping"), sandbox=False) as warm:
        assert set(warm.call("tight_recursion").value) == {"limit"}
        assert warm.call("ping").value == {"pong": True}
        assert warm.call("ping").value == {"pong": True}
        assert warm.starts == 1
