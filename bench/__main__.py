"""`make bench`: run every benchmark in its own process (so memory readings are its own)."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

BENCHMARKS = {
    "search": "bench.search_bench",
    "search-quality": "bench.search_quality",
    "buenos-aires": "bench.buenos_aires",
    "e5-engines": "bench.e5_engines",
    "e2e": "bench.e2e_bench",
    "turn-cost": "bench.turn_cost_bench",
    "telegram": "bench.telegram_bench",
    "wechat": "bench.wechat_bench",
    "webchat-load": "bench.webchat_load",
    "cluster": "bench.cluster_bench",
    "dashboard": "bench.dashboard_bench",
    "broadcast": "bench.broadcast_bench",
    "handover": "bench.handover_bench",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"which to run: {', '.join(BENCHMARKS)} (default: all)",
    )
    args = parser.parse_args()
    # argparse refuses an empty list against `choices` with nargs="*", so check here.
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    failures = []
    for name in args.names or list(BENCHMARKS):
        print(f"\n=== benchmark: {name} ===", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-m", BENCHMARKS[name]], check=False)
        print(
            f"=== {name}: exit {result.returncode} in {time.monotonic() - started:.0f} s ===",
            flush=True,
        )
        if result.returncode != 0:
            failures.append(name)
    if failures:
        print(f"benchmarks that failed to run: {', '.join(failures)}", file=sys.stderr)
        return 1
    print("\nresults: bench/results/*-latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
