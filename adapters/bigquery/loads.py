"""Loads of staged Parquet objects (gs:// URIs) into a BigQuery table: one load job, then one query job.

Why two jobs and not a direct load: a load job cannot de-duplicate or upsert. So the staged
objects are loaded (WRITE_TRUNCATE) into a scratch table, and ONE query job writes the target
from it with `WRITE_APPEND` or `WRITE_TRUNCATE`; BigQuery applies a query job's result
atomically, so a replace (and the upsert, done as a rewrite) is seen whole or not at all.
Both job ids derive from the load id: a repeated commit meets BigQuery's 409 for the same job id
and waits for the job that exists instead of loading twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from google.api_core import exceptions as gexc
from google.cloud import bigquery

from domain.types.errors import TransientError
from domain.types.identifiers import sql_identifier
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest

Job = bigquery.LoadJob | bigquery.QueryJob


def load_staged(client: bigquery.Client, dataset: bigquery.DatasetReference, location: str | None,
                request: LoadRequest, timeout: float) -> int:
    tag = re.sub(r"[^A-Za-z0-9_-]", "_", request.load_id)[:900]
    target, scratch = dataset.table(request.table), dataset.table(f"_mlplane_stage_{tag.replace('-', '_')}")
    staging = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET,
                                     write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
    _once(client, location, f"mlplane-stage-{tag}", timeout, lambda job_id: client.load_table_from_uri(
        list(request.uris), scratch, job_id=job_id, job_config=staging, location=location))
    columns = _columns(client, target)
    write = (bigquery.WriteDisposition.WRITE_APPEND if request.mode is WriteMode.APPEND and columns
             else bigquery.WriteDisposition.WRITE_TRUNCATE)
    config = bigquery.QueryJobConfig(destination=target, write_disposition=write,
                                     create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED)
    incoming = _incoming(request, _name(scratch))
    sql = _sql(request, incoming, _name(scratch), _name(target), columns)
    job = _once(client, location, f"mlplane-commit-{tag}", timeout,
                # A fixed job id cannot be retried under the same id: the 409 path above is the retry.
                lambda job_id: client.query(sql, job_config=config, job_id=job_id, location=location, job_retry=None))
    rows = int(job.result(timeout=timeout, job_retry=None).total_rows or 0) if isinstance(job, bigquery.QueryJob) else 0
    if request.mode is WriteMode.UPSERT and columns:  # the rewrite's rows are the whole table: count the new ones
        rows = _count(client, location, tag, incoming, timeout)
    client.delete_table(scratch, not_found_ok=True)
    return rows


def _count(client: bigquery.Client, location: str | None, tag: str, incoming: str, timeout: float) -> int:
    """A job with a fixed id too: a redelivered commit, whose scratch table is gone, reads the first answer."""
    job = _once(client, location, f"mlplane-count-{tag}", timeout, lambda job_id: client.query(
        f"SELECT COUNT(*) FROM ({incoming})", job_id=job_id, location=location, job_retry=None))
    if not isinstance(job, bigquery.QueryJob):
        raise TransientError(f"job id mlplane-count-{tag} is taken by a {job.job_type} job", {"load_id": tag})
    return int(next(iter(job.result(timeout=timeout, job_retry=None)))[0])


def _once(client: bigquery.Client, location: str | None, job_id: str, timeout: float,
          start: Callable[[str], Job]) -> Job:
    try:
        job = start(job_id)
    except gexc.Conflict:  # this load (or commit) was started before: wait for that job instead
        job = client.get_job(job_id, location=location)
    if isinstance(job, bigquery.QueryJob):
        job.result(timeout=timeout, job_retry=None)
    else:
        job.result(timeout=timeout)
    return job


def _columns(client: bigquery.Client, table: bigquery.TableReference) -> list[str]:
    try:
        return [f.name for f in client.get_table(table).schema]
    except gexc.NotFound:
        return []


def _keys(request: LoadRequest) -> list[str]:
    return [f"`{sql_identifier(k, 'column')}`" for k in request.keys]


def _incoming(request: LoadRequest, scratch: str) -> str:
    """The staged rows, de-duplicated: BigQuery does it in one query over every shard's files at once."""
    dedupe = Dedupe.KEYS if request.mode is WriteMode.UPSERT else request.dedupe
    if dedupe is Dedupe.KEYS:
        partition = ", ".join(_keys(request))
        return f"SELECT * FROM {scratch} WHERE TRUE QUALIFY ROW_NUMBER() OVER (PARTITION BY {partition}) = 1"
    return f"SELECT {'DISTINCT ' if dedupe is Dedupe.EXACT else ''}* FROM {scratch}"


def _sql(request: LoadRequest, incoming: str, scratch: str, target: str, existing: list[str]) -> str:
    keys = _keys(request)
    if request.mode is not WriteMode.UPSERT or not existing:
        return incoming
    # Upsert as one rewrite: the rows whose key is not incoming, then the incoming rows.
    listed = ", ".join(f"`{sql_identifier(c, 'column')}`" for c in existing)
    match = " AND ".join(f"s.{k} = t.{k}" for k in keys)
    return (f"SELECT {listed} FROM {target} t WHERE NOT EXISTS (SELECT 1 FROM {scratch} s WHERE {match}) "
            f"UNION ALL SELECT {listed} FROM ({incoming})")


def _name(table: bigquery.TableReference) -> str:
    return f"`{table.project}.{table.dataset_id}.{table.table_id}`"
