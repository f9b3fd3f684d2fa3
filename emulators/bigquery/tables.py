"""Table catalog. DuckDB is the source of truth for columns; ``__bq_meta.tables``
keeps what DuckDB cannot (descriptions, labels, creation time, schema-less tables).
Tables created by SQL DDL or loads therefore appear without extra bookkeeping.
"""

from __future__ import annotations

import json

import duckdb

from .bqtypes import column_definitions, duckdb_to_field, normalize_fields
from .datasets import get_dataset, now_ms
from .engine import META_SCHEMA, bigquery_name, duck_name, duck_table_exists, one, qualified, schema_name
from .errors import duplicate, invalid, not_found
from .names import check_field_names

_ALIASES = {"GEOGRAPHY": "STRING"}


def _meta(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str) -> dict | None:
    row = one(
        con,
        f"SELECT resource FROM {META_SCHEMA}.tables WHERE project = ? AND dataset = ? AND table_id = ?",
        [project, dataset, table],
    )
    return json.loads(row[0]) if row else None


def _save_meta(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str, res: dict) -> None:
    one(
        con,
        f"INSERT OR REPLACE INTO {META_SCHEMA}.tables VALUES (?, ?, ?, ?)",
        [project, dataset, table, json.dumps(res)],
    )


def _same_shape(a: dict, b: dict) -> bool:
    kind = (_ALIASES.get(a["type"], a["type"]), _ALIASES.get(b["type"], b["type"]))
    if a["name"].lower() != b["name"].lower() or kind[0] != kind[1]:
        return False
    if (a["mode"] == "REPEATED") != (b["mode"] == "REPEATED"):
        return False
    subs_a, subs_b = a.get("fields", []), b.get("fields", [])
    return len(subs_a) == len(subs_b) and all(_same_shape(x, y) for x, y in zip(subs_a, subs_b, strict=True))


def duck_fields(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str) -> list[dict]:
    """BigQuery fields derived from the DuckDB table's column types."""
    rel = con.table(qualified(project, dataset, table))
    nullable = dict(
        con.execute(
            "SELECT column_name, is_nullable = 'YES' FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema_name(project, dataset), duck_name(table)],
        ).fetchall()
    )
    return [duckdb_to_field(n, t, nullable.get(n, True)) for n, t in zip(rel.columns, rel.types, strict=True)]


def table_fields(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str) -> list[dict]:
    meta = _meta(con, project, dataset, table)
    stored = normalize_fields(((meta or {}).get("schema") or {}).get("fields", []))
    if not duck_table_exists(con, project, dataset, table):
        if meta is None:
            raise not_found(f"Table {project}:{dataset}.{table}")
        return stored
    derived = duck_fields(con, project, dataset, table)
    if len(stored) == len(derived) and all(_same_shape(s, d) for s, d in zip(stored, derived, strict=True)):
        return stored
    return derived


def _table_type(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str) -> str:
    row = one(
        con,
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema_name(project, dataset), duck_name(table)],
    )
    return "VIEW" if row and row[0] == "VIEW" else "TABLE"


def get_table(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str) -> dict:
    get_dataset(con, project, dataset)
    fields = table_fields(con, project, dataset, table)
    meta = _meta(con, project, dataset, table) or {"creationTime": now_ms()}
    kind = _table_type(con, project, dataset, table)
    rows = 0
    if kind == "TABLE" and duck_table_exists(con, project, dataset, table):
        rows = one(con, f"SELECT count(*) FROM {qualified(project, dataset, table)}")[0]
    return {
        **meta,
        "kind": "bigquery#table",
        "id": f"{project}:{dataset}.{table}",
        "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table},
        "schema": {"fields": fields},
        "numRows": str(rows),
        "numBytes": str(rows * 8 * max(len(fields), 1)),
        "type": kind,
        "location": meta.get("location", "US"),
        "lastModifiedTime": meta.get("lastModifiedTime", meta["creationTime"]),
        "etag": meta.get("etag", meta["creationTime"]),
    }


def table_exists(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str) -> bool:
    return _meta(con, project, dataset, table) is not None or duck_table_exists(con, project, dataset, table)


