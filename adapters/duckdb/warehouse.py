"""DuckDBWarehouse: the Warehouse port on one DuckDB file owned by this process.

DuckDB lets a single process write a database file, so one connection is opened here and each
call runs on a cursor of it in a worker thread: the event loop never blocks on a query.
Identifiers are validated and quoted; no caller text is pasted into SQL. DuckDB's I/O errors (above
all: the file is locked by another process) are TransientError on every call, naming the file.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio
import duckdb
import pyarrow as pa

from adapters.duckdb.loads import load_parquet
from domain.types.errors import InvalidSpec, TableNotFound, TransientError
from domain.types.identifiers import quote_identifier, sql_identifier
from domain.types.partitions import LoadRequest
from domain.types.tables import ColumnInfo, TableInfo

_NUMERIC_PREFIXES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                     "UINTEGER", "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL", "BOOLEAN")
# DuckDB: 'IO Error: Could not set lock on file "F": Conflicting lock is held in /usr/bin/python3 (PID 12) ...'
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")
T = TypeVar("T")


class DuckDBWarehouse:
    def __init__(self, path: Path, schema: str = "main", memory_limit: str | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._schema = sql_identifier(schema, "schema")
        # Without a limit DuckDB caches up to 80% of RAM: after a 5M-row load the daemon holds ~600 MiB,
        # and keeps it. The process peaks at about its size before plus the limit plus 20 MiB (256MB:
        # ~460 MiB; 128MB: ~330) at no cost in time on 2 cores; reads into Arrow are not bound by it.
        self._config: dict[str, Any] = {"memory_limit": memory_limit} if memory_limit else {}
        self._path = path
        self._connection: duckdb.DuckDBPyConnection | None = None  # opened on first use (see _cursor)
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    async def list_tables(self) -> list[TableInfo]:
        rows = await self._run(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
            [self._schema],
        )
        return [await self.describe(name) for (name,) in rows]

    @staticmethod
    def column_name_problem(name: str) -> str | None:
        """DuckDB takes any name ingestion lets through (printable, unique ignoring case)."""
        return None

    async def describe(self, table: str) -> TableInfo:
        sql_identifier(table, "table")
        return await self._in_thread(lambda cursor: self._describe(cursor, table))  # one hop for both queries

    def _describe(self, cursor: duckdb.DuckDBPyConnection, table: str) -> TableInfo:
        columns = cursor.execute(
            "SELECT column_name, data_type, is_nullable FROM duckdb_columns() "
            "WHERE schema_name = ? AND lower(table_name) = lower(?) ORDER BY column_index",
            [self._schema, table],
        ).fetchall()
        if not columns:
            raise TableNotFound(f"no table named {table!r} in the warehouse", {"table": table})
        ((count,),) = cursor.execute(f"SELECT count(*) FROM {self._qualified(table)}").fetchall()
        infos = tuple(
            ColumnInfo(name, dtype, _numeric(dtype), bool(nullable))
            for name, dtype, nullable in columns
        )
        return TableInfo(table, infos, int(count))

    async def read(self, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        info = await self.describe(table)  # a clear TableNotFound instead of a DuckDB catalog error
        unknown = [c for c in columns or () if info.column(c) is None]
        if unknown:
            raise InvalidSpec(f"table {table!r} has no column(s) {', '.join(unknown)}", {"missing": unknown})
        selection = ", ".join(quote_identifier(c) for c in columns) if columns else "*"
        sql = f"SELECT {selection} FROM {self._qualified(table)}"
        return await self._in_thread(lambda cursor: cursor.sql(sql).to_arrow_table())

    async def append(self, table: str, rows: pa.Table) -> int:
        target = self._qualified(table)

        def write(cursor: duckdb.DuckDBPyConnection) -> None:
            cursor.register("incoming_rows", rows)
            try:
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM incoming_rows LIMIT 0")
                cursor.execute(f"INSERT INTO {target} BY NAME SELECT * FROM incoming_rows")
            finally:
                cursor.unregister("incoming_rows")

        await self._in_thread(write)
        return int(rows.num_rows)

    async def append_new(self, table: str, rows: pa.Table, key: str) -> int:
        """One INSERT with an anti-join on `key`: atomic, so a crash never leaves half a batch to skip.

        Columns new to the table (e.g. features of a changed pipeline) are added first. Two writers
        racing on one table could both insert a key; mlplane runs one recorder per table.
        """
        target, column = self._qualified(table), quote_identifier(key)
        if key not in rows.column_names:
            raise InvalidSpec(f"rows for {table!r} have no key column {key!r}", {"missing": [key]})

        def write(cursor: duckdb.DuckDBPyConnection) -> int:
            cursor.register("incoming_rows", rows)
            try:
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM incoming_rows LIMIT 0")
                self._add_columns(cursor, table, target)
                ((written,),) = cursor.execute(
                    f"INSERT INTO {target} BY NAME SELECT * FROM (SELECT DISTINCT ON ({column}) * FROM incoming_rows)"
                    f" AS i WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE t.{column} = i.{column})").fetchall()
                return int(written)
            finally:
                cursor.unregister("incoming_rows")

        return await self._in_thread(write)

    def _add_columns(self, cursor: duckdb.DuckDBPyConnection, table: str, target: str) -> None:
        existing = {name for (name,) in cursor.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = ? AND lower(table_name) = lower(?)",
            [self._schema, table]).fetchall()}
        for name, dtype, *_ in cursor.execute("DESCRIBE SELECT * FROM incoming_rows").fetchall():
            if name not in existing:  # the type text is DuckDB's own, the name a validated identifier
                cursor.execute(f"ALTER TABLE {target} ADD COLUMN {quote_identifier(name)} {dtype}")

    async def load_parquet(self, request: LoadRequest) -> int:
        """One transaction on its own cursor (see loads.py); readers on other cursors are not blocked."""
        return await self._in_thread(lambda cursor: load_parquet(cursor, self._schema, request))

    def _qualified(self, table: str) -> str:
        return f"{quote_identifier(self._schema)}.{quote_identifier(table)}"

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        # Lazy: a process that never queries (e.g. a worker that only stages files) never takes
        # the file's lock away from the daemon.
        with self._lock:
            if self._connection is None:
                connection = duckdb.connect(str(self._path), config=self._config)
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(self._schema)}")
                self._connection = connection
        return self._connection.cursor()

    async def _run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return await self._in_thread(lambda cursor: cursor.execute(sql, params or []).fetchall())

    async def _in_thread(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`work` on a new cursor in a worker thread. The connect is in there too, so every call (the first
        one opens the file) reports DuckDB's I/O errors the same way, and a failed connect is tried again
        by the next call: the warehouse comes back by itself once the other process lets go of the file."""
        def run() -> T:
            try:
                return work(self._cursor())
            except duckdb.IOException as exc:
                raise self._io_error(exc) from exc

        return await anyio.to_thread.run_sync(run)

    def _io_error(self, exc: duckdb.IOException) -> TransientError:
        file, cause = str(self._path.absolute()), str(exc).split("\n\n")[0]  # without the SQL DuckDB quotes
        if "Could not set lock" not in cause:
            return TransientError(f"warehouse I/O error on {file}: {cause}", {"file": file})
        holder = _LOCK_HOLDER.search(cause)
        pid = int(holder.group(1)) if holder else None
        return TransientError(
            f"the warehouse file {file} is locked by another process{f' (pid {pid})' if pid else ''}: DuckDB lets "
            "one process open it at a time; stop that process (another 'mlplane up' on this data dir?) and retry",
            {"file": file, "pid": pid})


def _numeric(dtype: str) -> bool:
    """A number per row: DOUBLE[] and DOUBLE[3] (lists, arrays) start with a numeric name but are not."""
    return dtype.upper().startswith(_NUMERIC_PREFIXES) and not dtype.endswith("]")
