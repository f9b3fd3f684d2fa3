"""InMemoryWarehouse: the Warehouse port on a dict of Arrow tables."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from domain.types.errors import InvalidSpec, TableNotFound
from domain.types.identifiers import sql_identifier
from domain.types.tables import ColumnInfo, TableInfo


class InMemoryWarehouse:
    def __init__(self) -> None:
        self.tables: dict[str, pa.Table] = {}

    async def list_tables(self) -> list[TableInfo]:
        return [await self.describe(name) for name in sorted(self.tables)]

    async def describe(self, table: str) -> TableInfo:
        data = self._table(table)
        columns = tuple(
            ColumnInfo(f.name, str(f.type), pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
                       or pa.types.is_boolean(f.type) or pa.types.is_decimal(f.type), f.nullable)
            for f in data.schema
        )
        return TableInfo(table, columns, data.num_rows)

    async def read(self, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        data = self._table(table)
        if columns:
            unknown = [c for c in columns if c not in data.column_names]
            if unknown:
                raise InvalidSpec(f"unknown column(s) {unknown}", {"missing": unknown})
            return data.select(list(columns))
        return data

    async def append(self, table: str, rows: pa.Table) -> int:
        sql_identifier(table, "table")
        existing = self.tables.get(table)
        combined = rows if existing is None else pa.concat_tables([existing, rows.select(existing.column_names)])
        self.tables[table] = combined
        return rows.num_rows

    def _table(self, table: str) -> pa.Table:
        sql_identifier(table, "table")
        if table not in self.tables:
            raise TableNotFound(f"no table named {table!r} in the warehouse", {"table": table})
        return self.tables[table]
