"""Mapping between BigQuery schema fields, DuckDB column types and Arrow types.

Each BigQuery type gets exactly one DuckDB storage type, so a table's BigQuery
schema can be recovered from DuckDB alone; that keeps DDL run through queries
and tables created by loads consistent with tables created over REST.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

# Legacy and standard SQL spellings, normalised to the names real BigQuery returns.
_CANONICAL = {
    "INT64": "INTEGER",
    "INTEGER": "INTEGER",
    "FLOAT64": "FLOAT",
    "FLOAT": "FLOAT",
    "BOOL": "BOOLEAN",
    "BOOLEAN": "BOOLEAN",
    "STRUCT": "RECORD",
    "RECORD": "RECORD",
    "BIGDECIMAL": "BIGNUMERIC",
    "DECIMAL": "NUMERIC",
}

_SCALAR_DUCKDB = {
    "INTEGER": "BIGINT",
    "FLOAT": "DOUBLE",
    "NUMERIC": "DECIMAL(38, 9)",
    # DuckDB decimals stop at 38 digits; BIGNUMERIC keeps 20 integer digits here.
    "BIGNUMERIC": "DECIMAL(38, 18)",
    "BOOLEAN": "BOOLEAN",
    "STRING": "VARCHAR",
    "GEOGRAPHY": "VARCHAR",
    "BYTES": "BLOB",
    "DATE": "DATE",
    "DATETIME": "TIMESTAMP",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMPTZ",
    "JSON": "JSON",
    "INTERVAL": "INTERVAL",
}

_SCALAR_ARROW = {
    "INTEGER": pa.int64(),
    "FLOAT": pa.float64(),
    "NUMERIC": pa.decimal128(38, 9),
    "BIGNUMERIC": pa.decimal128(38, 18),
    "BOOLEAN": pa.bool_(),
    "STRING": pa.string(),
    "GEOGRAPHY": pa.string(),
    "JSON": pa.string(),
    "BYTES": pa.binary(),
    "DATE": pa.date32(),
    "DATETIME": pa.timestamp("us"),
    "TIME": pa.time64("us"),
    "TIMESTAMP": pa.timestamp("us", tz="UTC"),
}

_DUCKDB_ID_TO_BQ = {
    "boolean": "BOOLEAN",
    "double": "FLOAT",
    "float": "FLOAT",
    "varchar": "STRING",
    "uuid": "STRING",
    "blob": "BYTES",
    "date": "DATE",
    "time": "TIME",
    "timestamp with time zone": "TIMESTAMP",
    "interval": "INTERVAL",
    "null": "INTEGER",  # BigQuery types a bare NULL literal as INT64
}


def canonical_type(type_name: str) -> str:
    upper = (type_name or "STRING").upper()
    return _CANONICAL.get(upper, upper)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def field_duckdb_type(field: dict) -> str:
    """DuckDB column type for one BigQuery field, including mode REPEATED."""
    bq_type = canonical_type(field.get("type", "STRING"))
    if bq_type == "RECORD":
        members = ", ".join(
            f"{quote_ident(sub['name'])} {field_duckdb_type(sub)}" for sub in field.get("fields", [])
        )
        base = f"STRUCT({members})"
    elif bq_type in _SCALAR_DUCKDB:
        base = _SCALAR_DUCKDB[bq_type]
    else:
        raise ValueError(f"unsupported type {field.get('type')}")
    return f"{base}[]" if field.get("mode", "").upper() == "REPEATED" else base


def column_definitions(fields: list[dict]) -> str:
    """The column list of a CREATE TABLE statement for a BigQuery schema."""
    cols = []
    for field in fields:
        col = f"{quote_ident(field['name'])} {field_duckdb_type(field)}"
        if field.get("mode", "").upper() == "REQUIRED":
            col += " NOT NULL"
        cols.append(col)
    return ", ".join(cols)


def field_arrow_type(field: dict) -> pa.DataType:
    bq_type = canonical_type(field.get("type", "STRING"))
    if bq_type == "RECORD":
        base = pa.struct([pa.field(sub["name"], field_arrow_type(sub)) for sub in field.get("fields", [])])
    else:
        base = _SCALAR_ARROW[bq_type]
    return pa.list_(base) if field.get("mode", "").upper() == "REPEATED" else base


def arrow_schema(fields: list[dict]) -> pa.Schema:
    return pa.schema([pa.field(f["name"], field_arrow_type(f)) for f in fields])


def duckdb_to_field(name: str, dtype: Any, nullable: bool = True) -> dict:
    """BigQuery schema field for a DuckDBPyType (from a relation's ``types``)."""
    type_id = dtype.id
    if type_id in ("list", "array"):
        child = duckdb_to_field(name, dtype.children[0][1])
        child["mode"] = "REPEATED"
        return child
    field: dict = {"name": name, "mode": "NULLABLE" if nullable else "REQUIRED"}
    if type_id == "struct":
        field["type"] = "RECORD"
        field["fields"] = [duckdb_to_field(sub, sub_type) for sub, sub_type in dtype.children]
    elif type_id == "decimal":
        scale = dict(dtype.children)["scale"]
        field["type"] = "NUMERIC" if scale <= 9 else "BIGNUMERIC"
    elif type_id == "varchar" and str(dtype) == "JSON":
        field["type"] = "JSON"
    elif "int" in type_id:
        field["type"] = "INTEGER"
    elif type_id.startswith("timestamp") and type_id != "timestamp with time zone":
        field["type"] = "DATETIME"
    else:
        field["type"] = _DUCKDB_ID_TO_BQ.get(type_id, "STRING")
    return field


def normalize_fields(fields: list[dict]) -> list[dict]:
    """Schema fields as BigQuery echoes them: canonical type, explicit mode."""
    out = []
    for field in fields:
        norm = dict(field)
        norm["type"] = canonical_type(field.get("type", "STRING"))
        norm["mode"] = (field.get("mode") or "NULLABLE").upper()
        if norm["type"] == "RECORD":
            norm["fields"] = normalize_fields(field.get("fields", []))
        out.append(norm)
    return out
