"""BigQueryWarehouse: the Warehouse port on one BigQuery dataset (one dataset per environment).

Tables are described from their metadata, read with tabledata.list (no query job to pay for,
no BigQuery Storage API needed) and appended to by load jobs of Parquet bytes; the only query
is append_new's lookup of a batch's keys (key_lookup.py). Identifiers are validated, because
they name tables, columns and job ids. Blocking client calls run in worker threads, each kind with
its own retry deadline (deadlines.py); vendor errors are translated once (errors.py).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import anyio
import pyarrow as pa
import pyarrow.compute as pc
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import bigquery

from adapters.bigquery.column_names import column_name_problem
from adapters.bigquery.dataset import Dataset
from adapters.bigquery.deadlines import DEFAULT_DEADLINES, DEFAULT_JOB_TIMEOUT, DEFAULT_TIMEOUT, Calls, Deadlines
from adapters.bigquery.errors import translated
from adapters.bigquery.key_lookup import parameter_type, present_keys
from adapters.bigquery.loads import load_staged
from adapters.bigquery.tables import parquet_bytes, selected_fields, table_info
from domain.types.errors import TableNotFound, TransientError
from domain.types.identifiers import sql_identifier
from domain.types.partitions import LoadRequest
from domain.types.tables import TableInfo

T = TypeVar("T")


def new_append_job_id(table: str) -> str:
    return f"mlplane-append-{table}-{uuid.uuid4().hex}"


class BigQueryWarehouse:
    def __init__(self, client: bigquery.Client, dataset: str, location: str | None = None, *,
                 retry: Retry = bigquery.DEFAULT_RETRY, timeout: float = DEFAULT_TIMEOUT,
                 job_timeout: float = DEFAULT_JOB_TIMEOUT, deadlines: Deadlines = DEFAULT_DEADLINES,
                 job_ids: Callable[[str], str] = new_append_job_id) -> None:
        """`retry` gives the predicate and backoff; `deadlines` how long each kind of call keeps at it."""
        self._client = client  # nothing is fetched here: the dataset is checked on first use
        self._calls = Calls.of(retry, deadlines, timeout)
        self._dataset = bigquery.DatasetReference(client.project, sql_identifier(dataset, "dataset"))
        self._home = Dataset(client, self._dataset, location, self._calls.catalog)  # made again if it vanishes
        self._location = location
        self._job_timeout = job_timeout
        self._job_ids = job_ids

    @staticmethod
    def column_name_problem(name: str) -> str | None:
        """Why BigQuery would refuse a column named `name` (a reserved prefix, over 300 characters), or None."""
        return column_name_problem(name)

    async def list_tables(self) -> list[TableInfo]:
        names = await self._run(None, self._home.table_names)
        return [await self.describe(name) for name in names]

    async def describe(self, table: str) -> TableInfo:
        sql_identifier(table, "table")
        return table_info(table, await self._run(table, self._get_table, table))

    async def read(self, table: str, columns: Sequence[str] | None = None) -> pa.Table:
        sql_identifier(table, "table")
        wanted = [sql_identifier(c, "column") for c in columns] if columns else None
        return await self._run(table, self._read, table, wanted)

    async def append(self, table: str, rows: pa.Table) -> int:
        sql_identifier(table, "table")
        for name in rows.column_names:
            sql_identifier(name, "column")
        payload = await anyio.to_thread.run_sync(parquet_bytes, rows)
        # Chosen once per call: every resend of this load carries the same id, so BigQuery
        # refuses a second copy (409) instead of appending the rows twice.
        job_id = self._job_ids(table)
        return await self._run(table, self._load, table, payload, job_id)

    async def append_new(self, table: str, rows: pa.Table, key: str) -> int:
        """Appends the rows whose key the table does not hold yet (one per key), in one load job.

        The keys already there are asked for by one query over the batch's keys (key_lookup.py);
        a key type without a query parameter falls back to reading the key column.
        """
        sql_identifier(key, "column")
        seen = pa.array(await self._present(table, rows, key), type=rows.schema.field(key).type)
        fresh = rows.filter(pc.invert(pc.is_in(rows.column(key), value_set=seen)))
        firsts, kept = set(), []
        for index, value in enumerate(fresh.column(key).to_pylist()):
            if value not in firsts:
                firsts.add(value)
                kept.append(index)
        return await self.append(table, fresh.take(kept)) if kept else 0

    async def _present(self, table: str, rows: pa.Table, key: str) -> list[Any]:
        key_type = parameter_type(rows.schema.field(key).type)
        values = [v for v in dict.fromkeys(rows.column(key).to_pylist()) if v is not None]
        try:
            if key_type is None:
                return (await self.read(table, [key])).column(key).to_pylist()
            if not values:
                return []
            return await self._run(table, present_keys, self._client, self._dataset.table(table), key, values,
                                   key_type, self._location, self._calls.jobs, self._job_timeout)
        except TableNotFound:
            return []

    async def load_parquet(self, request: LoadRequest) -> int:
        """Staged objects must be gs:// URIs (the GCS artifact store's); see loads.py for the two jobs."""
        sql_identifier(request.table, "table")
        return await self._run(request.table, load_staged, self._client, self._dataset, self._location, request,
                               self._calls, self._job_timeout)

    async def _run(self, table: str | None, call: Callable[..., T], *args: object) -> T:
        with translated(table):
            if not self._home.ready:
                await anyio.to_thread.run_sync(self._home.ensure)
            try:
                return await anyio.to_thread.run_sync(call, *args)
            except gexc.NotFound as exc:
                if not self._home.is_gone(exc):
                    raise
                # Gone under a running daemon (an emulator restarted empty): make it again, then try once more.
                await anyio.to_thread.run_sync(self._home.ensure)
                return await anyio.to_thread.run_sync(call, *args)

    def _get_table(self, table: str) -> bigquery.Table:
        catalog = self._calls.catalog
        return self._client.get_table(self._dataset.table(table), retry=catalog.retry, timeout=catalog.timeout)

    def _read(self, table: str, columns: list[str] | None) -> pa.Table:
        bq_table = self._get_table(table)
        fields = selected_fields(bq_table, columns)
        rows = self._client.list_rows(bq_table, selected_fields=fields, retry=self._calls.data.retry,
                                      timeout=self._calls.data.timeout)
        data = rows.to_arrow(create_bqstorage_client=False)
        return data.select(columns) if columns else data

    def _load(self, table: str, payload: bytes, job_id: str) -> int:
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
        )
        try:
            job = self._client.load_table_from_file(
                io.BytesIO(payload), self._dataset.table(table), job_id=job_id, job_config=config,
                location=self._location, size=len(payload), timeout=self._calls.data.timeout)
        except gexc.Conflict:
            # An earlier send of this very load reached BigQuery but its answer was lost, and the
            # upload was resent: wait for the job that exists rather than load the rows again.
            job = self._existing_job(job_id)
        job.result(retry=self._calls.jobs.retry, timeout=self._job_timeout)
        return int(job.output_rows or 0)

    def _existing_job(self, job_id: str) -> bigquery.LoadJob:
        lookup = self._calls.job_lookup
        try:
            job = self._client.get_job(job_id, location=self._location, retry=lookup.retry, timeout=lookup.timeout)
        except gexc.NotFound as exc:  # not the table's fault: the job id is taken yet unseen
            raise TransientError(f"load job {job_id} exists but cannot be found yet", {"job_id": job_id}) from exc
        if not isinstance(job, bigquery.LoadJob):
            raise TransientError(f"job id {job_id} is taken by a {job.job_type} job", {"job_id": job_id})
        return job
