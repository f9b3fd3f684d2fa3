"""Loads of staged Parquet objects (gs:// URIs) into a BigQuery table: one load job, then one query job.

Why two jobs and not a direct load: a load job cannot de-duplicate or upsert. So the staged
objects are loaded (WRITE_TRUNCATE) into a scratch table, and ONE query job writes the target
from it with `WRITE_APPEND` or `WRITE_TRUNCATE`; BigQuery applies a query job's result
atomically, so a replace (and the upsert, done as a rewrite) is seen whole or not at all.
Both job ids derive from the load id: a repeated commit meets BigQuery's 409 for the same job id
and waits for the job that exists instead of loading twice. That also makes giving up safe: a
wait that runs out (deadlines.py) leaves the job to BigQuery, and the retried commit waits for it.
The scratch table is dropped once the commit is settled, succeeded or failed for good.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

from google.api_core import exceptions as gexc
from google.cloud import bigquery

from adapters.bigquery.deadlines import Calls
from adapters.bigquery.errors import is_transient
from adapters.bigquery.load_sql import incoming_rows, write_sql
from domain.types.errors import TransientError
from domain.types.ingestion import WriteMode
from domain.types.partitions import LoadRequest

Job = bigquery.LoadJob | bigquery.QueryJob
SCRATCH_PREFIX = "_mlplane_stage_"  # hidden from the catalog (dataset.py), which also sweeps old ones


def load_staged(client: bigquery.Client, dataset: bigquery.DatasetReference, location: str | None,
                request: LoadRequest, calls: Calls, job_timeout: float) -> int:
    tag = re.sub(r"[^A-Za-z0-9_-]", "_", request.load_id)[:900]
    commit = _Commit(client, dataset, location, calls, job_timeout, tag)
    try:
        rows = commit.run(request)
    except Exception as exc:
        if commit.settled(exc):  # no retry of this commit can use the scratch table: it is garbage now
            commit.drop_scratch()
        raise
    commit.drop_scratch()
    return rows


class _Commit:
    def __init__(self, client: bigquery.Client, dataset: bigquery.DatasetReference, location: str | None,
                 calls: Calls, job_timeout: float, tag: str) -> None:
        self._client, self._dataset, self._location = client, dataset, location
        self._calls, self._job_timeout, self._tag = calls, job_timeout, tag
        self.scratch = dataset.table(f"{SCRATCH_PREFIX}{tag.replace('-', '_')}")
        self._jobs: list[Job] = []  # every job this commit started or found, to tell how it ended

    def run(self, request: LoadRequest) -> int:
        staging = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET,
                                         write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE)
        self._once(f"mlplane-stage-{self._tag}", lambda job_id: self._client.load_table_from_uri(
            list(request.uris), self.scratch, job_id=job_id, job_config=staging, location=self._location,
            retry=self._calls.jobs.retry, timeout=self._calls.jobs.timeout))
        target = self._dataset.table(request.table)
        columns = self._columns(target)
        write = (bigquery.WriteDisposition.WRITE_APPEND if request.mode is WriteMode.APPEND and columns
                 else bigquery.WriteDisposition.WRITE_TRUNCATE)
        config = bigquery.QueryJobConfig(destination=target, write_disposition=write,
                                         create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED)
        incoming = incoming_rows(request, self.scratch)
        sql = write_sql(request, incoming, self.scratch, target, columns)
        job = self._once(f"mlplane-commit-{self._tag}", lambda job_id: self._query(sql, job_id, config))
        rows = int(self._answer(job).total_rows or 0) if isinstance(job, bigquery.QueryJob) else 0
        if request.mode is WriteMode.UPSERT and columns:  # the rewrite's rows are the whole table: count the new ones
            rows = self._count(incoming)
        return rows

    def settled(self, exc: BaseException) -> bool:
        """True when the failure is for good: a refusal, or a job of ours that ended in error (its fixed id
        cannot run again). Otherwise (BigQuery away, a wait that ran out) a job may still be running on the
        scratch table, and the retried commit needs it."""
        ended = any(job.state == "DONE" and job.error_result for job in self._jobs)
        return ended or not is_transient(exc)

    def drop_scratch(self) -> None:
        with contextlib.suppress(Exception):  # best effort: the dataset's sweep removes what is left
            self._client.delete_table(self.scratch, not_found_ok=True, retry=self._calls.catalog.retry,
                                      timeout=self._calls.catalog.timeout)

    def _count(self, incoming: str) -> int:
        """A job with a fixed id too: a redelivered commit, whose scratch table is gone, reads the first answer."""
        job = self._once(f"mlplane-count-{self._tag}",
                         lambda job_id: self._query(f"SELECT COUNT(*) FROM ({incoming})", job_id, None))
        if not isinstance(job, bigquery.QueryJob):
            raise TransientError(f"job id mlplane-count-{self._tag} is taken by a {job.job_type} job",
                                 {"load_id": self._tag})
        return int(next(iter(self._answer(job)))[0])

    def _answer(self, job: bigquery.QueryJob) -> bigquery.table.RowIterator:
        return job.result(retry=self._calls.jobs.retry, timeout=self._job_timeout, job_retry=None)

    def _query(self, sql: str, job_id: str, config: bigquery.QueryJobConfig | None) -> bigquery.QueryJob:
        # A fixed job id cannot be retried under the same id: the 409 path of _once is the retry.
        return self._client.query(sql, job_config=config, job_id=job_id, location=self._location, job_retry=None,
                                  retry=self._calls.jobs.retry, timeout=self._calls.jobs.timeout)

    def _once(self, job_id: str, start: Callable[[str], Job]) -> Job:
        try:
            job = start(job_id)
        except gexc.Conflict:  # this load (or commit) was started before: wait for that job instead
            found = self._client.get_job(job_id, location=self._location, retry=self._calls.job_lookup.retry,
                                         timeout=self._calls.job_lookup.timeout)
            if not isinstance(found, bigquery.LoadJob | bigquery.QueryJob):
                raise TransientError(f"job id {job_id} is taken by a {found.job_type} job",
                                     {"load_id": self._tag}) from None
            job = found
        self._jobs.append(job)
        if isinstance(job, bigquery.QueryJob):
            self._answer(job)
        else:
            job.result(retry=self._calls.jobs.retry, timeout=self._job_timeout)
        return job

    def _columns(self, table: bigquery.TableReference) -> list[str]:
        try:
            return [f.name for f in self._client.get_table(table, retry=self._calls.catalog.retry,
                                                           timeout=self._calls.catalog.timeout).schema]
        except gexc.NotFound:
            return []
