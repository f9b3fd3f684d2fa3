"""Warehouse contract: DuckDB, BigQuery (through the emulator) and the in-memory fake pass the same suite."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from adapters.bigquery.warehouse import BigQueryWarehouse
from adapters.duckdb.warehouse import DuckDBWarehouse
from domain.types.errors import InvalidIdentifier, TableNotFound
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest
from emulators.bigquery.server import BigQueryEmulator
from ports.warehouse import Warehouse
from tests.fakes.warehouse import InMemoryWarehouse

pytestmark = pytest.mark.contract

ROWS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "score": [0.5, 1.5, None], "name": ["a", "b", "c"]})


@pytest.fixture(scope="module")
def bigquery_url() -> Iterator[str]:
    """One emulator for the module; each test gets its own dataset in it."""
    emulator = BigQueryEmulator(host="127.0.0.1", port=0)
    yield emulator.start()
    emulator.stop()


@pytest.fixture(params=["memory", "duckdb", "bigquery"])
async def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Warehouse]:
    if request.param == "memory":
        yield InMemoryWarehouse()
    elif request.param == "duckdb":
        duck = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
        yield duck
        duck.close()
    else:
        # Looked up here, not declared, so the emulator starts only when a bigquery case runs.
        url = request.getfixturevalue("bigquery_url")
        client = bigquery.Client(project="test", credentials=AnonymousCredentials(),
                                 client_options={"api_endpoint": url})
        dataset = f"mlplane_contract_{uuid.uuid4().hex[:10]}"
        yield BigQueryWarehouse(client, dataset)
        client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)
        client.close()


async def test_append_creates_the_table_and_describe_reports_it(warehouse: Warehouse) -> None:
    assert await warehouse.append("events", ROWS) == 3
    info = await warehouse.describe("events")
    assert info.row_count == 3
    assert [c.name for c in info.columns] == ["id", "score", "name"]
    assert [c.numeric for c in info.columns] == [True, True, False]


async def test_append_adds_rows_to_an_existing_table(warehouse: Warehouse) -> None:
    await warehouse.append("events", ROWS)
    await warehouse.append("events", ROWS)
    assert (await warehouse.describe("events")).row_count == 6


async def test_read_returns_arrow_with_nulls_preserved(warehouse: Warehouse) -> None:
    await warehouse.append("events", ROWS)
    table = await warehouse.read("events")
    assert table.num_rows == 3
    assert sorted(table.column("score").to_pylist(), key=lambda v: (v is None, v)) == [0.5, 1.5, None]


async def test_read_selects_columns(warehouse: Warehouse) -> None:
    await warehouse.append("events", ROWS)
    assert (await warehouse.read("events", ["name"])).column_names == ["name"]


async def test_list_tables_names_every_table(warehouse: Warehouse) -> None:
    await warehouse.append("b_table", ROWS)
    await warehouse.append("a_table", ROWS)
    assert [t.name for t in await warehouse.list_tables()] == ["a_table", "b_table"]


async def test_missing_tables_raise_table_not_found(warehouse: Warehouse) -> None:
    with pytest.raises(TableNotFound):
        await warehouse.describe("nope")
    with pytest.raises(TableNotFound):
        await warehouse.read("nope")


async def test_sql_in_identifiers_is_refused(warehouse: Warehouse) -> None:
    for name in ('events"; DROP TABLE x; --', "a b", "1abc"):
        with pytest.raises(InvalidIdentifier):
            await warehouse.describe(name)


# --- load_parquet: staged Parquet files into a table in one load -------------------------------

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
    return LoadRequest("loaded", tuple(uris), mode, dedupe, keys, load_id or uuid.uuid4().hex)


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
