"""What the client's tracing hooks cost per call, as ratios against raw httpx.

In one process, on httpx's ``MockTransport`` (no network, so the per-call work of the
SDK is all there is to measure), rounds interleave: raw ``httpx.Client`` sending the
same request, ``ViksaSyncClient`` with opentelemetry not imported (its hooks are a
dictionary lookup), and ``ViksaSyncClient`` with the opentelemetry API imported but no
SDK configured (the no-op tracer: a span object, a context attach and an inject per
call). Toggling ``sys.modules["opentelemetry.trace"]`` switches the client between the
two, so all variants share one process and its warm caches. Reported: the median of
the per-round ratios of the SDK with no-op tracing to the SDK untraced, and each
against raw httpx.

    uv run python benchmarks/tracing_overhead.py [--calls 3000] [--rounds 9]

Target: the no-op tracer keeps the SDK within 3% of its untraced speed over a real
network call (what ``client_overhead.py`` measures); over this mock transport the
figure printed is the upper bound of that cost. The script always exits 0: it reports.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import httpx

from viksa_ai.client import ViksaSyncClient

ME = b'{"id": "u1", "email": "me@example.com", "account_id": "a1"}'
HEADERS = {"Authorization": "Bearer t", "Accept": "application/json"}


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=ME, headers={"content-type": "application/json"})


def _time(job: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        job()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    import opentelemetry.trace

    module = sys.modules.pop("opentelemetry.trace")
    raw = httpx.Client(transport=httpx.MockTransport(_answer), base_url="https://x.test")
    http = httpx.Client(transport=httpx.MockTransport(_answer), base_url="https://x.test")
    client = ViksaSyncClient(base_url="https://x.test", access_token="t", http_client=http)

    def raw_job() -> object:
        response = raw.get("/auth/me", headers=HEADERS)
        response.raise_for_status()
        return response.json()

    def untraced() -> object:
        return client.auth.me()

    def noop() -> object:
        sys.modules["opentelemetry.trace"] = module
        try:
            return client.auth.me()
        finally:
            del sys.modules["opentelemetry.trace"]

    jobs = {"raw httpx": raw_job, "viksa untraced": untraced, "viksa no-op tracer": noop}
    for job in jobs.values():
        _time(job, 300)  # warm up
    times: dict[str, list[float]] = {name: [] for name in jobs}
    names = list(jobs)
    for round_ in range(args.rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(_time(jobs[name], args.calls))
    sys.modules["opentelemetry.trace"] = module
    assert opentelemetry.trace is module
    print(f"{args.calls} calls x {args.rounds} rounds on MockTransport")
    for name in names:
        per_call = statistics.median(times[name]) / args.calls * 1e6
        vs_raw = statistics.median(
            r / m for r, m in zip(times["raw httpx"], times[name], strict=True)
        )
        print(f"  {name:<20} {per_call:7.1f} us/call  ratio to raw httpx {vs_raw:5.2f}")
    noop_vs_untraced = statistics.median(
        u / n for u, n in zip(times["viksa untraced"], times["viksa no-op tracer"], strict=True)
    )
    extra = (
        statistics.median(times["viksa no-op tracer"]) - statistics.median(times["viksa untraced"])
    ) / args.calls
    print(
        f"  no-op tracer vs untraced: ratio {noop_vs_untraced:.3f}, {extra * 1e6:+.1f} us per call"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
