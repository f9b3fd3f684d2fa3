"""Warehouse contract, a load that fails: the table is left as it was and the catalog lists no table the
load made for itself (BigQuery's scratch table, DuckDB's temp table), on DuckDB and on BigQuery."""

from __future__ import annotations

import pyarrow as pa
import pytest

from domain.types.errors import MlplaneError
from domain.types.ingestion import WriteMode
from tests.contract.test_warehouse_loads_contract import load, loader, part, rows_of
from tests.fakes.warehouse import InMemoryWarehouse

pytestmark = pytest.mark.contract
__all__ = ["loader"]  # the fixture, shared with the load suite

TEXT_IDS = pa.table({"id": ["abc"], "name": ["x"]})


@pytest.mark.parametrize("mode", [WriteMode.APPEND, WriteMode.UPSERT])
async def test_a_failed_load_leaves_the_table_and_lists_nothing_new(loader, mode: WriteMode) -> None:
    warehouse, stage = loader
    if isinstance(warehouse, InMemoryWarehouse):
        pytest.skip("the in-memory fake does not convert types")
    await warehouse.load_parquet(load([stage("good.parquet", part([1, 2], ["a", "b"]))], WriteMode.APPEND))
    with pytest.raises(MlplaneError):  # 'abc' is no INT64
        await warehouse.load_parquet(load([stage("bad.parquet", TEXT_IDS)], mode, keys=("id",)))
    assert [t.name for t in await warehouse.list_tables()] == ["loaded"]
    assert await rows_of(warehouse) == [(1, "a"), (2, "b")]
