"""The baseline paths, each run as its own process by benchmarks/ingestion.py:

    python -m benchmarks._ingestion_paths naive|duckdb csv|parquet INPUT DB

Both end with the clean rows (no exact duplicates, no row with a null) in a DuckDB table and
print that table's row count.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd

COLUMNS = ["id", "ts", "key", *[f"f{i}" for i in range(8)], "label"]


def naive(fmt: str, source: Path, db: Path) -> int:
    """The seed's "before": the whole file in pandas, then clean, then insert."""
    frame = pd.read_csv(source, parse_dates=["ts"]) if fmt == "csv" else pd.read_parquet(source)
    frame = frame.drop_duplicates().dropna()
    with duckdb.connect(str(db)) as con:
        con.register("frame", frame)
        con.execute("CREATE OR REPLACE TABLE bench AS SELECT * FROM frame")
        return int(con.execute("SELECT count(*) FROM bench").fetchone()[0])  # type: ignore[index]


def duckdb_reader(fmt: str, source: Path, db: Path) -> int:
    """The ceiling: DuckDB's own reader, DISTINCT and a null filter in one statement."""
    reader = "read_csv" if fmt == "csv" else "read_parquet"
    not_null = " AND ".join(f'"{c}" IS NOT NULL' for c in COLUMNS)
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE OR REPLACE TABLE bench AS SELECT DISTINCT * FROM {reader}(?) WHERE {not_null}",
                    [str(source)])
        return int(con.execute("SELECT count(*) FROM bench").fetchone()[0])  # type: ignore[index]


if __name__ == "__main__":
    path, fmt, source, db = sys.argv[1:5]
    rows = (naive if path == "naive" else duckdb_reader)(fmt, Path(source), Path(db))
    print(f"rows={rows}", flush=True)
