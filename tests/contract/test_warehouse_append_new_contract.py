"""Warehouse.append_new on DuckDB and on BigQuery (through the emulator): rows with keys already in
the table, or repeated in the batch, are written once; appending the same rows again writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from adapters.bigquery.warehouse import BigQueryWarehouse
from adapters.duckdb.warehouse import DuckDBWarehouse
from emulators.bigquery.server import BigQueryEmulator
from ports.warehouse import Warehouse

pytestmark = pytest.mark.contract


def batch(ids: list[str], score: float) -> pa.Table:
    return pa.table({"event_id": ids, "score": [score] * len(ids)})


@pytest.fixture(scope="module")
def bigquery_url() -> Iterator[str]:
    emulator = BigQueryEmulator(host="127.0.0.1", port=0)
    yield emulator.start()
    emulator.stop()


@pytest.fixture(params=["duckdb", "bigquery"])
async def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Warehouse]:
    if request.param == "duckdb":
        duck = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
        yield duck
        duck.close()
        return
    client = bigquery.Client(project="test", credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": request.getfixturevalue("bigquery_url")})
    dataset = f"mlplane_contract_{uuid.uuid4().hex[:10]}"
    yield BigQueryWarehouse(client, dataset)
    client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)
    client.close()


async def test_append_new_writes_each_key_once(warehouse: Warehouse) -> None:
    assert await warehouse.append_new("signals", batch(["a", "b", "b"], 1.0), "event_id") == 2
    assert await warehouse.append_new("signals", batch(["a", "b"], 2.0), "event_id") == 0  # a redelivery
    assert await warehouse.append_new("signals", batch(["b", "c"], 3.0), "event_id") == 1
    rows = (await warehouse.read("signals")).sort_by("event_id").to_pylist()
    assert rows == [{"event_id": "a", "score": 1.0}, {"event_id": "b", "score": 1.0}, {"event_id": "c", "score": 3.0}]


async def test_bigquery_asks_only_for_the_batch_keys_not_the_whole_key_column(
        request: pytest.FixtureRequest) -> None:
    client = bigquery.Client(project="test", credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": request.getfixturevalue("bigquery_url")})
    warehouse = BigQueryWarehouse(client, f"mlplane_keys_{uuid.uuid4().hex[:10]}")
    try:
        await warehouse.append("signals", batch([f"old-{i}" for i in range(5000)], 0.0))
        paths: list[str] = []
        client._http.hooks["response"].append(lambda response, *args, **kwargs: paths.append(response.request.path_url))
        assert await warehouse.append_new("signals", batch(["old-7", "new-1", "new-1"], 1.0), "event_id") == 1
        assert not [p for p in paths if "/data" in p.split("?")[0]]  # no tabledata.list of the key column
        assert (await warehouse.describe("signals")).row_count == 5001
    finally:
        client.delete_dataset(warehouse._dataset.dataset_id, delete_contents=True, not_found_ok=True)
        client.close()
