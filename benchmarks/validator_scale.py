"""How validate_agent_manifest scales: its time against ast.parse of the same main.py.

For generated valid manifests of 10, 100, 1,000 and 5,000 endpoints (each an async
function reading two payload keys, each key a declared input), it prints:

- ``vs parse``: validation time over ``ast.parse(main_py)`` as a caller would run it
  (garbage collector on). Target: at most 1.3 at every size.
- ``vs parse/gc``: the same over ``ast.parse`` with the collector paused, as the
  validator itself parses: the strict floor, since the validator avoids that cost.
- ``us/endpoint``: validation time per endpoint, which should stay flat (linear cost).
- the parts, each over the gc-paused parse: the manifest model (pydantic), the
  ``compile()`` of the parsed tree, and the rules with everything else.

Times are CPU time of the running thread (``time.thread_time``), so other processes on
the machine do not count. Parse and validation run in back-to-back pairs and the median
of the pairs' ratios is printed, which cancels most of the remaining drift. Always
exits 0.

    uv run python benchmarks/validator_scale.py [--sizes 10,100,1000,5000] [--repeat N]
"""

from __future__ import annotations

import argparse
import ast
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

from viksa_ai.devtools import validate_agent_manifest
from viksa_ai.devtools._context import RuleContext
from viksa_ai.devtools._manifest import load_manifest
from viksa_ai.devtools._validate import RULES

TARGET = 1.3


def main_py(size: int) -> str:
    """main.py with ``size`` endpoints, each reading two payload keys."""
    parts = [
        "from typing import Any, Dict\n\nfrom ViksaAI import context, mcp_endpoint\n",
    ]
    for i in range(size):
        parts.append(
            f'\n\n@mcp_endpoint(description="Look up flights for route {i}")\n'
            f"async def route_{i}(payload: Dict[str, Any]) -> Dict[str, Any]:\n"
            f'    source = payload.get("source_{i}")\n'
            f'    destination = payload["destination_{i}"]\n'
            f'    run_id = context().get("run_id")\n'
            f'    return {{"flights": [source, destination], "run": run_id}}\n'
        )
    return "".join(parts)


def manifest(size: int) -> dict[str, Any]:
    """A valid manifest whose main.py is :func:`main_py` of ``size``."""
    inputs: list[dict[str, Any]] = []
    endpoints: list[dict[str, Any]] = []
    for i in range(size):
        inputs.append({"name": f"source_{i}", "type": "string", "description": "IATA code"})
        inputs.append(
            {"name": f"destination_{i}", "type": "string", "min_length": 3, "max_length": 3}
        )
        endpoints.append(
            {
                "name": f"route_{i}",
                "module": "main",
                "endpoint": f"flights.main.route_{i}",
                "description": f"Flights for route {i}",
                "inputs": [
                    {"input_ref": f"source_{i}"},
                    {"input_ref": f"destination_{i}", "required": True},
                ],
                "outputs": ["flights"],
                "execution_config": {"timeout_seconds": 60},
            }
        )
    return {
        "agent_name": "Flights",
        "agent_description": "Generated for the validator benchmark",
        "agent_type": "cloud",
        "files": [{"name": "main.py", "content": main_py(size), "mime_type": "python"}],
        "requirements": ["httpx"],
        "inputs": inputs,
        "outputs": [{"name": "flights", "type": "list"}],
        "agent_endpoints": endpoints,
    }


def timed(function: Callable[[], object]) -> float:
    # CPU time of this thread: on a shared machine, wall time also counts the time
    # other processes held the CPU, which swamps the differences measured here.
    start = time.thread_time()
    function()
    return time.thread_time() - start


def gc_paused(function: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        gc.disable()
        try:
            return function()
        finally:
            gc.enable()

    return run


def measure(size: int, repeat: int) -> dict[str, float]:
    data = manifest(size)
    source = data["files"][0]["content"]
    tree = ast.parse(source)

    def parse() -> object:
        return ast.parse(source)

    def validate() -> object:
        return validate_agent_manifest(data)

    def model() -> object:
        return load_manifest(data)

    def compile_tree() -> object:
        return compile(tree, "main.py", "exec", dont_inherit=True)

    view, _ = load_manifest(data)
    assert view is not None

    def rules() -> object:
        # Parses and compiles main.py too (RuleContext does); subtracted below.
        context = RuleContext(view)
        return [issue for rule in RULES for issue in rule(context)]

    validate()  # warm-up: builds the pydantic schemas, fills caches
    pairs: list[float] = []
    floor_pairs: list[float] = []
    totals: list[float] = []
    parse_floor: list[float] = []
    for _ in range(repeat):
        baseline = timed(parse)
        total = timed(validate)
        floor = timed(gc_paused(parse))
        pairs.append(total / baseline)
        floor_pairs.append(total / floor)
        totals.append(total)
        parse_floor.append(floor)
    floor = min(parse_floor)
    # The validator keeps the collector paused throughout; so do its parts here.
    model_time = min(timed(gc_paused(model)) for _ in range(repeat))
    compile_time = min(timed(gc_paused(compile_tree)) for _ in range(repeat))
    context_time = min(timed(gc_paused(rules)) for _ in range(repeat))
    rest = max(context_time - floor - compile_time, 0.0)
    return {
        "parse_ms": floor * 1e3,
        "validate_ms": min(totals) * 1e3,
        "ratio": statistics.median(pairs),
        "ratio_floor": statistics.median(floor_pairs),
        "per_endpoint_us": min(totals) / size * 1e6,
        "model": model_time / floor,
        "compile": compile_time / floor,
        "rules": rest / floor,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--repeat", type=int, default=0, help="pairs per size (default: auto)")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"{'endpoints':>9} {'parse/gc ms':>11} {'validate ms':>11} {'vs parse':>9} "
        f"{'vs parse/gc':>11} {'us/endpoint':>11} {'model':>6} {'compile':>7} {'rules':>6}"
    )
    for size in sizes:
        repeat = args.repeat or max(5, min(200, 20_000 // size))
        row = measure(size, repeat)
        verdict = "ok" if row["ratio"] <= TARGET else f"over {TARGET}"
        print(
            f"{size:>9} {row['parse_ms']:>11.2f} {row['validate_ms']:>11.2f} "
            f"{row['ratio']:>9.2f} {row['ratio_floor']:>11.2f} {row['per_endpoint_us']:>11.1f} "
            f"{row['model']:>6.2f} {row['compile']:>7.2f} {row['rules']:>6.2f}  {verdict}"
        )
    print(
        f"target: validate / ast.parse <= {TARGET} at every size; us/endpoint flat. "
        "model, compile and rules are fractions of the gc-paused parse."
    )


if __name__ == "__main__":
    main()
