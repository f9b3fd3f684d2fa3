"""The planner: row groups, byte ranges cut at line starts, quoted-newline fallback, small files grouped."""

from __future__ import annotations

import pyarrow as pa
import pytest

from domain.services.ingestion_plan import plan_ingestion
from domain.types.errors import InvalidSpec
from domain.types.ingestion import Cleaning, IngestionSpec, SourceFormat, WriteMode
from tests.fakes.bulk_files import InMemoryBulkFiles

pytestmark = pytest.mark.unit


def csv_text(rows: int, start: int = 0) -> str:
    return "id,name,score\n" + "".join(f"{i},name-{i},{i * 0.5}\n" for i in range(start, start + rows))


def spec(*sources: str, partitions: int | None = None, **extra) -> IngestionSpec:
    return IngestionSpec(tuple(sources), "target", partitions=partitions, **extra)


async def test_parquet_is_split_at_row_groups_each_read_once() -> None:
    files = InMemoryBulkFiles()
    files.add_parquet("data.parquet", pa.table({"id": list(range(1000))}), row_group_rows=100)
    plan = await plan_ingestion(files, spec("data.parquet", partitions=3))
    groups = [g for p in plan.partitions for piece in p.pieces for g in piece.row_groups]
    assert len(plan.partitions) == 3
    assert groups == list(range(10))
    assert all(len(p.pieces) == 1 for p in plan.partitions)  # adjacent groups merge into one piece


async def test_csv_is_split_into_byte_ranges_cut_at_line_starts() -> None:
    files = InMemoryBulkFiles()
    text = csv_text(1000)
    files.add_csv("big.csv", text)
    plan = await plan_ingestion(files, spec("big.csv", partitions=4))
    pieces = [piece for p in plan.partitions for piece in p.pieces]
    data = text.encode()
    assert len(plan.partitions) == 4
    assert pieces[0].start == data.index(b"\n") + 1  # just past the header
    assert all(data[p.start - 1:p.start] == b"\n" for p in pieces)
    assert [p.end for p in pieces[:-1]] == [p.start for p in pieces[1:]] and pieces[-1].end == len(data)
    assert [p.first_line for p in pieces] == [data.count(b"\n", 0, p.start) + 1 for p in pieces]


async def test_a_csv_with_a_quoted_newline_stays_one_whole_file() -> None:
    files = InMemoryBulkFiles()
    files.add_csv("quoted.csv", csv_text(500) + '501,"two\nlines",1.0\n' + csv_text(500, 502)[len("id,name,score\n"):])
    plan = await plan_ingestion(files, spec("quoted.csv", partitions=4))
    assert len(plan.partitions) == 1
    (piece,) = plan.partitions[0].pieces
    assert (piece.start, piece.end) == (0, -1)


async def test_many_small_files_are_grouped_into_few_partitions() -> None:
    files = InMemoryBulkFiles()
    for i in range(10):
        files.add_csv(f"small-{i}.csv", csv_text(5, i * 5))
    auto = await plan_ingestion(files, spec("small-*.csv"))
    three = await plan_ingestion(files, spec("small-*.csv", partitions=3))
    assert len(auto.partitions) == 1 and len(auto.partitions[0].pieces) == 10
    assert len(three.partitions) == 3
    assert sorted(piece.uri for p in three.partitions for piece in p.pieces) == sorted(files.csv)


async def test_planning_names_the_missing_file_and_the_missing_columns() -> None:
    files = InMemoryBulkFiles()
    files.add_csv("a.csv", csv_text(3))
    with pytest.raises(InvalidSpec, match=r"nope\.csv"):
        await plan_ingestion(files, spec("nope.csv"))
    with pytest.raises(InvalidSpec, match="customer"):
        await plan_ingestion(files, spec("a.csv", keys=("customer",), cleaning=Cleaning(drop_nulls=("id",))))


def test_the_spec_refuses_upsert_without_keys_and_unknown_types() -> None:
    with pytest.raises(InvalidSpec, match="upsert"):
        IngestionSpec(("a.csv",), "t", mode=WriteMode.UPSERT)
    with pytest.raises(InvalidSpec, match="column type"):
        IngestionSpec(("a.csv",), "t", cleaning=Cleaning(schema={"id": "bigint"}))
    assert IngestionSpec(("a.csv",), "t", format=SourceFormat.CSV).format is SourceFormat.CSV
