"""``viksa validate`` of one agent as a whole process, against ``python -c pass``.

Pre-commit and CI run ``viksa validate`` on every commit, so its wall time as a whole
process is what a person feels. Each case runs its command and ``python -c pass`` in
back-to-back pairs and prints the median of the pairs' time ratios (pairing cancels
the drift of a busy machine) against the target of issue 12 (at most 6x), with the
median times. The informative cases show where the time goes: the CLI's own imports,
and pydantic, which a valid manifest no longer needs (the validator reads it without
the models, and falls back to them to word the issues of a manifest with structural
errors): what an invalid manifest costs.

    uv run python benchmarks/validate_cli.py [--repeat N]

For the modules behind it: ``python -X importtime -m viksa_ai.devtools.cli validate
AGENT``. Bytecode is cached (warm-up runs), as for installed wheels. Always exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 6.0


def _time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _measure(
    command: list[str], baseline: list[str], env: dict[str, str], repeat: int
) -> tuple[float, float, float]:
    for _ in range(3):  # warm-up: bytecode caches, page cache
        _time(command, env)
        _time(baseline, env)
    ratios, times, bases = [], [], []
    for _ in range(repeat):
        base = _time(baseline, env)
        spent = _time(command, env)
        ratios.append(spent / base)
        times.append(spent)
        bases.append(base)
    return statistics.median(ratios), statistics.median(times), statistics.median(bases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="pairs per case (default 30)")
    args = parser.parse_args()
    python = sys.executable
    baseline = [python, "-c", "pass"]
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(Path(work) / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        agent = Path(work) / "my_agent"
        subprocess.run(
            [python, "-m", "viksa_ai.devtools.cli", "init", str(agent)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cases = [
            (
                "viksa validate my_agent (target)",
                [python, "-m", "viksa_ai.devtools.cli", "validate", str(agent)],
                TARGET,
            ),
            (
                "  import viksa_ai.devtools.cli (the CLI's own share)",
                [python, "-c", "import viksa_ai.devtools.cli"],
                None,
            ),
            (
                "  import pydantic (an invalid manifest's extra share)",
                [python, "-c", "import pydantic"],
                None,
            ),
            (
                "  import viksa_ai.models.agent",
                [python, "-c", "import viksa_ai.models.agent"],
                None,
            ),
        ]
        print(f"{'case':<58} {'ratio':>7} {'time':>9} {'python -c pass':>15}")
        for label, command, target in cases:
            ratio, spent, base = _measure(command, baseline, env, args.repeat)
            verdict = "" if target is None else (" ok" if ratio <= target else f" > {target:g}x")
            print(
                f"{label:<58} {ratio:>6.1f}x {spent * 1000:>7.0f} ms {base * 1000:>12.0f} ms"
                f"{verdict}"
            )


if __name__ == "__main__":
    main()
