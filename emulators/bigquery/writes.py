"""Write a DuckDB source (query result, loaded file) into a table, honouring
BigQuery's create and write dispositions. Shared by query and load jobs."""

from __future__ import annotations

import duckdb

from .bqtypes import duckdb_to_field
from .engine import duck_table_exists, one, qualified
from .errors import duplicate, engine_message, invalid, not_found
from .tables import ensure_table, table_exists


def source_fields(con: duckdb.DuckDBPyConnection, source_sql: str) -> list[dict]:
    rel = con.sql(f"SELECT * FROM ({source_sql}) AS __src LIMIT 0")
    return [duckdb_to_field(n, t) for n, t in zip(rel.columns, rel.types, strict=True)]


def _prepare(con, ref: tuple[str, str, str], fields: list[dict] | None, source_sql: str,
             write: str, create: str) -> None:
    project, dataset, table = ref
    exists = table_exists(con, project, dataset, table)
    if not exists and create == "CREATE_NEVER":
        raise not_found(f"Table {project}:{dataset}.{table}")
    has_data = duck_table_exists(con, project, dataset, table)
    if write == "WRITE_TRUNCATE" and has_data:
        # Truncation replaces the schema too, as BigQuery does.
        one(con, f"DROP TABLE {qualified(project, dataset, table)}")
    elif write == "WRITE_EMPTY" and has_data:
        count = one(con, f"SELECT count(*) FROM {qualified(project, dataset, table)}")
        if count and count[0]:
            raise duplicate(f"Table {project}:{dataset}.{table} already contains data")
    ensure_table(con, project, dataset, table, fields or source_fields(con, source_sql))


def write_source(con: duckdb.DuckDBPyConnection, ref: tuple[str, str, str], source_sql: str,
                 fields: list[dict] | None = None, write: str | None = None,
                 create: str | None = None, default_write: str = "WRITE_APPEND") -> int:
    """Insert ``source_sql``'s rows into ``ref`` by column name; returns rows written."""
    write = (write or default_write).upper()
    create = (create or "CREATE_IF_NEEDED").upper()
    one(con, "BEGIN TRANSACTION")
    try:
        _prepare(con, ref, fields, source_sql, write, create)
        row = one(con, f"INSERT INTO {qualified(*ref)} BY NAME SELECT * FROM ({source_sql}) AS __src")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise invalid(f"Error while writing to {ref[1]}.{ref[2]}: {engine_message(exc)}") from exc
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return int(row[0]) if row else 0


def write_arrow(con: duckdb.DuckDBPyConnection, ref: tuple[str, str, str], data, **kwargs) -> int:
    """``write_source`` for an in-memory Arrow table."""
    con.register("__bq_arrow_src", data)
    try:
        return write_source(con, ref, "SELECT * FROM __bq_arrow_src", **kwargs)
    finally:
        con.unregister("__bq_arrow_src")
