"""A DuckDB file another process holds: every warehouse call is a TransientError (a 503 at the API, a
retried job) naming the file and the holder's pid, never a raw IOException; once the holder lets go,
the same warehouse works, since it connects again on the next call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adapters.duckdb.warehouse import DuckDBWarehouse
from domain.types.errors import TransientError
from domain.types.ingestion import Dedupe, WriteMode
from domain.types.partitions import LoadRequest
from tests.support.duckdb_holder import duckdb_held_by_another_process

pytestmark = pytest.mark.integration
ROWS = pa.table({"id": [1, 2], "x": [0.5, 1.5]})
Call = Callable[[DuckDBWarehouse, Path], Awaitable[object]]


def _load(warehouse: DuckDBWarehouse, tmp_path: Path) -> Awaitable[int]:
    pq.write_table(ROWS, tmp_path / "staged.parquet")
    request = LoadRequest(load_id="load-1", table="t", shards=(((tmp_path / "staged.parquet").as_uri(),),),
                          mode=WriteMode.APPEND, keys=(), dedupe=Dedupe.NONE)
    return warehouse.load_parquet(request)


CALLS: dict[str, Call] = {
    "list_tables": lambda w, _: w.list_tables(),
    "describe": lambda w, _: w.describe("t"),
    "read": lambda w, _: w.read("t", ["x"]),
    "append": lambda w, _: w.append("t", ROWS),
    "append_new": lambda w, _: w.append_new("t", ROWS, "id"),
    "load_parquet": _load,
}


@pytest.fixture
async def warehouse_file(tmp_path: Path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    first = DuckDBWarehouse(path)
    await first.append("t", ROWS.slice(0, 1))
    first.close()  # as a daemon that stopped: the file is free until the other process takes it
    return path


@pytest.mark.parametrize("call", CALLS)
async def test_a_locked_file_is_a_transient_error_naming_the_file_and_the_holder(
    call: str, warehouse_file: Path, tmp_path: Path
) -> None:
    warehouse = DuckDBWarehouse(warehouse_file)
    with duckdb_held_by_another_process(warehouse_file) as pid, pytest.raises(TransientError) as caught:
        await CALLS[call](warehouse, tmp_path)
    assert caught.value.message.startswith(f"the warehouse file {warehouse_file} is locked by another process "
                                           f"(pid {pid})"), caught.value.message
    assert caught.value.details == {"file": str(warehouse_file), "pid": pid}
    assert (await warehouse.describe("t")).row_count == 1  # the holder is gone: the next call connects
    warehouse.close()


async def test_a_lock_taken_before_the_first_call_does_not_stick_after_it_is_released(warehouse_file: Path) -> None:
    warehouse = DuckDBWarehouse(warehouse_file)
    for _ in range(2):  # a failed connect is not remembered: each call tries again
        with duckdb_held_by_another_process(warehouse_file), pytest.raises(TransientError):
            await warehouse.list_tables()
    assert [t.name for t in await warehouse.list_tables()] == ["t"]
    warehouse.close()
