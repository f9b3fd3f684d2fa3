"""Where BigQuery emulator jobs write, through the official google-cloud-bigquery client: write and
create dispositions of load and query jobs, copy jobs and views, a reused job id that is a conflict
and never applied twice, and eight threads inserting at once without losing a row."""

from __future__ import annotations

import io
import threading

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from tests.emulators.bigquery_fixtures import PROJECT, make_client, unique
from tests.emulators.bigquery_support import CSV_BYTES, CSV_SCHEMA, count, load_csv

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(120)]

SF = bigquery.SchemaField


def test_load_write_and_create_dispositions(client: bigquery.Client, dataset: str) -> None:
    target = f"{dataset}.disp"
    load_csv(client, target, schema=CSV_SCHEMA, skip_leading_rows=1)
    load_csv(client, target, skip_leading_rows=1, write_disposition="WRITE_APPEND")
    assert count(client, target) == 6
    load_csv(client, target, skip_leading_rows=1, write_disposition="WRITE_TRUNCATE")
    assert count(client, target) == 3
    with pytest.raises(exceptions.Conflict):
        load_csv(client, target, skip_leading_rows=1, write_disposition="WRITE_EMPTY")
    assert count(client, target) == 3
    with pytest.raises(exceptions.NotFound):
        load_csv(client, f"{dataset}.never", schema=CSV_SCHEMA, skip_leading_rows=1,
                 create_disposition="CREATE_NEVER")
    with pytest.raises(exceptions.BadRequest):
        load_csv(client, f"{dataset}.noschema", skip_leading_rows=1)


def test_query_destination_table_write_dispositions(client: bigquery.Client, dataset: str) -> None:
    dest = f"{PROJECT}.{dataset}.dest"
    sql = "SELECT x FROM UNNEST(GENERATE_ARRAY(1, 5)) AS x"

    def run(disposition: str | None) -> None:
        config = bigquery.QueryJobConfig(destination=dest)
        if disposition:
            config.write_disposition = disposition
        client.query(sql, job_config=config).result()

    run(None)
    assert count(client, dest) == 5
    with pytest.raises(exceptions.Conflict):
        run("WRITE_EMPTY")
    run("WRITE_APPEND")
    assert count(client, dest) == 10
    run("WRITE_TRUNCATE")
    assert count(client, dest) == 5
    assert [f.field_type for f in client.get_table(dest).schema] == ["INTEGER"]


def test_copy_job_and_views(client: bigquery.Client, dataset: str) -> None:
    load_csv(client, f"{dataset}.src", schema=CSV_SCHEMA, skip_leading_rows=1)
    client.copy_table(f"{dataset}.src", f"{dataset}.copy").result()
    assert count(client, f"{dataset}.copy") == 3
    view = bigquery.Table(f"{PROJECT}.{dataset}.v")
    view.view_query = f"SELECT id, name FROM `{PROJECT}.{dataset}.src` WHERE score > 2"
    assert client.create_table(view).table_type == "VIEW"
    assert [tuple(r.values()) for r in client.query_and_wait(f"SELECT * FROM {dataset}.v")] == [(2, "bob")]


def test_duplicate_job_id_is_a_conflict_and_not_applied_twice(client: bigquery.Client, dataset: str) -> None:
    job_id = unique("load")
    config = bigquery.LoadJobConfig(source_format="CSV", schema=CSV_SCHEMA, skip_leading_rows=1)
    client.load_table_from_file(io.BytesIO(CSV_BYTES), f"{dataset}.dup", job_id=job_id, job_config=config).result()
    with pytest.raises(exceptions.Conflict):
        client.load_table_from_file(io.BytesIO(CSV_BYTES), f"{dataset}.dup", job_id=job_id, job_config=config)
    assert count(client, f"{dataset}.dup") == 3
    assert client.get_job(job_id).output_rows == 3
    query_id = unique("query")
    client.query("SELECT 1", job_id=query_id, job_retry=None).result()
    with pytest.raises(exceptions.Conflict):
        client.query("SELECT 2", job_id=query_id, job_retry=None)


def test_eight_threads_inserting_concurrently_lose_no_rows(bq_url: str, dataset: str) -> None:
    with make_client(bq_url) as setup:
        setup.create_table(bigquery.Table(f"{PROJECT}.{dataset}.conc", schema=[SF("w", "INT64"), SF("i", "INT64")]))
    failures: list[BaseException] = []

    def worker(worker_id: int) -> None:
        try:
            with make_client(bq_url) as bq:
                for batch in range(25):
                    rows = [{"w": worker_id, "i": batch * 20 + k} for k in range(20)]
                    assert bq.insert_rows_json(f"{dataset}.conc", rows) == []
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not failures and not any(t.is_alive() for t in threads)
    with make_client(bq_url) as bq:
        rows = list(bq.query_and_wait(f"SELECT w, count(DISTINCT i) AS n FROM {dataset}.conc GROUP BY w ORDER BY w"))
    assert [(r["w"], r["n"]) for r in rows] == [(n, 500) for n in range(8)]
