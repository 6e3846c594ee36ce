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

``--fixed`` adds a third: validation's time beyond the strict floor at 1, 2, 5, 10 and
20 endpoints, in microseconds, and the least-squares line through it: what every
validation costs whatever its size (fixed) and what each endpoint adds; then the
``ratio`` the smallest size measured would have with no fixed cost at all.

Times are CPU time of the running thread (``time.thread_time``), so other processes on
the machine do not count. Every round times a batch of calls of each function, in
alternating order, and ratios are taken within a round, which cancels most of the drift
of a shared machine. Always exits 0.

    uv run python benchmarks/validator_scale.py [--sizes 10,100,1000,5000] [--rounds N]
        [--stages] [--fixed]
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


def default_rounds(size: int) -> int:
    """Rounds measured at ``size`` endpoints: about 20 to 30 seconds at 10 and at 100.

    Small sizes get many rounds: one round there takes about a tenth of a second, and a
    median of 41 rounds still moved by 0.02 from run to run on a shared machine (201:
    about 0.01). Large sizes keep a few: each round takes seconds and varies less.
    """
    return max(7, min(201, 20_000 // size))


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


def floor_functions(source: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """The floor and the strict floor of ``source`` (see the module's docstring)."""

    def floor() -> object:
        ast.parse(source, "main.py")
        return compile(source, "main.py", "exec", dont_inherit=True)

    def strict_floor() -> object:
        return compile(ast.parse(source, "main.py"), "main.py", "exec", dont_inherit=True)

    return floor, strict_floor


def measure(data: dict[str, Any], rounds: int, batch: int) -> dict[str, float]:
    """Paired rounds of the floor, validation and its parts; medians of per-round ratios."""
    source = data["files"][0]["content"]
    view, _ = load_manifest(data)
    assert view is not None
    parsed = parse_source(source)
    floor, strict_floor = floor_functions(source)

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
    view, _ = load_manifest(data)
    assert view is not None
    floor, _ = floor_functions(data["files"][0]["content"])

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


FIT_SIZES = (1, 2, 5, 10, 20)
FIT_ROUNDS = 61


def measure_fixed(size: int, rounds: int) -> dict[str, float]:
    """Medians, in seconds, of the floors and of validation's time beyond the strict floor."""
    data = manifest(size)
    floor, strict_floor = floor_functions(data["files"][0]["content"])

    def validate() -> object:
        return validate_agent_manifest(data)

    validate()
    batch = max(1, 200 // size)
    times: dict[str, list[float]] = {"floor": [], "strict": [], "beyond": []}
    for round_index in range(rounds):
        runs = [("floor", floor, False), ("strict", strict_floor, False), ("total", validate, True)]
        if round_index % 2:
            runs.reverse()
        spent = {name: timed(function, batch, gc_on=gc_on) for name, function, gc_on in runs}
        times["floor"].append(spent["floor"])
        times["strict"].append(spent["strict"])
        times["beyond"].append(spent["total"] - spent["strict"])
    return {name: statistics.median(values) for name, values in times.items()}


def print_fixed(rounds: int, smallest: int) -> None:
    """Validation's time beyond the strict floor at small sizes, split into fixed + per endpoint.

    A least-squares line through (endpoints, time beyond the strict floor): its intercept
    is what every validation costs whatever its size, its slope what each endpoint adds.
    The last line says what ``ratio`` would be at ``smallest`` endpoints with no fixed cost.
    """
    print(f"\n{'endpoints':>9} {'floor us':>9} {'strict us':>9} {'beyond us':>9}")
    rounds = rounds or FIT_ROUNDS
    rows = {size: measure_fixed(size, rounds) for size in FIT_SIZES}
    for size, row in rows.items():
        print(
            f"{size:>9} {row['floor'] * 1e6:>9.1f} {row['strict'] * 1e6:>9.1f} "
            f"{row['beyond'] * 1e6:>9.1f}"
        )
    slope, intercept = statistics.linear_regression(
        list(rows), [row["beyond"] for row in rows.values()]
    )
    at = rows.get(smallest) or measure_fixed(smallest, rounds)
    without = (at["strict"] + slope * smallest) / at["floor"]
    print(
        f"beyond the strict floor: {intercept * 1e6:.1f} us per validation (fixed) + "
        f"{slope * 1e6:.1f} us per endpoint; with no fixed cost, ratio at {smallest} "
        f"endpoints would be {without:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000,5000")
    parser.add_argument("--rounds", type=int, default=0, help="rounds per size (default: auto)")
    parser.add_argument(
        "--stages", action="store_true", help="also time each stage as validation runs it"
    )
    parser.add_argument(
        "--fixed",
        action="store_true",
        help="also split validation's time beyond the floor into fixed and per-endpoint",
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    print(
        f"{'endpoints':>9} {'floor ms':>9} {'validate ms':>11} {'ratio':>6} {'strict':>6} "
        f"{'us/endpoint':>11} {'floor us/ep':>11} {'model':>6} {'rules':>6} {'other':>6}"
    )
    for size in sizes:
        data = manifest(size)
        row = measure(data, args.rounds or default_rounds(size), max(1, 200 // size))
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
            rounds = args.rounds or default_rounds(size)
            row = measure_stages(manifest(size), rounds, max(1, 200 // size))
            print(f"{size:>9} {row['parse']:>6.3f} {row['rules']:>6.3f} {row['validate']:>6.3f}")
        print(
            "parse: parse + compile + index of main.py; +rules: then every rule, with the "
            "endpoint analyses (one pass); +model: then the manifest model (the whole "
            "validation)."
        )
    if args.fixed:
        print_fixed(args.rounds, min(sizes))


if __name__ == "__main__":
    main()
