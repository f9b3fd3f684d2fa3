"""Ingestions that BigQuery refuses, on the emulated profile: a column name it reserves is a 4xx at submit;
the others end `failed` at the commit with a cause naming what to fix (the column), with no SQL in it (the
emulator quoted its rewritten statement), and the table as it was."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.types.errors import InvalidSpec
from domain.types.ingestion import IngestionSpec, WriteMode
from entrypoints.container import Container
from tests.integration.test_ingestion_emulated import container

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
__all__ = ["container"]  # the fixture: an emulated container on the session's emulators


async def ingest(container: Container, spec: IngestionSpec) -> tuple[str, dict]:
    """The terminal event's type and data (with the job's id)."""
    record = await container.ingestion().submit(spec)
    async with asyncio.timeout(60):
        async for event in container.events().subscribe(f"job:{record.id}"):
            if event.is_terminal:
                return event.type, {**event.data, "id": record.id}
    raise AssertionError("no terminal event")


def csv(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


async def test_an_upsert_whose_key_does_not_convert_fails_without_sql_in_the_cause(container, tmp_path,
                                                                                   caplog) -> None:
    await ingest(container, IngestionSpec((csv(tmp_path, "b.csv", "id,name\n2,bobby\n"),), "people"))
    kind, data = await ingest(container, IngestionSpec((csv(tmp_path, "s.csv", "id,name\nabc,x\n"),), "people",
                                                       mode=WriteMode.UPSERT, keys=("id",)))
    assert kind == "failed" and "Could not convert string 'abc' to INT64" in data["message"], data
    record = await container.ingestion().get(data["id"])
    warnings = [r.getMessage() for r in caplog.records if data["id"] in r.getMessage()]
    for text in (data["message"], str(record.to_dict()), *warnings):
        for quoted in ("SELECT", "LINE", "_mlplane_stage", "UNION", "reason:"):
            assert quoted not in text, text
    assert warnings and (await container.warehouse().describe("people")).row_count == 1


async def test_a_reserved_column_name_is_refused_at_submit_naming_the_column(container, tmp_path) -> None:
    """BigQuery would refuse it at the commit (tests/emulators/test_bigquery_refusals.py): a 422 now instead."""
    with pytest.raises(InvalidSpec) as refused:
        await container.ingestion().submit(IngestionSpec((csv(tmp_path, "r.csv", "id,_partitiontime\n1,2\n"),), "d3"))
    assert refused.value.details["columns"] == ["_partitiontime"] and "_PARTITION" in refused.value.message
    assert [t.name for t in await container.warehouse().list_tables()] == []


async def test_a_uint64_past_int64_fails_the_commit_naming_the_column(container, tmp_path) -> None:
    pq.write_table(pa.table({"id": [1, 2], "big": pa.array([7, 2**63 + 5], pa.uint64())}), tmp_path / "u.parquet")
    kind, data = await ingest(container, IngestionSpec((str(tmp_path / "u.parquet"),), "u1"))
    assert kind == "failed" and "'big'" in data["message"] and "9223372036854775813" in data["message"], data
