"""Between BigQuery tables and ours: the fields a read selects, a table's description, Parquet to load."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
from google.cloud import bigquery

from domain.types.errors import InvalidSpec
from domain.types.tables import ColumnInfo, TableInfo

_NUMERIC_TYPES = frozenset({"INT64", "INTEGER", "FLOAT64", "FLOAT", "NUMERIC", "BIGNUMERIC", "BOOL", "BOOLEAN"})


def selected_fields(bq_table: bigquery.Table, columns: list[str] | None) -> list[bigquery.SchemaField] | None:
    if not columns:
        return None
    unknown = sorted(set(columns) - {f.name for f in bq_table.schema})
    if unknown:
        raise InvalidSpec(f"unknown column(s) {unknown} in table {bq_table.table_id!r}", {"missing": unknown})
    # In table order: the client parses each row by position against the fields it asked for,
    # and tabledata.list may answer in table order whatever order was requested.
    return [f for f in bq_table.schema if f.name in set(columns)]


def table_info(name: str, bq_table: bigquery.Table) -> TableInfo:
    columns = tuple(
        # A REPEATED field holds a list per row, whatever its element type: not a number to train on.
        ColumnInfo(f.name, f.field_type, f.field_type.upper() in _NUMERIC_TYPES and f.mode != "REPEATED",
                   f.mode != "REQUIRED")
        for f in bq_table.schema
    )
    # num_rows leaves out a streaming buffer; this adapter writes only by load jobs, so it is exact.
    # The name as stored: table names are case-sensitive, so it is the one asked for, never another spelling.
    return TableInfo(bq_table.table_id or name, columns, int(bq_table.num_rows or 0))


def parquet_bytes(rows: pa.Table) -> bytes:
    sink = io.BytesIO()
    # BigQuery keeps microseconds: coerce pandas' nanosecond timestamps instead of failing the load.
    pq.write_table(rows, sink, coerce_timestamps="us", allow_truncated_timestamps=True)
    return sink.getvalue()
