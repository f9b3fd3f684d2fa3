"""Sharded commits through the real container: equal rows staged by different partitions meet in one
shard, so de-duplicating shard by shard keeps exactly what one DISTINCT over everything would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from adapters.pyarrow_files.describe import describe
from domain.types.ingestion import Cleaning, Dedupe, IngestionSpec, SourceFormat, WriteMode
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.integration.test_ingestion_pipeline import finished
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,), redis_url=redis_url,
                        env=f"t{uuid.uuid4().hex[:8]}", ingestion_processes=0, seed_demo=False,
                        ingest_shard_rows=40)
    async with running_container(settings) as container:
        yield container


def distinct_rows(source: Path, columns: str) -> list[tuple]:
    """What one DISTINCT over the whole file keeps: the answer a sharded commit must give."""
    sql = f"SELECT DISTINCT {columns} FROM read_csv(?, header = true) WHERE {columns.split(',')[0]} IS NOT NULL"
    return sorted(duckdb.execute(sql, [str(source)]).fetchall(), key=repr)


async def ingest(container: Container, spec: IngestionSpec) -> dict:
    record = await container.ingestion().submit(spec)
    events = await finished(container, record.id)
    assert events[-1].type == "completed", events[-1].data
    assert (await container.jobs().get(record.id)).spec["plan"]["sharding"]["count"] > 1  # it did shard
    return events[-1].data


async def test_duplicates_staged_by_different_partitions_are_dropped_by_a_sharded_commit(container, tmp_path) -> None:
    rows = [f"{i},name-{i % 37},{i % 5}.5" for i in range(300)]
    source = tmp_path / "people.csv"
    source.write_text("id,name,score\n" + "\n".join(rows + rows[:120] + rows[250:]) + "\n")  # repeats cross cuts
    report = await ingest(container, IngestionSpec((str(source),), "people", mode=WriteMode.REPLACE, partitions=3,
                                                   cleaning=Cleaning(Dedupe.EXACT)))
    table = await container.warehouse().read("people")
    loaded = sorted(zip(*(table.column(c).to_pylist() for c in ("id", "name", "score")), strict=True), key=repr)
    assert loaded == distinct_rows(source, "id, name, score")
    assert report["rows_loaded"] == 300 and report["duplicates_dropped"] == 170


async def test_signed_zeros_and_nans_meet_when_a_float_column_decides_the_shard(container, tmp_path) -> None:
    values = ["0.0", "-0.0", "nan", "-nan", *(f"{i}.25" for i in range(200))]
    source = tmp_path / "floats.csv"
    source.write_text("score,flag\n" + "\n".join(f"{v},true" for v in values + values[::-1]) + "\n")
    await ingest(container, IngestionSpec((str(source),), "floats", partitions=4, cleaning=Cleaning(Dedupe.EXACT)))
    scores = (await container.warehouse().read("floats")).column("score").to_pylist()
    assert len(scores) == len(distinct_rows(source, "score, flag")) == 202  # one zero, one NaN


async def test_a_sharded_upsert_on_a_text_key_replaces_each_key_once(container, tmp_path) -> None:
    await container.warehouse().append("accounts", pa.table({"name": [f"acct-{i}" for i in range(100)],
                                                            "balance": [0.0] * 100}))
    source = tmp_path / "balances.csv"
    rows = [f"acct-{i},{i}.0" for i in range(50, 150)]
    source.write_text("name,balance\n" + "\n".join(rows + rows[:30]) + "\n")
    await ingest(container, IngestionSpec((str(source),), "accounts", mode=WriteMode.UPSERT, keys=("name",),
                                          partitions=2))
    table = (await container.warehouse().read("accounts")).to_pylist()
    balances = {row["name"]: row["balance"] for row in table}
    assert len(table) == len(balances) == 150
    assert balances["acct-10"] == 0.0 and balances["acct-75"] == 75.0 and balances["acct-149"] == 149.0


def test_files_tell_how_many_values_a_column_holds_from_the_csv_sample_or_a_parquet_integers_range(tmp_path) -> None:
    rows = pa.table({"flag": [i % 2 for i in range(500)], "id": list(range(1000, 1500)),
                     "name": [f"n{i % 7}" for i in range(500)]})
    pq.write_table(rows, tmp_path / "rows.parquet", row_group_size=100)
    pacsv.write_csv(rows, tmp_path / "rows.csv")
    assert describe(str(tmp_path / "rows.csv"), SourceFormat.AUTO, None).spread == {"flag": 2, "id": 500, "name": 7}
    assert describe(str(tmp_path / "rows.parquet"), SourceFormat.AUTO, None).spread == {"flag": 2, "id": 500}


async def test_a_leading_flag_column_does_not_decide_the_shards(container, tmp_path) -> None:
    source = tmp_path / "flags.csv"
    source.write_text("flag,id\n" + "\n".join(f"{i % 2},{i}" for i in range(400)) + "\n")
    record = await container.ingestion().submit(IngestionSpec((str(source),), "flags", partitions=2,
                                                              cleaning=Cleaning(Dedupe.EXACT)))
    await finished(container, record.id)
    assert (await container.jobs().get(record.id)).spec["plan"]["sharding"]["column"] == "id"
