"""BigQueryWarehouse against the BigQuery emulator: volume, idempotent loads, injected faults.

The contract suite covers the port; these tests cover what only BigQuery brings: paged reads of
a large table, load jobs keyed by our own job id, and the client's retries under 503s.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from adapters.bigquery.warehouse import BigQueryWarehouse
from emulators.bigquery.server import BigQueryEmulator

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

# The default policy backs off for up to 10 minutes; tests want the same predicate, sooner.
FAST_RETRY = bigquery.DEFAULT_RETRY.with_delay(initial=0.01, maximum=0.1, multiplier=2.0).with_timeout(30.0)
START_US = 1_700_000_000_000_000  # 2023-11-14, in microseconds since the epoch


@pytest.fixture(scope="module")
def bigquery_url() -> Iterator[str]:
    with BigQueryEmulator(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


@pytest.fixture
def faulty_url() -> Iterator[str]:
    """A private emulator per fault test, so injected faults never leak into other tests."""
    with BigQueryEmulator(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


def make_client(url: str, session: requests.Session | None = None) -> bigquery.Client:
    return bigquery.Client(project="test", credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": url}, _http=session)


def new_warehouse(client: bigquery.Client, dataset: str | None = None) -> BigQueryWarehouse:
    dataset = dataset or f"mlplane_it_{uuid.uuid4().hex[:10]}"
    return BigQueryWarehouse(client, dataset, retry=FAST_RETRY, timeout=20.0)


def admin(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{url}/_emulator/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read() or b"{}"))


def sample(n: int, first_id: int = 0) -> pa.Table:
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    return pa.table({
        "id": pa.array(ids),
        "score": pa.array(ids * 0.25, mask=ids % 7 == 0),  # every 7th score is null
        "name": pa.array([f"name-{i}" for i in ids]),
        "ts": pa.array(START_US + ids * 1_000_003, pa.timestamp("us", tz="UTC")),
    })


class LoseFirstUploadAnswer(requests.adapters.HTTPAdapter):
    """Delivers the first load upload, then drops BigQuery's answer as a reset connection would."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        response = super().send(request, *args, **kwargs)
        if "/upload/bigquery/" in (request.url or "") and not self.dropped:
            self.dropped += 1
            raise requests.ConnectionError("connection reset after the upload was delivered")
        return response


async def test_200k_rows_round_trip_with_types_and_nulls_intact(bigquery_url: str) -> None:
    warehouse = new_warehouse(make_client(bigquery_url))
    rows = sample(200_000)
    assert await warehouse.append("events", rows) == 200_000
    back = await warehouse.read("events")
    assert back.schema.types == rows.schema.types
    # Compare content, not order: BigQuery promises no row order to tabledata.list.
    assert back.sort_by("id").equals(rows)
    assert back.column("score").null_count == rows.column("score").null_count > 0
    info = await warehouse.describe("events")
    assert info.row_count == 200_000
    assert [(c.type, c.numeric) for c in info.columns] == [
        ("INTEGER", True), ("FLOAT", True), ("STRING", False), ("TIMESTAMP", False)]


async def test_a_load_resent_with_the_same_job_id_is_applied_once(bigquery_url: str) -> None:
    lossy = LoseFirstUploadAnswer()
    session = requests.Session()
    session.mount("http://", lossy)
    client = make_client(bigquery_url, session)
    dataset = f"mlplane_it_{uuid.uuid4().hex[:10]}"
    warehouse = new_warehouse(client, dataset)
    assert await warehouse.append("events", sample(3)) == 3
    assert lossy.dropped == 1  # the first answer really was lost and the upload was resent
    assert (await warehouse.read("events", ["id"])).column("id").to_pylist() == [0, 1, 2]
    loads = [job for job in client.list_jobs() if job.job_type == "load" and job.destination.dataset_id == dataset]
    assert len(loads) == 1 and loads[0].output_rows == 3


async def test_append_read_and_describe_succeed_through_injected_503s(faulty_url: str) -> None:
    warehouse = new_warehouse(make_client(faulty_url))
    admin(faulty_url, "POST", "faults", {"error_rate": 0.2, "status": 503, "seed": 1})
    first, second = sample(1_000), sample(500, first_id=1_000)
    assert await warehouse.append("events", first) == 1_000
    assert await warehouse.append("events", second) == 500
    back = await warehouse.read("events", ["ts", "id"])
    assert back.column_names == ["ts", "id"]
    assert back.sort_by("id").equals(pa.concat_tables([first, second]).select(["ts", "id"]))
    assert (await warehouse.describe("events")).row_count == 1_500
    assert [t.name for t in await warehouse.list_tables()] == ["events"]
    assert admin(faulty_url, "GET", "faults")["injected"] > 0


async def test_an_upload_refused_with_503_is_resent_and_lands_once(faulty_url: str) -> None:
    warehouse = new_warehouse(make_client(faulty_url))
    await warehouse.list_tables()  # creates the dataset before the fault is armed
    admin(faulty_url, "POST", "faults", {"fail_nth": {"operation": "jobs.upload", "n": 1}, "status": 503})
    assert await warehouse.append("events", sample(10)) == 10
    assert admin(faulty_url, "GET", "faults")["injected"] == 1
    assert (await warehouse.describe("events")).row_count == 10
