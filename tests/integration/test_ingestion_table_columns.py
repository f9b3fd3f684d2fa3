"""Appending into an existing table whose columns the files do not have (real container, Redis, DuckDB).

The submit compares the files' columns with the table's and refuses a mismatch with a 422 naming the
columns; a table changed after the submit fails the commit naming them, never with DuckDB's Binder Error.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.types.errors import InvalidSpec, PermanentError
from domain.types.ingestion import Dedupe, IngestionSpec, WriteMode
from domain.types.partitions import LoadRequest
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.integration.test_ingestion_hostile_files import ingest
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,), redis_url=redis_url,
                        env=f"t{uuid.uuid4().hex[:8]}", ingestion_processes=0, seed_demo=False)
    async with running_container(settings) as container:
        await container.warehouse().append("t1", pa.table({"id": [1], "name": ["a"], "amount": [1.5]}))
        yield container


def csv_source(folder: Path, text: str, mode: WriteMode = WriteMode.APPEND) -> IngestionSpec:
    (folder / "f.csv").write_text(text)
    keys = ("id",) if mode is WriteMode.UPSERT else ()
    return IngestionSpec((str(folder / "f.csv"),), "t1", mode=mode, keys=keys)


@pytest.mark.parametrize("mode", [WriteMode.APPEND, WriteMode.UPSERT])
async def test_a_column_the_table_lacks_is_refused_at_submit_naming_it(container, tmp_path, mode) -> None:
    with pytest.raises(InvalidSpec) as refused:
        await container.ingestion().submit(csv_source(tmp_path, "id,name,amount,extra\n2,b,2.5,x\n", mode))
    assert "column(s) extra that it lacks" in refused.value.message
    assert "mode 'replace'" in refused.value.message
    assert (await container.warehouse().describe("t1")).row_count == 1


async def test_a_column_the_files_lack_is_refused_for_an_upsert_naming_it(container, tmp_path) -> None:
    with pytest.raises(InvalidSpec) as refused:
        await container.ingestion().submit(csv_source(tmp_path, "id,amount\n2,2.5\n", WriteMode.UPSERT))
    assert "no column(s) name that it has" in refused.value.message


async def test_a_column_the_files_lack_is_null_in_appended_rows(container, tmp_path) -> None:
    outcome = await ingest(container, csv_source(tmp_path, "id,amount\n2,2.5\n"))
    assert outcome.kind == "completed", outcome.message
    rows = (await container.warehouse().read("t1")).sort_by("id").to_pylist()
    assert rows == [{"id": 1, "name": "a", "amount": 1.5}, {"id": 2, "name": None, "amount": 2.5}]


async def test_names_differing_from_the_table_in_case_only_append(container, tmp_path) -> None:
    outcome = await ingest(container, csv_source(tmp_path, "ID,Name,AMOUNT\n2,b,2.5\n"))
    assert outcome.kind == "completed", outcome.message
    assert (await container.warehouse().describe("t1")).row_count == 2


async def test_mode_replace_takes_the_files_columns(container, tmp_path) -> None:
    outcome = await ingest(container, csv_source(tmp_path, "id,extra\n2,x\n", WriteMode.REPLACE))
    assert outcome.kind == "completed", outcome.message
    assert [c.name for c in (await container.warehouse().describe("t1")).columns] == ["id", "extra"]


@pytest.mark.parametrize("mode", [WriteMode.APPEND, WriteMode.UPSERT])
async def test_a_table_changed_after_the_submit_fails_the_load_naming_the_columns(container, tmp_path, mode) -> None:
    """What the commit meets when the table was replaced between the submit's check and the load."""
    pq.write_table(pa.table({"id": [2], "extra": ["x"]}), tmp_path / "staged.parquet")
    request = LoadRequest("t1", ((str(tmp_path / "staged.parquet"),),), mode, Dedupe.NONE,
                          ("id",) if mode is WriteMode.UPSERT else (), load_id=f"load-{mode.value}")
    with pytest.raises(PermanentError) as failed:
        await container.warehouse().load_parquet(request)
    message = failed.value.message
    assert "the table changed since the ingestion was submitted" in message, message
    assert "column(s) extra that it lacks" in message
    assert ("no column(s) name, amount that it has" in message) is (mode is WriteMode.UPSERT)
    assert "Binder" not in message
    assert (await container.warehouse().describe("t1")).row_count == 1
