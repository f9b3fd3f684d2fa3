"""InMemoryWarehouse: the Warehouse port on a dict of Arrow tables."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from domain.types.errors import InvalidSpec, TableNotFound
from domain.types.identifiers import sql_identifier
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest
from domain.types.tables import ColumnInfo, TableInfo


class InMemoryWarehouse:
    def __init__(self, staged: dict[str, pa.Table] | None = None) -> None:
        self.tables: dict[str, pa.Table] = {}
        self.staged = staged  # InMemoryBulkFiles' staged tables; else URIs are local Parquet files
        self.loads: dict[str, int] = {}  # load id -> rows written: loads happen at most once

    @staticmethod
    def column_name_problem(name: str) -> str | None:
        return None

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

    async def load_parquet(self, request: LoadRequest) -> int:
        sql_identifier(request.table, "table")
        if request.load_id in self.loads:
            return self.loads[request.load_id]
        read = self.staged.__getitem__ if self.staged is not None else (lambda u: pq.read_table(u.removeprefix("file://")))
        frame = pa.concat_tables([read(u) for u in request.uris], promote_options="default").to_pandas()
        dedupe = Dedupe.KEYS if request.mode is WriteMode.UPSERT else request.dedupe
        if dedupe is not Dedupe.NONE:
            frame = frame.drop_duplicates(subset=list(request.keys) if dedupe is Dedupe.KEYS else None)
        incoming = pa.Table.from_pandas(frame, preserve_index=False)
        existing = self.tables.get(request.table)
        if request.mode is WriteMode.UPSERT and existing is not None:
            old = existing.to_pandas()
            keys = list(request.keys)
            kept = old[~old.set_index(keys).index.isin(frame.set_index(keys).index)]
            self.tables[request.table] = pa.Table.from_pandas(kept, preserve_index=False)
        if request.mode is WriteMode.REPLACE:
            self.tables.pop(request.table, None)
        await self.append(request.table, incoming)
        self.loads[request.load_id] = incoming.num_rows
        return incoming.num_rows
