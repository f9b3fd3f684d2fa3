"""Warehouse contract: DuckDB, BigQuery (through the emulator) and the in-memory fake pass the same suite."""

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
from domain.types.errors import InvalidIdentifier, TableNotFound
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
