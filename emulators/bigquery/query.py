"""Run one query configuration against DuckDB (called under the engine lock)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from .bqtypes import duckdb_to_field
from .datasets import get_dataset
from .engine import duck_table_exists, one, qualified
from .errors import ApiError, engine_message, invalid_query, not_found
from .sql import Statement, translate
from .writes import write_arrow


@dataclass
class QueryResult:
    kind: str
    fields: list[dict] = field(default_factory=list)
    table: pa.Table | None = None
    dml_rows: int | None = None
    bytes_processed: int = 0
    destination: dict | None = None


def _estimate_bytes(con: duckdb.DuckDBPyConnection, refs: list[tuple[str, str, str]]) -> int:
    total = 0
    for ref in set(refs):
        if not duck_table_exists(con, *ref):
            raise not_found(f"Table {ref[0]}:{ref[1]}.{ref[2]}")
        rel = con.table(qualified(*ref))
        rows = one(con, f"SELECT count(*) FROM {qualified(*ref)}")[0]
        total += rows * 8 * len(rel.columns)
    return total


def _fields(rel: duckdb.DuckDBPyRelation) -> list[dict]:
    return [duckdb_to_field(n, t) for n, t in zip(rel.columns, rel.types, strict=True)]


def _run_statement(con: duckdb.DuckDBPyConnection, stmt: Statement, result: QueryResult) -> None:
    rel = con.sql(stmt.sql, params=stmt.binds or None)
    result.kind = stmt.kind
    if stmt.kind == "SELECT" and rel is not None:
        result.fields = _fields(rel)
        result.table = rel.to_arrow_table()
    elif stmt.is_dml and rel is not None:
        row = next(iter(rel.fetchall()), None)
        result.dml_rows = int(row[0]) if row else 0


def _dry_run(con: duckdb.DuckDBPyConnection, stmt: Statement, result: QueryResult) -> None:
    result.kind = stmt.kind
    if stmt.kind == "SELECT":
        # LIMIT 0 binds and plans the query (so bad SQL still fails) without reading rows.
        rel = con.sql(f"SELECT * FROM ({stmt.sql}) AS __dry LIMIT 0", params=stmt.binds or None)
        result.fields = _fields(rel)


def _duck_error(exc: duckdb.Error) -> ApiError:
    text = engine_message(exc)
    if isinstance(exc, duckdb.CatalogException) and "does not exist" in text:
        return not_found(text)
    return invalid_query(text)


def run_query(con: duckdb.DuckDBPyConnection, project: str, cfg: dict) -> QueryResult:
    """Execute (or dry-run) ``configuration.query``; raises ApiError on failure."""
    statements = translate(
        cfg.get("query", ""), project, cfg.get("defaultDataset"),
        cfg.get("queryParameters"), cfg.get("parameterMode"),
    )
    result = QueryResult(kind="SELECT")
    for proj, dataset in {(ref[0], ref[1]) for stmt in statements for ref in stmt.tables}:
        get_dataset(con, proj, dataset)  # "Not found: Dataset p:d", as BigQuery words it
    refs = [ref for stmt in statements for ref in stmt.tables if stmt.kind == "SELECT"]
    try:
        if cfg.get("dryRun"):
            result.bytes_processed = _estimate_bytes(con, refs)
            _dry_run(con, statements[-1], result)
            return result
        result.bytes_processed = sum(
            _estimate_bytes(con, [r]) for r in set(refs) if duck_table_exists(con, *r)
        )
        for stmt in statements:
            _run_statement(con, stmt, result)
    except duckdb.Error as exc:
        raise _duck_error(exc) from exc
    dest = cfg.get("destinationTable")
    if dest and result.table is not None:
        ref = (dest.get("projectId") or project, dest["datasetId"], dest["tableId"])
        write_arrow(con, ref, result.table, fields=result.fields, write=cfg.get("writeDisposition"),
                    create=cfg.get("createDisposition"), default_write="WRITE_EMPTY")
        result.destination = {"projectId": ref[0], "datasetId": ref[1], "tableId": ref[2]}
    return result
