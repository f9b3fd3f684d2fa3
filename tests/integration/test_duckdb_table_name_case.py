"""The local warehouse takes table names as DuckDB does, ignoring case: an ingestion into `C2` when `c2`
exists appends to it (it failed with DuckDB's raw "Table "C2" already exists"), and `C2` describes it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adapters.duckdb.warehouse import DuckDBWarehouse
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest

pytestmark = pytest.mark.integration


async def test_a_table_named_in_another_case_is_the_same_table(tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "warehouse.duckdb")
    await warehouse.append("c2", pa.table({"id": [1, 2], "x": [0.5, 1.5]}))
    staged = tmp_path / "part-0.parquet"
    pq.write_table(pa.table({"id": [3], "x": [2.5]}), staged)

    loaded = await warehouse.load_parquet(LoadRequest("C2", ((staged.as_uri(),),), WriteMode.APPEND, Dedupe.NONE,
                                                      (), "load-1"))

    assert loaded == 1
    described = await warehouse.describe("C2")
    assert described.row_count == 3 and [c.name for c in described.columns] == ["id", "x"]
    assert [t.name for t in await warehouse.list_tables()] == ["c2"]
