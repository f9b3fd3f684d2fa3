"""Warehouse port: the tabular data mlplane trains on and ingests into."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pyarrow as pa

from domain.types.tables import TableInfo


class Warehouse(Protocol):
    """Tables addressed by validated identifiers; adapters quote them, never paste user SQL.

    Errors: TableNotFound for a missing table, InvalidSpec for an unknown column,
    TransientError when the backend may succeed on retry. Every method is safe to cancel.
    """

    async def list_tables(self) -> Sequence[TableInfo]: ...

    async def describe(self, table: str) -> TableInfo: ...

    async def read(self, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        """The whole table (or the named columns) as Arrow, in storage order."""
        ...

    async def append(self, table: str, rows: pa.Table) -> int:
        """Append rows, creating the table from the Arrow schema if missing. Returns rows written."""
        ...
