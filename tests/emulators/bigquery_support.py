"""Query and load helpers shared by the BigQuery emulator suites: rows of a query as tuples, a
table's row count, and a small CSV (with its schema) loaded through a load job."""

from __future__ import annotations

import io

from google.cloud import bigquery

SF = bigquery.SchemaField
CSV_SCHEMA = [SF("id", "INT64"), SF("name", "STRING"), SF("score", "FLOAT64")]
CSV_BYTES = b"id,name,score\n1,ann,1.5\n2,bob,2.5\n3,cy,\n"


def rows_of(client: bigquery.Client, sql: str, **kwargs) -> list[tuple]:
    return [tuple(row.values()) for row in client.query(sql, **kwargs).result()]


def count(client: bigquery.Client, table: str) -> int:
    return next(iter(client.query_and_wait(f"SELECT count(*) FROM {table}")))[0]


def load_csv(client: bigquery.Client, table: str, **config) -> bigquery.LoadJob:
    job_config = bigquery.LoadJobConfig(source_format="CSV", **config)
    return client.load_table_from_file(io.BytesIO(CSV_BYTES), table, job_config=job_config).result()
