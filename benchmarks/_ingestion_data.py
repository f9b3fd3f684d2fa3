"""Seeded benchmark input: id, ts, key (~1000 values), f0..f7, label; ~1% duplicate rows, ~1% nulls.

Written in chunks as CSV and as Parquet (128k-row row groups), so generating 5M rows does not
need the whole table in memory at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CHUNK_ROWS = 500_000
ROW_GROUP_ROWS = 128 * 1024
FEATURES = [f"f{i}" for i in range(8)]


def chunk(rng: np.random.Generator, start: int, rows: int) -> pa.Table:
    ids = np.arange(start, start + rows, dtype=np.int64)
    dupes = rng.random(rows) < 0.01  # these rows repeat the row before them exactly
    ids[1:][dupes[1:]] = ids[:-1][dupes[1:]]
    source = np.maximum.accumulate(np.where(dupes, 0, np.arange(rows)))  # index of the row each one copies
    columns: dict[str, pa.Array] = {
        "id": pa.array(ids),
        "ts": pa.array((1_767_225_600 + ids * 7).astype("datetime64[s]")),
        "key": pa.array(np.char.add("k", (ids % 997).astype(str))),
    }
    values = rng.normal(size=(rows, len(FEATURES)))[source]
    null_at = (rng.random(rows) < 0.01)[source]  # a duplicate copies its original's nulls too
    null_column = rng.integers(0, len(FEATURES), rows)[source]
    for i, name in enumerate(FEATURES):
        columns[name] = pa.array(values[:, i], mask=null_at & (null_column == i))
    columns["label"] = pa.array((values[:, 0] + values[:, 1] > 0).astype(np.int64))
    return pa.table(columns)


def generate(rows: int, directory: Path, seed: int = 7) -> tuple[Path, Path]:
    """(csv path, parquet path), reused when already generated for this row count."""
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = directory / f"bench-{rows}.csv", directory / f"bench-{rows}.parquet"
    if csv_path.exists() and parquet_path.exists():
        return csv_path, parquet_path
    rng = np.random.default_rng(seed)
    csv_writer = parquet_writer = None
    for start in range(0, rows, CHUNK_ROWS):
        table = chunk(rng, start, min(CHUNK_ROWS, rows - start))
        # No quotes around plain strings, as pandas and most exporters write CSV.
        csv_writer = csv_writer or pacsv.CSVWriter(csv_path, table.schema,
                                                   write_options=pacsv.WriteOptions(quoting_style="none"))
        parquet_writer = parquet_writer or pq.ParquetWriter(parquet_path, table.schema)
        csv_writer.write_table(table)
        parquet_writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    assert csv_writer is not None and parquet_writer is not None
    csv_writer.close()
    parquet_writer.close()
    return csv_path, parquet_path
