"""The DuckDB engine: one connection, serialised by a lock, run off the event loop.

All DuckDB work goes through ``Engine.call``, which runs a function on a worker
thread while holding the lock. Serialising is what keeps concurrent inserts into
one table consistent, and the thread pool keeps the aiohttp loop responsive.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import duckdb

from .bqtypes import quote_ident

T = TypeVar("T")
META_SCHEMA = "__bq_meta"


def duck_name(name: str) -> str:
    """The DuckDB identifier for a BigQuery dataset or table name.

    BigQuery compares those names case-sensitively (`c2` and `C2` are two tables); DuckDB folds the
    case of ASCII letters in every identifier, quoted or not. So each upper-case ASCII letter is
    written `^` and its lower case (and `^`, which BigQuery names cannot hold, `^^`): distinct
    BigQuery names stay distinct DuckDB names, and a lower-case name is its own DuckDB name.
    """
    return "".join("^" + c.lower() if "A" <= c <= "Z" else "^^" if c == "^" else c for c in name)


def bigquery_name(duck: str) -> str:
    """The BigQuery name a DuckDB identifier made by `duck_name` stands for."""
    return re.sub(r"\^(.)", lambda m: m[1] if m[1] == "^" else m[1].upper(), duck)


def schema_name(project: str, dataset: str) -> str:
    """DuckDB schema for one BigQuery dataset; dataset ids never contain dots."""
    return f"{duck_name(project)}.{duck_name(dataset)}"


def qualified(project: str, dataset: str, table: str) -> str:
    return f"{quote_ident(schema_name(project, dataset))}.{quote_ident(duck_name(table))}"


class Engine:
    def __init__(self, data_dir: str | None = None, workers: int = 8):
        path = ":memory:"
        if data_dir:
            os.makedirs(data_dir, exist_ok=True)
            path = os.path.join(data_dir, "bigquery.duckdb")
        self.con = duckdb.connect(path)
        self.con.execute("SET TimeZone = 'UTC'")
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bq-duckdb")
        self._init_meta()

    def _init_meta(self) -> None:
        self.con.execute(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {META_SCHEMA}.datasets "
            "(project VARCHAR, dataset VARCHAR, resource JSON, PRIMARY KEY (project, dataset))"
        )
        self.con.execute(
            f"CREATE TABLE IF NOT EXISTS {META_SCHEMA}.tables (project VARCHAR, dataset VARCHAR, "
            "table_id VARCHAR, resource JSON, PRIMARY KEY (project, dataset, table_id))"
        )

    def _locked(self, fn: Callable[..., T], *args: Any) -> T:
        with self.lock:
            return fn(self.con, *args)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(con, *args)`` on a worker thread under the engine lock."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, functools.partial(self._locked, fn, *args))

    async def offload(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU-bound work that needs no DuckDB access (e.g. row encoding)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, functools.partial(fn, *args))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        with self.lock:
            self.con.close()


def duck_table_exists(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str) -> bool:
    row = one(
        con,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema_name(project, dataset), duck_name(table)],
    )
    return bool(row and row[0])


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> tuple | None:
    """First row of a statement. Always drains the result: DuckDB refuses further
    work on a connection whose previous result was not fully fetched."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None
