"""Execute load jobs: read staged files with DuckDB's readers and write them to a table.

Files arrive either as an upload (multipart/resumable) or fetched from a GCS
emulator; here they are local paths. CSV, newline-delimited JSON and Parquet are
supported; the schema comes from the job, else the existing table, else the file.
"""

from __future__ import annotations

import duckdb

from .bqtypes import field_duckdb_type, normalize_fields, quote_ident
from .engine import one
from .errors import engine_message, invalid, not_implemented
from .tables import table_exists, table_fields
from .writes import write_source

_WIDER_THAN_INT64 = frozenset({"UBIGINT", "HUGEINT", "UHUGEINT"})
_INT64_MAX = 2**63 - 1


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _paths(paths: list[str]) -> str:
    return "[" + ", ".join(_literal(p) for p in paths) + "]"


def _columns(fields: list[dict]) -> str:
    return "{" + ", ".join(f"{_literal(f['name'])}: {_literal(field_duckdb_type(f))}" for f in fields) + "}"


def _csv_source(paths: list[str], cfg: dict, fields: list[dict] | None) -> str:
    skip = int(cfg.get("skipLeadingRows") or 0)
    opts = [f"delim={_literal(cfg.get('fieldDelimiter') or ',')}"]
    if cfg.get("quote") is not None:
        opts.append(f"quote={_literal(cfg['quote'])}")
    if cfg.get("nullMarker") is not None:
        opts.append(f"nullstr={_literal(cfg['nullMarker'])}")
    if fields:
        opts += ["header=false", f"skip={skip}", f"columns={_columns(fields)}"]
    elif skip:
        # With autodetect the last skipped row is taken as the header, as BigQuery does.
        opts += ["header=true", f"skip={skip - 1}"]
    return f"SELECT * FROM read_csv({_paths(paths)}, {', '.join(opts)})"


def _source_sql(fmt: str, paths: list[str], cfg: dict, fields: list[dict] | None) -> str:
    if fmt == "CSV":
        return _csv_source(paths, cfg, fields)
    if fmt == "NEWLINE_DELIMITED_JSON":
        cols = f", columns={_columns(fields)}" if fields else ""
        return f"SELECT * FROM read_json({_paths(paths)}, format='newline_delimited'{cols})"
    if fmt == "PARQUET":
        return f"SELECT * FROM read_parquet({_paths(paths)})"
    raise not_implemented(f"sourceFormat {fmt} is not supported by the emulator")


def _target_fields(con: duckdb.DuckDBPyConnection, ref: tuple[str, str, str], cfg: dict) -> list[dict] | None:
    fields = normalize_fields((cfg.get("schema") or {}).get("fields", []))
    if fields:
        return fields
    truncating = (cfg.get("writeDisposition") or "").upper() == "WRITE_TRUNCATE"
    if table_exists(con, *ref) and not (truncating and cfg.get("autodetect")):
        return table_fields(con, *ref) or None
    return None


def _check_integer_range(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """A Parquet UINT64 column loads as INTEGER, BigQuery's one integer type (INT64): a value past its range
    fails the load naming the column and the value, not with a cast error that names neither."""
    rel = con.sql(f"SELECT * FROM ({source}) AS __src LIMIT 0")
    for name, dtype in zip(rel.columns, rel.types, strict=True):
        if str(dtype) not in _WIDER_THAN_INT64:
            continue
        column = quote_ident(name)
        row = one(con, f"SELECT {column} FROM ({source}) AS __src "
                       f"WHERE {column} > {_INT64_MAX} OR {column} < {-_INT64_MAX - 1} LIMIT 1")
        if row is not None:
            raise invalid(f"Error while reading data, error message: Parquet column '{name}' has a value, {row[0]}, "
                          "out of the range of INT64")


def run_load(con: duckdb.DuckDBPyConnection, project: str, cfg: dict, paths: list[str]) -> int:
    """Load ``paths`` per ``configuration.load``; returns the number of rows written."""
    dest = cfg.get("destinationTable") or {}
    if not dest.get("datasetId") or not dest.get("tableId"):
        raise invalid("configuration.load.destinationTable is required")
    ref = (dest.get("projectId") or project, dest["datasetId"], dest["tableId"])
    fmt = (cfg.get("sourceFormat") or "CSV").upper()
    fields = _target_fields(con, ref, cfg)
    if fields is None and fmt == "CSV" and not cfg.get("autodetect"):
        raise invalid("No schema specified on job or table.")
    # Parquet carries its own types; casting happens on insert into the target columns.
    read_fields = None if fmt == "PARQUET" else fields
    source = _source_sql(fmt, paths, cfg, read_fields)
    try:
        if fmt == "PARQUET":
            _check_integer_range(con, source)
        return write_source(con, ref, source, fields=fields, write=cfg.get("writeDisposition"),
                            create=cfg.get("createDisposition"))
    except duckdb.Error as exc:
        raise invalid(f"Error while reading data: {engine_message(exc)}") from exc
