"""BigQuery that answers only 503: each call gives up within its own deadline as a TransientError (a 503
`transient` at the API, a retried then failed job with the cause), never after the client's 10 minutes.

The warehouses here keep their default deadlines: those are what the daemon runs with.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from adapters.bigquery.warehouse import BigQueryWarehouse
from domain.types.errors import TransientError
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest
from emulators.bigquery.server import BigQueryEmulator
from emulators.gcs.server import GcsEmulatorThread
from tests.integration.test_bigquery_warehouse import admin

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]
REFUSE_ALL = {"error_rate": 1.0, "status": 503, "operations": ["*"]}
ANONYMOUS = {"credentials": AnonymousCredentials()}


@pytest.fixture
def urls() -> Iterator[tuple[str, str]]:
    """A private pair (GCS, BigQuery loading from it), so the faults reach no other test."""
    with GcsEmulatorThread(host="127.0.0.1", port=0) as gcs, BigQueryEmulator(gcs_url=gcs.url) as bq:
        yield gcs.url, bq.url


def warehouse_on(url: str) -> BigQueryWarehouse:
    client = bigquery.Client(project="test", client_options={"api_endpoint": url}, **ANONYMOUS)
    return BigQueryWarehouse(client, f"mlplane_down_{uuid.uuid4().hex[:8]}")


def staged_file(gcs_url: str, tmp_path) -> str:
    pq.write_table(pa.table({"id": [1, 2]}), tmp_path / "part.parquet")
    gcs = storage.Client(project="test", client_options={"api_endpoint": gcs_url}, **ANONYMOUS)
    bucket = gcs.create_bucket("staged")
    bucket.blob("part.parquet").upload_from_filename(tmp_path / "part.parquet")
    return "gs://staged/part.parquet"


async def test_describe_gives_up_in_seconds_with_a_transient_error(urls: tuple[str, str]) -> None:
    warehouse = warehouse_on(urls[1])
    await warehouse.list_tables()  # the dataset exists; now BigQuery goes away
    admin(urls[1], "POST", "faults", REFUSE_ALL)
    started = time.monotonic()
    with pytest.raises(TransientError) as refused:
        await warehouse.describe("events")
    assert time.monotonic() - started < 20
    assert refused.value.message.startswith("BigQuery is unavailable for now:")
    assert "503" in refused.value.message or "navailable" in refused.value.message.split(":", 1)[1]


async def test_a_commit_refused_by_every_jobs_insert_gives_up_with_a_transient_error(urls, tmp_path) -> None:
    warehouse = warehouse_on(urls[1])
    uri = staged_file(urls[0], tmp_path)
    await warehouse.list_tables()
    admin(urls[1], "POST", "faults", {**REFUSE_ALL, "operations": ["jobs.insert"]})
    started = time.monotonic()
    with pytest.raises(TransientError, match="BigQuery is unavailable for now"):
        await warehouse.load_parquet(LoadRequest("events", ((uri,),), WriteMode.APPEND, Dedupe.NONE, (), "ing_down"))
    assert time.monotonic() - started < 60
    admin(urls[1], "DELETE", "faults")
    # The retried commit (same load id) goes through once BigQuery is back.
    assert await warehouse.load_parquet(LoadRequest("events", ((uri,),), WriteMode.APPEND, Dedupe.NONE, (),
                                                    "ing_down")) == 2
