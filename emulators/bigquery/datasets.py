"""Dataset catalog: metadata rows in ``__bq_meta.datasets`` plus one DuckDB schema each."""

from __future__ import annotations

import json
import time

import duckdb

from .bqtypes import quote_ident
from .engine import META_SCHEMA, one, schema_name
from .errors import ApiError, duplicate, invalid, not_found

DEFAULT_LOCATION = "US"


def now_ms() -> str:
    return str(int(time.time() * 1000))


def _load(con: duckdb.DuckDBPyConnection, project: str, dataset: str) -> dict | None:
    row = one(
        con,
        f"SELECT resource FROM {META_SCHEMA}.datasets WHERE project = ? AND dataset = ?", [project, dataset]
    )
    return json.loads(row[0]) if row else None


def _save(con: duckdb.DuckDBPyConnection, project: str, dataset: str, resource: dict) -> None:
    one(
        con,
        f"INSERT OR REPLACE INTO {META_SCHEMA}.datasets VALUES (?, ?, ?)",
        [project, dataset, json.dumps(resource)],
    )


def get_dataset(con: duckdb.DuckDBPyConnection, project: str, dataset: str) -> dict:
    resource = _load(con, project, dataset)
    if resource is None:
        raise not_found(f"Dataset {project}:{dataset}")
    return resource


def create_dataset(con: duckdb.DuckDBPyConnection, project: str, body: dict) -> dict:
    ref = body.get("datasetReference") or {}
    dataset = ref.get("datasetId")
    project = ref.get("projectId") or project
    if not dataset or "." in dataset:
        raise invalid(f"Invalid dataset ID {dataset!r}")
    if _load(con, project, dataset) is not None:
        raise duplicate(f"Dataset {project}:{dataset}")
    stamp = now_ms()
    resource = {
        **body,
        "kind": "bigquery#dataset",
        "id": f"{project}:{dataset}",
        "datasetReference": {"projectId": project, "datasetId": dataset},
        "location": body.get("location") or DEFAULT_LOCATION,
        "creationTime": stamp,
        "lastModifiedTime": stamp,
        "etag": stamp,
        "selfLink": f"/bigquery/v2/projects/{project}/datasets/{dataset}",
    }
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema_name(project, dataset))}")
    _save(con, project, dataset, resource)
    return resource


def list_datasets(con: duckdb.DuckDBPyConnection, project: str) -> list[dict]:
    rows = con.execute(
        f"SELECT resource FROM {META_SCHEMA}.datasets WHERE project = ? ORDER BY dataset", [project]
    ).fetchall()
    return [json.loads(r[0]) for r in rows]


def patch_dataset(con: duckdb.DuckDBPyConnection, project: str, dataset: str, body: dict) -> dict:
    resource = get_dataset(con, project, dataset)
    for key in ("description", "friendlyName", "labels", "defaultTableExpirationMs", "access"):
        if key in body:
            resource[key] = body[key]
    resource["lastModifiedTime"] = resource["etag"] = now_ms()
    _save(con, project, dataset, resource)
    return resource


def delete_dataset(con: duckdb.DuckDBPyConnection, project: str, dataset: str, contents: bool) -> None:
    get_dataset(con, project, dataset)
    schema = schema_name(project, dataset)
    count = one(
        con,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ?", [schema]
    )
    meta_count = one(
        con,
        f"SELECT count(*) FROM {META_SCHEMA}.tables WHERE project = ? AND dataset = ?", [project, dataset]
    )
    if not contents and ((count and count[0]) or (meta_count and meta_count[0])):
        raise ApiError("resourceInUse", f"Dataset {project}:{dataset} is still in use")
    con.execute(f"DROP SCHEMA IF EXISTS {quote_ident(schema)} CASCADE")
    con.execute(f"DELETE FROM {META_SCHEMA}.tables WHERE project = ? AND dataset = ?", [project, dataset])
    con.execute(f"DELETE FROM {META_SCHEMA}.datasets WHERE project = ? AND dataset = ?", [project, dataset])
