"""Warehouse contract, load_parquet: staged Parquet files into a table in one load, on DuckDB, on
BigQuery (loading gs:// objects from the GCS emulator) and the in-memory fake.

A load comes in shards; each shard is de-duplicated on its own, all in one transaction. The stager
puts rows that are duplicates of each other in the same shard (tests/integration/test_staged_shards.py
checks that side); here each warehouse must load every shard, keep the table's columns as one load
over all the files would, and count the rows of all shards.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from adapters.bigquery.warehouse import BigQueryWarehouse
from adapters.duckdb.warehouse import DuckDBWarehouse
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest
from ports.warehouse import Warehouse
from tests.fakes.warehouse import InMemoryWarehouse

pytestmark = pytest.mark.contract

Stage = Callable[[str, pa.Table], str]


@pytest.fixture(params=["memory", "duckdb", "bigquery"])
async def loader(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Warehouse, Stage]]:
    """A warehouse and a way to stage a Parquet file where that warehouse loads from."""
    def local(name: str, rows: pa.Table) -> str:
        pq.write_table(rows, tmp_path / name)
        return (tmp_path / name).as_uri()

    if request.param != "bigquery":
        warehouse: Warehouse = InMemoryWarehouse() if request.param == "memory" else DuckDBWarehouse(
            tmp_path / "warehouse.duckdb")
        yield warehouse, local
        return
    emulators = request.getfixturevalue("emulators")  # BigQuery loads gs:// objects from the GCS emulator
    options = {"credentials": AnonymousCredentials()}
    gcs = storage.Client(project="test", client_options={"api_endpoint": emulators.gcs_url}, **options)
    bucket = gcs.lookup_bucket("contract-staging") or gcs.create_bucket("contract-staging")
    prefix = uuid.uuid4().hex

    def upload(name: str, rows: pa.Table) -> str:
        local(name, rows)
        bucket.blob(f"{prefix}/{name}").upload_from_filename(tmp_path / name)
        return f"gs://{bucket.name}/{prefix}/{name}"

    client = bigquery.Client(project="test", client_options={"api_endpoint": emulators.bigquery_url}, **options)
    dataset = f"mlplane_load_{prefix[:10]}"
    yield BigQueryWarehouse(client, dataset), upload
    client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)
    client.close()


def part(ids: list[int], names: list[str]) -> pa.Table:
    return pa.table({"id": pa.array(ids, pa.int64()), "name": names})


def load(uris: list[str], mode: WriteMode, dedupe: Dedupe = Dedupe.NONE, keys: tuple[str, ...] = (),
         load_id: str | None = None) -> LoadRequest:
    """A load of one shard holding every file."""
    return sharded_load([uris], mode, dedupe, keys, load_id)


def sharded_load(shards: list[list[str]], mode: WriteMode, dedupe: Dedupe = Dedupe.NONE, keys: tuple[str, ...] = (),
                 load_id: str | None = None) -> LoadRequest:
    return LoadRequest("loaded", tuple(tuple(s) for s in shards), mode, dedupe, keys, load_id or uuid.uuid4().hex)


async def rows_of(warehouse: Warehouse) -> list[tuple[int, str]]:
    table = await warehouse.read("loaded")
    return sorted(zip(table.column("id").to_pylist(), table.column("name").to_pylist(), strict=True))


async def test_load_appends_every_file_and_drops_exact_duplicates_across_them(loader) -> None:
    warehouse, stage = loader
    uris = [stage("a.parquet", part([1, 2], ["a", "b"])), stage("b.parquet", part([2, 3], ["b", "c"]))]
    assert await warehouse.load_parquet(load(uris, WriteMode.APPEND, Dedupe.EXACT)) == 3
    await warehouse.load_parquet(load(uris[:1], WriteMode.APPEND))
    assert await rows_of(warehouse) == [(1, "a"), (1, "a"), (2, "b"), (2, "b"), (3, "c")]


async def test_load_with_key_dedupe_keeps_one_row_per_key(loader) -> None:
    warehouse, stage = loader
    uris = [stage("a.parquet", part([1, 2], ["a", "b"])), stage("b.parquet", part([2, 3], ["B", "c"]))]
    await warehouse.load_parquet(load(uris, WriteMode.APPEND, Dedupe.KEYS, ("id",)))
    assert [r[0] for r in await rows_of(warehouse)] == [1, 2, 3]


async def test_replace_swaps_the_whole_table(loader) -> None:
    warehouse, stage = loader
    await warehouse.load_parquet(load([stage("old.parquet", part([1, 2], ["a", "b"]))], WriteMode.APPEND))
    await warehouse.load_parquet(load([stage("new.parquet", part([7], ["z"]))], WriteMode.REPLACE))
    assert await rows_of(warehouse) == [(7, "z")]


async def test_upsert_replaces_the_rows_whose_keys_arrive(loader) -> None:
    warehouse, stage = loader
    await warehouse.load_parquet(load([stage("old.parquet", part([1, 2], ["a", "b"]))], WriteMode.APPEND))
    await warehouse.load_parquet(load([stage("up.parquet", part([2, 3], ["B", "c"]))], WriteMode.UPSERT,
                                      keys=("id",)))
    assert await rows_of(warehouse) == [(1, "a"), (2, "B"), (3, "c")]


async def test_a_repeated_load_id_loads_once(loader) -> None:
    warehouse, stage = loader
    request = load([stage("a.parquet", part([1, 2], ["a", "b"]))], WriteMode.APPEND, load_id="ing_same")
    assert await warehouse.load_parquet(request) == 2
    assert await warehouse.load_parquet(request) == 2
    assert await rows_of(warehouse) == [(1, "a"), (2, "b")]


async def test_a_sharded_replace_drops_duplicates_within_each_shard_and_loads_every_shard(loader) -> None:
    warehouse, stage = loader
    await warehouse.load_parquet(load([stage("old.parquet", part([9], ["old"]))], WriteMode.APPEND))
    shards = [[stage("p0-s0.parquet", part([1, 3], ["a", "c"])), stage("p1-s0.parquet", part([3, 5], ["c", "e"]))],
              [stage("p0-s1.parquet", part([2, 2], ["b", "b"])), stage("p1-s1.parquet", part([4], ["d"]))]]
    assert await warehouse.load_parquet(sharded_load(shards, WriteMode.REPLACE, Dedupe.EXACT)) == 5
    assert await rows_of(warehouse) == [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e")]


async def test_a_new_table_takes_its_columns_from_every_shard_even_when_the_first_is_empty(loader) -> None:
    warehouse, stage = loader
    empty = pa.table({"id": pa.array([], pa.int64()), "name": pa.array([], pa.string())})
    shards = [[stage("s0.parquet", empty)], [stage("s1.parquet", part([1, 1], ["a", "a"]))]]
    assert await warehouse.load_parquet(sharded_load(shards, WriteMode.APPEND, Dedupe.EXACT)) == 1
    info = await warehouse.describe("loaded")
    assert [c.name for c in info.columns] == ["id", "name"]
    assert await rows_of(warehouse) == [(1, "a")]


async def test_a_sharded_upsert_replaces_the_keys_that_arrive_in_any_shard(loader) -> None:
    warehouse, stage = loader
    await warehouse.load_parquet(load([stage("old.parquet", part([1, 2, 3], ["a", "b", "c"]))], WriteMode.APPEND))
    shards = [[stage("s0.parquet", part([1, 1], ["A", "A"]))], [stage("s1.parquet", part([3, 4], ["C", "d"]))]]
    assert await warehouse.load_parquet(sharded_load(shards, WriteMode.UPSERT, keys=("id",))) == 3
    assert await rows_of(warehouse) == [(1, "A"), (2, "b"), (3, "C"), (4, "d")]


async def test_a_sharded_key_dedupe_keeps_one_row_per_key(loader) -> None:
    warehouse, stage = loader
    shards = [[stage("s0.parquet", part([1, 1, 3], ["a", "x", "c"]))], [stage("s1.parquet", part([2, 2], ["b", "y"]))]]
    assert await warehouse.load_parquet(sharded_load(shards, WriteMode.APPEND, Dedupe.KEYS, ("id",))) == 3
    assert [r[0] for r in await rows_of(warehouse)] == [1, 2, 3]


async def test_a_repeated_sharded_load_loads_once(loader) -> None:
    warehouse, stage = loader
    shards = [[stage("s0.parquet", part([1], ["a"]))], [stage("s1.parquet", part([2], ["b"]))]]
    request = sharded_load(shards, WriteMode.APPEND, load_id="ing_sharded")
    assert await warehouse.load_parquet(request) == 2
    assert await warehouse.load_parquet(request) == 2
    assert await rows_of(warehouse) == [(1, "a"), (2, "b")]


async def test_a_repeated_upsert_loads_once_and_answers_the_same_count(loader) -> None:
    """A commit redelivered after its load finished (and its scratch data was cleaned up) must not fail."""
    warehouse, stage = loader
    await warehouse.load_parquet(load([stage("old.parquet", part([1, 2], ["a", "b"]))], WriteMode.APPEND))
    request = load([stage("up.parquet", part([2, 3], ["B", "c"]))], WriteMode.UPSERT, keys=("id",),
                   load_id="ing_upsert_twice")
    assert await warehouse.load_parquet(request) == 2
    assert await warehouse.load_parquet(request) == 2
    assert await rows_of(warehouse) == [(1, "a"), (2, "B"), (3, "c")]
