"""Shared benchmark output: a plain table on the terminal and JSON under bench/results/."""

from __future__ import annotations

import json
import math
import platform
import time
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile by nearest rank (no interpolation surprises on small samples)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def print_table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    def cell(value: Any) -> str:
        return f"{value:.1f}" if isinstance(value, float) else str(value)

    table = [header] + [[cell(value) for value in row] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print(f"\n{title}")
    for index, row in enumerate(table):
        print("  " + " | ".join(value.ljust(widths[i]) for i, value in enumerate(row)))
        if index == 0:
            print("  " + "-+-".join("-" * width for width in widths))


def write_results(name: str, result: dict[str, Any]) -> Path:
    """Write `<name>-<timestamp>.json` and `<name>-latest.json`; return the latest path."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamped = dict(result)
    stamped["machine"] = {
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
    }
    stamped["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    text = json.dumps(stamped, indent=2, ensure_ascii=False, default=str)
    (RESULTS_DIR / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(text)
    latest = RESULTS_DIR / f"{name}-latest.json"
    latest.write_text(text)
    return latest
