"""The staged Parquet files of one partition, one per dedupe shard, written a row group at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from adapters.pyarrow_files.shard_hash import shard_ids


class StagedFiles:
    """Every row group is split by shard and each part appended to its shard's file. All the files get
    the schema of the first row group, so every shard of a partition reads back with the same types."""

    def __init__(self, temps: list[Path], shard_column: str | None) -> None:
        self._temps = temps
        self._column = shard_column if len(temps) > 1 else None
        self._writers: list[pq.ParquetWriter] = []

    def write(self, table: pa.Table) -> None:
        if not self._writers:
            self._open(table.schema)
        table = table.cast(self._writers[0].schema)
        if self._column is None:
            self._append(0, table)
            return
        ids = shard_ids(table.column(self._column), len(self._writers))
        grouped = table.take(_arrow_indices(np.argsort(ids, kind="stable")))
        start = 0
        for shard, rows in enumerate(np.bincount(ids, minlength=len(self._writers))):
            self._append(shard, grouped.slice(start, rows))
            start += rows

    def close(self, schema: pa.Schema) -> None:
        """Close every file; with no row written, each is a valid empty file of `schema`."""
        if not self._writers:
            self._open(schema)
        for writer in self._writers:
            writer.close()

    def _open(self, schema: pa.Schema) -> None:
        # Staged files live minutes and are read once, by the commit: spend no CPU on compression,
        # statistics or dictionaries for numbers (4x faster writes, and faster loads, than the defaults).
        strings = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        self._writers = [pq.ParquetWriter(temp, schema, compression="none", use_dictionary=strings or False,
                                          write_statistics=False) for temp in self._temps]

    def _append(self, shard: int, rows: pa.Table) -> None:
        if rows.num_rows:
            self._writers[shard].write_table(rows, row_group_size=rows.num_rows)


def _arrow_indices(order: npt.NDArray[np.intp]) -> pa.Array:
    """Zero-copy from numpy's buffer: pa.array(ndarray) would import pandas into the staging process on
    first use (~0.2 s and ~40 MiB each, measured) only to ask whether the array is one of its own."""
    order = np.ascontiguousarray(order, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(order), [None, pa.py_buffer(order)])
