"""Warehouse port: the tabular data mlplane trains on and ingests into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # tables cross this port, but a process that never reads one need not load pyarrow
    import pyarrow as pa

from domain.types.partitions import LoadRequest
from domain.types.tables import TableInfo


class Warehouse(Protocol):
    """Tables addressed by validated identifiers; adapters quote them, never paste user SQL.

    Errors: TableNotFound for a missing table, InvalidSpec for an unknown column,
    TransientError when the backend may succeed on retry. Every method is safe to cancel.
    """

    async def list_tables(self) -> Sequence[TableInfo]: ...

    def column_name_problem(self, name: str) -> str | None:
        """Why this warehouse would refuse a column of that name (None: it takes it), so an ingestion is a
        4xx at submit rather than a job failing at its commit."""
        ...

    async def describe(self, table: str) -> TableInfo: ...

    async def read(self, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        """The whole table (or the named columns) as Arrow, in storage order."""
        ...

    async def append(self, table: str, rows: pa.Table) -> int:
        """Append rows, creating the table from the Arrow schema if missing. Returns rows written."""
        ...

    async def append_new(self, table: str, rows: pa.Table, key: str) -> int:
        """Append the rows whose `key` value is not in the table yet (one row per value when `rows`
        repeats it), creating the table if missing. Appending the same rows again writes nothing,
        which makes a redelivered batch harmless. Returns rows written.
        """
        ...

    async def load_parquet(self, request: LoadRequest) -> int:
        """Load the staged Parquet files of `request.shards` into `request.table` in ONE transaction.

        Modes: append (create the table if missing), replace (atomic: readers see the old table
        or the new one, never half), upsert (rows whose keys match are replaced). Dedupe `exact`
        or `keys` removes duplicates across all the files (not against rows already in the
        table, except upsert, which replaces them); rows that are duplicates of each other are
        always in the same shard, so an adapter may de-duplicate shard by shard. At most once per
        `load_id`: a repeated call loads nothing and returns the row count of the first. Returns the
        rows written.
        """
        ...
