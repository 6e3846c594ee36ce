"""Import cost of the SDK's packages, as whole-process wall-time ratios.

Each case runs ``python -c STATEMENT`` and ``python -c BASELINE`` many times, in
back-to-back pairs, and prints the median of the pairs' time ratios against its target,
with the median time of each. Pairing cancels the drift of a busy machine, which moves
the two medians apart when taken separately.

    uv run python benchmarks/import_time.py [--repeat N]

Add a case by appending a ``Case`` to ``CASES``. A case with ``isolated_paths`` runs in
a fresh virtual environment whose only extra ``sys.path`` entries are those directories
(e.g. the runtime alone, as the platform's worker images install it); other cases run
with this interpreter, in the workspace.

Bytecode is cached for the subprocesses (in a temporary ``PYTHONPYCACHEPREFIX``, even
when ``PYTHONDONTWRITEBYTECODE`` is set here), as it is for installed wheels, and
warm-up runs fill that cache before timing. The script always exits 0: it reports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_SRC = ROOT / "packages" / "viksa-runtime" / "src"


@dataclass(frozen=True)
class Case:
    """One measurement: ``statement`` against ``baseline``, with the ratio's target."""

    label: str
    statement: str
    baseline: str
    target: float
    isolated_paths: tuple[Path, ...] = ()


CASES: list[Case] = [
    Case(
        label="import viksa_ai.runtime (workspace, meta-package first)",
        statement="import viksa_ai.runtime",
        baseline="pass",
        target=1.15,
    ),
    Case(
        label="import viksa_ai.runtime (viksa-runtime alone, as in worker images)",
        statement="import viksa_ai.runtime",
        baseline="pass",
        target=1.15,
        isolated_paths=(RUNTIME_SRC,),
    ),
    Case(
        label="from viksa_ai import ViksaClient (vs its dependencies httpx + pydantic)",
        statement="from viksa_ai import ViksaClient",
        baseline="import httpx, pydantic",
        target=1.10,
    ),
    Case(
        label="import viksa_ai.client (its names load on first use)",
        statement="import viksa_ai.client",
        baseline="pass",
        target=1.15,
    ),
]

WARMUP_RUNS = 3
DEFAULT_REPEAT = 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help="timed runs per statement"
    )
    args = parser.parse_args()
    repeat = max(5, args.repeat)

    with tempfile.TemporaryDirectory(prefix="viksa-import-time-") as scratch:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.pop("PYTHONPATH", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        print(f"python {sys.version.split()[0]}, {repeat} paired runs per case")
        for index, case in enumerate(CASES):
            try:
                python = sys.executable
                if case.isolated_paths:
                    python = _isolated_python(Path(scratch) / f"venv-{index}", case.isolated_paths)
                print(_report(case, _measure(python, case, repeat, env)))
            except (OSError, subprocess.CalledProcessError) as error:
                print(f"ERROR {case.label}: {error}")
    return 0


def _isolated_python(directory: Path, paths: tuple[Path, ...]) -> str:
    # A fresh venv (site enabled, like a worker image) that sees only the given paths.
    venv.create(directory, with_pip=False, symlinks=os.name != "nt")
    python = directory / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    lines = "".join(f"{path}\n" for path in paths)
    Path(site_packages, "viksa_benchmark_paths.pth").write_text(lines, encoding="utf-8")
    return str(python)


def _measure(
    python: str, case: Case, repeat: int, env: dict[str, str]
) -> tuple[list[float], list[float]]:
    for _ in range(WARMUP_RUNS):
        _run(python, case.baseline, env)
        _run(python, case.statement, env)
    statement_times: list[float] = []
    baseline_times: list[float] = []
    for run in range(repeat):
        # Alternate which goes first, so that neither always runs on a warmer machine.
        pair = [(case.baseline, baseline_times), (case.statement, statement_times)]
        for code, times in pair if run % 2 == 0 else reversed(pair):
            times.append(_run(python, code, env))
    return statement_times, baseline_times


def _run(python: str, code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([python, "-c", code], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _report(case: Case, times: tuple[list[float], list[float]]) -> str:
    statement_times, baseline_times = times
    ratios = [s / b for s, b in zip(statement_times, baseline_times, strict=True)]
    ratio = statistics.median(ratios)
    statement, baseline = statistics.median(statement_times), statistics.median(baseline_times)
    verdict = "PASS" if ratio < case.target else "FAIL"
    return (
        f"{verdict} {case.label}: ratio {ratio:.3f} (target < {case.target}); "
        f"median {statement * 1000:.1f} ms vs {baseline * 1000:.1f} ms for {case.baseline!r}"
    )


if __name__ == "__main__":
    sys.exit(main())
