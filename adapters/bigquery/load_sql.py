"""The SQL of a commit's query job (loads.py): the staged rows de-duplicated, and the upsert as one rewrite.

Every identifier is validated and quoted; no value is pasted into the text.
"""

from __future__ import annotations

from google.cloud import bigquery

from domain.types.identifiers import sql_identifier
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest


def incoming_rows(request: LoadRequest, scratch: bigquery.TableReference) -> str:
    """The staged rows, de-duplicated: BigQuery does it in one query over every shard's files at once."""
    dedupe = Dedupe.KEYS if request.mode is WriteMode.UPSERT else request.dedupe
    if dedupe is Dedupe.KEYS:
        partition = ", ".join(_keys(request))
        return f"SELECT * FROM {_name(scratch)} WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY {partition}) = 1"
    return f"SELECT {'DISTINCT ' if dedupe is Dedupe.EXACT else ''}* FROM {_name(scratch)}"


def write_sql(request: LoadRequest, incoming: str, scratch: bigquery.TableReference,
              target: bigquery.TableReference, existing: list[str]) -> str:
    keys = _keys(request)
    if request.mode is not WriteMode.UPSERT or not existing:
        return incoming
    # Upsert as one rewrite: the rows whose key is not incoming, then the incoming rows.
    listed = ", ".join(f"`{sql_identifier(c, 'column')}`" for c in existing)
    match = " AND ".join(f"s.{k} = t.{k}" for k in keys)
    return (f"SELECT {listed} FROM {_name(target)} t WHERE NOT EXISTS (SELECT 1 FROM {_name(scratch)} s "
            f"WHERE {match}) UNION ALL SELECT {listed} FROM ({incoming})")


def _keys(request: LoadRequest) -> list[str]:
    return [f"`{sql_identifier(k, 'column')}`" for k in request.keys]


def _name(table: bigquery.TableReference) -> str:
    return f"`{table.project}.{table.dataset_id}.{table.table_id}`"