def create_table(con: duckdb.DuckDBPyConnection, project: str, dataset: str, body: dict, view_sql: str | None):
    ref = body.get("tableReference") or {}
    table = ref.get("tableId")
    if not table:
        raise invalid("tableReference.tableId is required")
    get_dataset(con, project, dataset)
    if table_exists(con, project, dataset, table):
        raise duplicate(f"Table {project}:{dataset}.{table}")
    fields = normalize_fields((body.get("schema") or {}).get("fields", []))
    check_field_names(fields)
    if view_sql is not None:
        con.execute(f"CREATE VIEW {qualified(project, dataset, table)} AS {view_sql}")
    elif fields:
        con.execute(f"CREATE TABLE {qualified(project, dataset, table)} ({column_definitions(fields)})")
    stamp = now_ms()
    meta = {**body, "schema": {"fields": fields}, "creationTime": stamp, "lastModifiedTime": stamp}
    meta["tableReference"] = {"projectId": project, "datasetId": dataset, "tableId": table}
    _save_meta(con, project, dataset, table, meta)
    return get_table(con, project, dataset, table)


def ensure_table(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str, fields: list[dict]):
    """Create the DuckDB table (and metadata) for a write when it does not exist yet."""
    get_dataset(con, project, dataset)
    if duck_table_exists(con, project, dataset, table):
        return
    fields = normalize_fields(fields)
    check_field_names(fields)
    con.execute(f"CREATE TABLE {qualified(project, dataset, table)} ({column_definitions(fields)})")
    meta = _meta(con, project, dataset, table) or {"creationTime": now_ms()}
    meta["schema"] = {"fields": fields}
    _save_meta(con, project, dataset, table, meta)


def list_tables(con: duckdb.DuckDBPyConnection, project: str, dataset: str) -> list[dict]:
    get_dataset(con, project, dataset)
    names = {bigquery_name(r[0]) for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema_name(project, dataset)]
    ).fetchall()}
    names |= {r[0] for r in con.execute(
        f"SELECT table_id FROM {META_SCHEMA}.tables WHERE project = ? AND dataset = ?", [project, dataset]
    ).fetchall()}
    return [
        {
            "kind": "bigquery#table",
            "id": f"{project}:{dataset}.{name}",
            "tableReference": {"projectId": project, "datasetId": dataset, "tableId": name},
            "type": _table_type(con, project, dataset, name),
            "creationTime": ((_meta(con, project, dataset, name) or {}).get("creationTime") or now_ms()),
        }
        for name in sorted(names)
    ]


def delete_table(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str) -> None:
    get_dataset(con, project, dataset)
    if not table_exists(con, project, dataset, table):
        raise not_found(f"Table {project}:{dataset}.{table}")
    kind = _table_type(con, project, dataset, table)
    con.execute(f"DROP {kind} IF EXISTS {qualified(project, dataset, table)}")
    con.execute(
        f"DELETE FROM {META_SCHEMA}.tables WHERE project = ? AND dataset = ? AND table_id = ?",
        [project, dataset, table],
    )


def patch_table(con: duckdb.DuckDBPyConnection, project: str, dataset: str, table: str, body: dict) -> dict:
    """Update descriptive fields and append new columns (BigQuery allows only additive changes)."""
    current = get_table(con, project, dataset, table)
    meta = _meta(con, project, dataset, table) or {"creationTime": current["creationTime"]}
    for key in ("description", "friendlyName", "labels", "expirationTime"):
        if key in body:
            meta[key] = body[key]
    if "schema" in body:
        new_fields = normalize_fields(body["schema"].get("fields", []))
        check_field_names(new_fields)
        known = {f["name"].lower() for f in current["schema"]["fields"]}
        for field in new_fields:
            if field["name"].lower() not in known and duck_table_exists(con, project, dataset, table):
                cols = column_definitions([{**field, "mode": "NULLABLE"}])
                con.execute(f"ALTER TABLE {qualified(project, dataset, table)} ADD COLUMN {cols}")
        meta["schema"] = {"fields": new_fields}
    meta["lastModifiedTime"] = meta["etag"] = now_ms()
    _save_meta(con, project, dataset, table, meta)
    return get_table(con, project, dataset, table)
