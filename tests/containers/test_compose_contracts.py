"""The compose services answer Google's official clients and redis-py the way the in-process emulators do.

Skipped with one line where no Docker engine answers (see conftest.py). Client libraries are imported
inside the tests, so collecting this module costs nothing when it skips.
"""

from __future__ import annotations

import os
import uuid

import pytest

# The first test also builds the image (pip installs duckdb and pyarrow): allow for a cold cache.
pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.mark.parametrize("size", [1024, 9 * 1024 * 1024], ids=["1KiB-multipart", "9MiB-resumable"])
def test_gcs_bucket_upload_download_list(gcs_url: str, size: int) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs_url})
    bucket = client.create_bucket(_unique("bucket"))
    data = os.urandom(size)

    bucket.blob("models/m.bin").upload_from_string(data)  # > 8 MiB goes through a resumable session

    assert bucket.blob("models/m.bin").download_as_bytes() == data  # the client also checks crc32c
    assert [blob.name for blob in client.list_blobs(bucket, prefix="models/")] == ["models/m.bin"]
    assert client.get_bucket(bucket.name).name == bucket.name


def test_bigquery_dataset_table_query_round_trip(bigquery_url: str) -> None:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(project="test", credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": bigquery_url})
    dataset = client.create_dataset(_unique("ds").replace("-", "_"))
    table = client.create_table(bigquery.Table(f"test.{dataset.dataset_id}.scores", schema=[
        bigquery.SchemaField("name", "STRING", mode="REQUIRED"),
        bigquery.SchemaField("score", "FLOAT64"),
    ]))

    assert client.insert_rows_json(table, [{"name": "a", "score": 1.5}, {"name": "b", "score": 2.5}]) == []
    job = client.query(
        f"SELECT name, score FROM `test.{dataset.dataset_id}.scores` WHERE score > @min ORDER BY name",
        job_config=bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("min", "FLOAT64", 2.0)]),
    )

    assert [(row["name"], row["score"]) for row in job.result()] == [("b", 2.5)]
    assert [t.table_id for t in client.list_tables(dataset)] == ["scores"]
    assert client.get_table(table).num_rows == 2


def test_redis_ping_and_round_trip(redis_container_url: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_container_url)
    try:
        assert client.ping() is True
        key = _unique("mlplane:containers")
        client.set(key, b"v", ex=60)
        assert client.get(key) == b"v"
    finally:
        client.close()
