"""Dedupe shards: how many, on which column, and that plans and reports keep them across processes."""

from __future__ import annotations

import pytest

from domain.services.ingestion_shards import MAX_SHARDS, plan_sharding
from domain.types.ingestion import Cleaning, Dedupe, IngestionSpec, WriteMode
from domain.types.partitions import IngestionPlan, Partition, PartitionReport, Piece, SourceFormat
from domain.types.sharding import Sharding
from entrypoints.factories import dedupe_shard_rows
from entrypoints.settings import Settings

pytestmark = pytest.mark.unit

COLUMNS = ("name", "score", "ts", "id")
TYPES = {"name": "string", "score": "double", "ts": "timestamp[s]", "id": "int64"}


def spec(dedupe: Dedupe = Dedupe.EXACT, mode: WriteMode = WriteMode.APPEND,
         keys: tuple[str, ...] = ()) -> IngestionSpec:
    return IngestionSpec(("data.csv",), "target", mode=mode, keys=keys, cleaning=Cleaning(dedupe))


def test_exact_dedupe_over_many_rows_shards_on_the_best_spreading_planned_column() -> None:
    assert plan_sharding(spec(), COLUMNS, TYPES, rows=2_000_001, shard_rows=500_000) == Sharding(5, "id")
    no_ints = {c: t for c, t in TYPES.items() if c != "id"}
    assert plan_sharding(spec(), COLUMNS, no_ints, rows=1000, shard_rows=100).column == "ts"
    assert plan_sharding(spec(), COLUMNS, {"name": "string", "score": "double"}, 1000, 100).column == "name"
    assert plan_sharding(spec(), COLUMNS, {"score": "double"}, 1000, 100).column == "score"


def test_a_column_known_to_hold_few_values_is_passed_over_for_one_that_fills_the_shards() -> None:
    columns, types = ("year", "flag", "name", "id"), {"year": "int64", "flag": "int64", "name": "string", "id": "int64"}
    wide = {"year": 12, "flag": 2, "name": 5000, "id": 90_000}
    assert plan_sharding(spec(), columns, types, 1000, 100, wide) == Sharding(10, "id")  # 80 values needed
    assert plan_sharding(spec(), columns, types, 1000, 100, {**wide, "id": 40}).column == "name"
    unknown = {"year": 12, "flag": 2}  # a footer told about the integers only
    assert plan_sharding(spec(), columns, types, 1000, 100, unknown).column == "id"
    narrow = {"year": 12, "flag": 2, "name": 30, "id": 40}
    assert plan_sharding(spec(), columns, types, 1000, 100, narrow).column == "id"  # the widest there is


def test_nothing_to_dedupe_few_rows_or_no_hashable_column_is_one_shard() -> None:
    assert plan_sharding(spec(Dedupe.NONE), COLUMNS, TYPES, 10**9, 100) == Sharding()
    assert plan_sharding(spec(), COLUMNS, TYPES, rows=100, shard_rows=100) == Sharding()
    assert plan_sharding(spec(), COLUMNS, TYPES, rows=10**9, shard_rows=0) == Sharding()
    assert plan_sharding(spec(), COLUMNS, {"flag": "bool", "tags": "list<item: string>"}, 10**6, 100) == Sharding()


def test_key_dedupe_and_upsert_shard_on_the_first_key_or_not_at_all() -> None:
    keys = spec(Dedupe.KEYS, keys=("name", "id"))
    assert plan_sharding(keys, COLUMNS, TYPES, 1000, 100) == Sharding(10, "name")
    upsert = spec(Dedupe.NONE, WriteMode.UPSERT, keys=("score",))
    assert plan_sharding(upsert, COLUMNS, TYPES, 1000, 100) == Sharding(10, "score")
    untyped_key = spec(Dedupe.KEYS, keys=("blob",))
    assert plan_sharding(untyped_key, (*COLUMNS, "blob"), TYPES, 1000, 100) == Sharding()


def test_the_shard_count_is_capped() -> None:
    assert plan_sharding(spec(), COLUMNS, TYPES, rows=10**12, shard_rows=1).count == MAX_SHARDS


def test_a_plan_keeps_its_sharding_through_the_job_record_and_an_old_plan_reads_as_one_shard() -> None:
    partition = Partition(0, (Piece("data.csv", SourceFormat.CSV, bytes=10),))
    plan = IngestionPlan(spec(), COLUMNS, TYPES, (partition,), Sharding(4, "id"))
    assert IngestionPlan.from_dict(plan.to_dict()) == plan
    raw = plan.to_dict()
    del raw["plan"]["sharding"]  # a plan stored before shards existed
    assert IngestionPlan.from_dict(raw).sharding == Sharding()


def test_a_partition_report_lists_its_shard_files_and_reads_an_older_single_file_report() -> None:
    report = PartitionReport(0, 10, 0, 0, 10, 100, ("file:///s0.parquet", "file:///s1.parquet"))
    assert PartitionReport.from_dict(report.to_dict()) == report
    old = {**report.to_dict(), "staged_uri": "file:///part-0.parquet"}
    del old["staged_uris"]
    assert PartitionReport.from_dict(old).staged_uris == ("file:///part-0.parquet",)


@pytest.mark.parametrize(("profile", "expected"), [("local", 1234), ("emulated", 0), ("gcp", 0)])
def test_only_the_duckdb_commit_of_the_local_profile_is_sharded(profile: str, expected: int, tmp_path) -> None:
    settings = Settings(profile=profile, ingest_shard_rows=1234, data_dir=tmp_path)
    assert dedupe_shard_rows(settings) == expected
