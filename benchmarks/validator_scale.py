"""How validate_agent_manifest scales: its time against the floor it cannot avoid.

The floor (issue 9) is what checking main.py the way CPython would costs:
``ast.parse`` of main.py (the tree the rules read) and ``compile()`` of main.py, with the
cyclic garbage collector paused, as the validator pauses it. For generated valid
manifests of 10, 100, 1,000 and 5,000 endpoints (each an async function reading two
payload keys, each key a declared input), it prints:

- ``ratio`` (the headline): validation time over the floor, the median of the ratios
  of paired rounds. Validation is called as a user calls it (collector enabled, after a
  full collection, nothing but the manifest and its text alive). Target (issue 9): at
  most 1.2 at every size.
- ``strict``: the same over a stricter floor, ``ast.parse`` then ``compile()`` of the
  parsed tree rather than of the text. That is what the validator does (compiling the
  tree skips a second parse, so it is cheaper than compiling the text); ``strict``
  shows everything the validator adds beyond Python's own work.
- ``us/endpoint``: validation time per endpoint, which should stay flat (the floor's
  own per-endpoint time is printed beside it: the parse is not perfectly linear).
- where the time beyond the strict floor goes, in units of it (so that
  ``strict ~ 1 + model + rules + other``): ``model`` is the manifest's pydantic model,
  ``rules`` indexing main.py's tree and running every rule on an already parsed tree,
  ``other`` the rest (capturing Python's warnings, the rules running on a tree fresh
  from the parser, freeing what they built...). Each part is its own median, so the
  parts add up only roughly.

``--stages`` adds a second table, the cost of each stage *as the validator runs it*
(right after the parse and compile, in the same call, with caches as cold as they
are then), in units of the floor: each column times the validator stopped after that
stage (``parse``: parse, compile and index main.py; ``+rules``: then the one pass over
the endpoints and every other rule; ``+model``: the whole validation, the manifest
model included), so each difference is what the stage adds. The breakdown above times ``model``
and ``rules`` on their own, warm, which leaves most of their real cost in ``other``.

Times are CPU time of the running thread (``time.thread_time``), so other processes on
the machine do not count. Every round times a batch of calls of each function, in
alternating order, and ratios are taken within a round, which cancels most of the drift
of a shared machine. Always exits 0.

    uv run python benchmarks/validator_scale.py [--sizes 10,100,1000,5000] [--rounds N]
        [--stages]
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
from viksa_ai.devtools.validate._context import MainModule, RuleContext, parse_main
from viksa_ai.devtools.validate._gc import gc_paused
from viksa_ai.devtools.validate._manifest import load_manifest
from viksa_ai.devtools.validate._parse import parse_source
from viksa_ai.devtools.validate._rules import run_rules

TARGET = 1.2


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


def timed(function: Callable[[], object], batch: int, *, gc_on: bool) -> float:
    """CPU seconds per call of ``function`` over ``batch`` calls, from a collected heap.

    CPU time of this thread: on a shared machine, wall time also counts the time other
    processes held the CPU, which swamps the differences measured here. Each result is
    dropped inside the timing, as a caller's would be.
    """
    gc.collect()
    if not gc_on:
        gc.disable()
    try:
        start = time.thread_time()
        for _ in range(batch):
            function()
        return (time.thread_time() - start) / batch
    finally:
        gc.enable()


def measure(data: dict[str, Any], rounds: int, batch: int) -> dict[str, float]:
    """Paired rounds of the floor, validation and its parts; medians of per-round ratios."""
    source = data["files"][0]["content"]
    view, _ = load_manifest(data)
    assert view is not None
    parsed = parse_source(source)

    def floor() -> object:
        ast.parse(source, "main.py")
        return compile(source, "main.py", "exec", dont_inherit=True)

    def strict_floor() -> object:
        return compile(ast.parse(source, "main.py"), "main.py", "exec", dont_inherit=True)

    def validate() -> object:
        return validate_agent_manifest(data)

    def model() -> object:
        return load_manifest(data)

    def rules() -> object:
        assert view is not None
        return run_rules(RuleContext(view, MainModule(0, parsed)))

    validate()  # warm-up: builds the pydantic schemas, fills caches
    ratios: list[float] = []
    strict_ratios: list[float] = []
    parts: dict[str, list[float]] = {"model": [], "rules": [], "other": []}
    floors: list[float] = []
    totals: list[float] = []
    for round_index in range(rounds):
        if round_index % 2:
            total = timed(validate, batch, gc_on=True)
            strict = timed(strict_floor, batch, gc_on=False)
            base = timed(floor, batch, gc_on=False)
        else:
            base = timed(floor, batch, gc_on=False)
            strict = timed(strict_floor, batch, gc_on=False)
            total = timed(validate, batch, gc_on=True)
        spent_model = timed(model, batch, gc_on=False)
        spent_rules = timed(rules, batch, gc_on=False)
        ratios.append(total / base)
        strict_ratios.append(total / strict)
        parts["model"].append(spent_model / strict)
        parts["rules"].append(spent_rules / strict)
        parts["other"].append((total - strict - spent_model - spent_rules) / strict)
        floors.append(base)
        totals.append(total)
    result = {name: statistics.median(values) for name, values in parts.items()}
    result["ratio"] = statistics.median(ratios)
    result["strict"] = statistics.median(strict_ratios)
    result["floor_ms"] = statistics.median(floors) * 1e3
    result["validate_ms"] = statistics.median(totals) * 1e3
    return result


def measure_stages(data: dict[str, Any], rounds: int, batch: int) -> dict[str, float]:
    """Validation stopped after each stage, over the floor: medians of paired rounds."""
    source = data["files"][0]["content"]
    view, _ = load_manifest(data)
    assert view is not None

    def floor() -> object:
        ast.parse(source, "main.py")
        return compile(source, "main.py", "exec", dont_inherit=True)

    def parse() -> object:  # parse, compile and index main.py
        assert view is not None
        with gc_paused():
            return parse_main(view)

    def rules() -> object:  # ... then every rule and analysis (all but the manifest model)
        assert view is not None
        with gc_paused():
            return run_rules(RuleContext(view, parse_main(view)))

    def validate() -> object:  # ... and the manifest model: the whole validation
        return validate_agent_manifest(data)

    stages: dict[str, Callable[[], object]] = {
        "parse": parse,
        "rules": rules,
        "validate": validate,
    }
    for stage in stages.values():
        stage()
    ratios: dict[str, list[float]] = {name: [] for name in stages}
    for round_index in range(rounds):
        order = list(stages.items())
        if round_index % 2:
            order.reverse()
        base = timed(floor, batch, gc_on=False)
        for name, stage in order:
            ratios[name].append(timed(stage, batch, gc_on=True) / base)
    return {name: statistics.median(values) for name, values in ratios.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--rounds", type=int, default=0, help="rounds per size (default: auto)")
    parser.add_argument(
        "--stages", action="store_true", help="also time each stage as validation runs it"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"{'endpoints':>9} {'floor ms':>9} {'validate ms':>11} {'ratio':>6} {'strict':>6} "
        f"{'us/endpoint':>11} {'floor us/ep':>11} {'model':>6} {'rules':>6} {'other':>6}"
    )
    for size in sizes:
        data = manifest(size)
        rounds = args.rounds or max(7, min(41, 20_000 // size))
        batch = max(1, 200 // size)
        row = measure(data, rounds, batch)
        verdict = "ok" if row["ratio"] <= TARGET else f"over {TARGET}"
        print(
            f"{size:>9} {row['floor_ms']:>9.2f} {row['validate_ms']:>11.2f} "
            f"{row['ratio']:>6.3f} {row['strict']:>6.3f} {row['validate_ms'] / size * 1e3:>11.1f} "
            f"{row['floor_ms'] / size * 1e3:>11.1f} {row['model']:>6.3f} "
            f"{row['rules']:>6.3f} {row['other']:>6.3f}  {verdict}"
        )
    print(
        f"target: ratio = validate / (ast.parse + compile of main.py, collector paused) <= "
        f"{TARGET} at every size, us/endpoint flat. strict = validate / (ast.parse + compile "
        "of the parsed tree); model, rules and other are in units of that strict floor: "
        "strict ~ 1 + model + rules + other."
    )
    if args.stages:
        print(
            f"\n{'endpoints':>9} {'parse':>6} {'+rules':>6} {'+model':>6}   "
            "(validation stopped after each stage, over the floor)"
        )
        for size in sizes:
            rounds = args.rounds or max(7, min(41, 20_000 // size))
            row = measure_stages(manifest(size), rounds, max(1, 200 // size))
            print(f"{size:>9} {row['parse']:>6.3f} {row['rules']:>6.3f} {row['validate']:>6.3f}")
        print(
            "parse: parse + compile + index of main.py; +rules: then every rule, with the "
            "endpoint analyses (one pass); +model: then the manifest model (the whole "
            "validation)."
        )


if __name__ == "__main__":
    main()
