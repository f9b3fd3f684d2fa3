"""Which of a batch's keys a BigQuery table already holds: one query over those keys only.

append_new used to read the table's whole key column for every batch. A signals table grows by a
batch at a time, so each write cost more than the last (and tabledata.list pages cost a request
per page). The query names the batch's keys as an array parameter: what comes back is at most the
batch, whatever the table's size.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from google.cloud import bigquery

from adapters.bigquery.deadlines import Call
from domain.types.identifiers import sql_identifier

# Key types with a query parameter here; any other key type falls back to reading the column.
_PARAMETER_TYPES = {pa.string(): "STRING", pa.large_string(): "STRING", pa.int64(): "INT64", pa.int32(): "INT64"}


def parameter_type(key_type: pa.DataType) -> str | None:
    return _PARAMETER_TYPES.get(key_type)


def present_keys(client: bigquery.Client, table: bigquery.TableReference, key: str, values: list[Any],
                 key_type: str, location: str | None, calls: Call, timeout: float) -> list[Any]:
    """The `values` already in `table.key` (NotFound when the table does not exist yet).

    A failed lookup is not tried again under a new job id here (job_retry=None): it reads only, and the
    caller's batch is retried as a whole, with backoff, when the error is transient."""
    column = f"`{sql_identifier(key, 'column')}`"
    sql = (f"SELECT DISTINCT {column} AS k FROM `{table.project}.{table.dataset_id}.{table.table_id}` "
           f"WHERE {column} IN UNNEST(@keys)")
    config = bigquery.QueryJobConfig(query_parameters=[bigquery.ArrayQueryParameter("keys", key_type, values)])
    job = client.query(sql, job_config=config, location=location, retry=calls.retry, timeout=calls.timeout,
                       job_retry=None)
    rows = job.result(retry=calls.retry, timeout=timeout, job_retry=None)
    return [row["k"] for row in rows]
