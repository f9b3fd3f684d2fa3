"""The BigQuery warehouse's dataset over time: made again when it vanishes under a running daemon (an
emulator restarted empty), and kept free of the scratch tables commits make (dropped when a commit fails,
hidden from the catalog, old ones swept)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from adapters.bigquery.dataset import Dataset
from adapters.bigquery.deadlines import Call
from adapters.bigquery.warehouse import BigQueryWarehouse
from domain.types.errors import InvalidSpec, TableNotFound
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest
from tests.support.emulator_fixtures import Emulators

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
ANONYMOUS = {"credentials": AnonymousCredentials()}
ROWS = pa.table({"id": pa.array([1, 2], pa.int64()), "name": ["a", "b"]})


@pytest.fixture
def client(emulators: Emulators) -> Iterator[bigquery.Client]:
    with bigquery.Client(project="test", client_options={"api_endpoint": emulators.bigquery_url}, **ANONYMOUS) as bq:
        yield bq


@pytest.fixture
def dataset(client: bigquery.Client) -> Iterator[str]:
    name = f"mlplane_upkeep_{uuid.uuid4().hex[:8]}"
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


def stage(emulators: Emulators, tmp_path: Path, rows: pa.Table) -> str:
    gcs = storage.Client(project="test", client_options={"api_endpoint": emulators.gcs_url}, **ANONYMOUS)
    bucket = gcs.lookup_bucket("upkeep-staging") or gcs.create_bucket("upkeep-staging")
    name = f"{uuid.uuid4().hex}.parquet"
    pq.write_table(rows, tmp_path / name)
    bucket.blob(name).upload_from_filename(tmp_path / name)
    return f"gs://upkeep-staging/{name}"


def scratch_tables(client: bigquery.Client, dataset: str) -> list[str]:
    return [t.table_id for t in client.list_tables(dataset) if t.table_id.startswith("_mlplane_stage_")]


async def test_a_dataset_deleted_under_the_warehouse_is_made_again(client, dataset) -> None:
    warehouse = BigQueryWarehouse(client, dataset)
    await warehouse.append("events", ROWS)
    client.delete_dataset(dataset, delete_contents=True)  # as an emulator restarting empty would
    assert await warehouse.list_tables() == []
    with pytest.raises(TableNotFound):
        await warehouse.describe("events")
    assert await warehouse.append("events", ROWS) == 2
    assert (await warehouse.describe("events")).row_count == 2


async def test_a_commit_that_fails_drops_its_scratch_table(client, dataset, emulators, tmp_path) -> None:
    warehouse = BigQueryWarehouse(client, dataset)
    await warehouse.append("loaded", ROWS)
    bad = stage(emulators, tmp_path, pa.table({"id": ["abc"], "name": ["x"]}))
    with pytest.raises(InvalidSpec, match="abc"):
        await warehouse.load_parquet(LoadRequest("loaded", ((bad,),), WriteMode.APPEND, Dedupe.NONE, (), "ing_bad"))
    assert scratch_tables(client, dataset) == []


async def test_scratch_tables_are_not_listed_and_old_ones_are_swept(client, dataset) -> None:
    warehouse = BigQueryWarehouse(client, dataset)
    await warehouse.append("events", ROWS)
    client.create_table(bigquery.Table(f"test.{dataset}._mlplane_stage_ing_left_behind",
                                       schema=[bigquery.SchemaField("id", "INT64")]))
    assert [t.name for t in await warehouse.list_tables()] == ["events"]
    catalog = Call(bigquery.DEFAULT_RETRY.with_timeout(10.0), 10.0)
    # A daemon starting later sweeps scratch tables older than the TTL (0 here: every one of them).
    Dataset(client, bigquery.DatasetReference("test", dataset), None, catalog, scratch_ttl=timedelta(0)).ensure()
    assert scratch_tables(client, dataset) == []
    assert [t.table_id for t in client.list_tables(dataset)] == ["events"]
