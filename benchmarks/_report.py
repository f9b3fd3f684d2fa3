"""Shared benchmark output: percentiles, a printed table, and a JSON file in benchmarks/results/."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).parent / "results"


def percentiles(samples_s: list[float]) -> dict[str, float]:
    values = np.array(samples_s) * 1000
    return {"n": len(values), "p50_ms": float(np.percentile(values, 50)), "p99_ms": float(np.percentile(values, 99)),
            "max_ms": float(values.max())}


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}


def report(name: str, title: str, columns: list[str], rows: list[list[Any]], data: dict[str, Any]) -> Path:
    table = Table(title=f"{title}  ({machine()['cores']} cores)")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[_cell(v) for v in row])
    Console(width=max(120, 16 * len(columns))).print(table)  # never squeezed to an 80-column pipe
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **data}, indent=2))
    print(f"wrote {path}")
    return path


def _cell(value: Any) -> str:
    return f"{value:,.2f}" if isinstance(value, float) else str(value)
