"""Hostile source files through a real ingestion (container, arq workers on Redis, pyarrow staging, DuckDB).

Each file must end in exactly one of: a 4xx (InvalidSpec) naming the problem at submit; a `failed`
job whose cause names it; or a load where every bad row is counted and written to the rejects file
with its line number, so accepted + rejected = the rows in the file. Never an internal error, a job
left running, or rows that vanish without a word. The files are in tests/support/hostile_files.py.
"""

from __future__ import annotations

import asyncio
import csv
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urlparse

import pytest

from domain.types.errors import InvalidSpec, TableNotFound
from domain.types.ingestion import IngestionSpec
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.hostile_files import (
    FAILED,
    FAILED_NOT_UTF8,
    FINE,
    LOADED,
    RAGGED_NOT_UTF8,
    REFUSED,
    Case,
    csv_file,
)
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration


class Outcome(NamedTuple):
    kind: str  # the terminal event's type: completed, failed or cancelled
    message: str
    report: dict[str, Any]
    rejects: list[dict[str, str]]  # the rows of every rejects file


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,), redis_url=redis_url,
                        env=f"t{uuid.uuid4().hex[:8]}", ingestion_processes=0, seed_demo=False)
    async with running_container(settings) as container:
        yield container


async def ingest(container: Container, spec: IngestionSpec) -> Outcome:
    """Submit and wait for the end; a job still running after 30 s is a failure of its own (a hang)."""
    record = await container.ingestion().submit(spec)
    async with asyncio.timeout(30):
        async for event in container.events().subscribe(f"job:{record.id}"):
            if event.is_terminal:
                break
    report = dict(event.data) if event.type == "completed" else {}
    rejects = [row for uri in report.get("rejects_files", [])
               for row in csv.DictReader(Path(urlparse(uri).path).read_text(encoding="utf-8").splitlines())]
    return Outcome(event.type, str(event.data.get("message", "")), report, rejects)


async def table_rows(container: Container) -> int:
    return (await container.warehouse().describe("hostile")).row_count


def ids(cases: list[Case]) -> list[str]:
    return [case.label for case in cases]


@pytest.mark.parametrize("case", REFUSED, ids=ids(REFUSED))
async def test_refused_at_submit_with_a_message_naming_the_problem(container, tmp_path, case: Case) -> None:
    with pytest.raises(InvalidSpec) as refused:
        await container.ingestion().submit(case.build(tmp_path))
    assert case.hint in refused.value.message, refused.value.message
    assert "internal error" not in refused.value.message


# pyarrow prints the decode error that kept the handler from a ragged row not UTF-8 (an unraisable exception),
# then fails the read, which staging does again differently.
PRINTS_UNRAISABLE = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.mark.parametrize("case", [*LOADED, *(pytest.param(c, marks=PRINTS_UNRAISABLE) for c in RAGGED_NOT_UTF8)],
                         ids=ids(LOADED) + [f"ragged not UTF-8, {label}" for label in ids(RAGGED_NOT_UTF8)])
async def test_bad_rows_are_rejected_with_their_line_and_the_rest_loads(container, tmp_path, case: Case) -> None:
    outcome = await ingest(container, case.build(tmp_path))
    assert outcome.kind == "completed", outcome.message
    assert outcome.report["rows_read"] == case.rows
    assert outcome.report["rows_loaded"] + outcome.report["rows_rejected"] == case.rows
    assert sorted(int(r["line"]) for r in outcome.rejects) == list(case.rejected)
    assert all(case.hint in r["reason"] for r in outcome.rejects), outcome.rejects
    assert await table_rows(container) == case.rows - len(case.rejected)


@pytest.mark.parametrize("case", FINE, ids=ids(FINE))
async def test_unusual_but_valid_files_load_whole(container, tmp_path, case: Case) -> None:
    outcome = await ingest(container, case.build(tmp_path))
    assert outcome.kind == "completed", outcome.message
    assert outcome.report["rows_read"] == outcome.report["rows_loaded"] == case.rows
    assert outcome.rejects == []
    assert await table_rows(container) == case.rows


@pytest.mark.parametrize("case", [*FAILED, *(pytest.param(c, marks=PRINTS_UNRAISABLE) for c in FAILED_NOT_UTF8)],
                         ids=ids(FAILED) + ids(FAILED_NOT_UTF8))
async def test_files_broken_past_the_header_fail_the_job_naming_the_cause(container, tmp_path, case: Case) -> None:
    outcome = await ingest(container, case.build(tmp_path))
    assert outcome.kind == "failed"
    assert case.hint in outcome.message and "internal error" not in outcome.message, outcome.message
    with pytest.raises(TableNotFound):  # nothing was loaded
        await table_rows(container)


async def test_a_text_column_with_a_bad_byte_stays_text(container, tmp_path) -> None:
    """One value that is not UTF-8 used to make pyarrow type the whole column binary: a BLOB table column."""
    outcome = await ingest(container, csv_file(b"id,name\n1,ok\n2,\xff\n3,fine\n")(tmp_path))
    assert outcome.kind == "completed", outcome.message
    columns = {c.name: c.type for c in (await container.warehouse().describe("hostile")).columns}
    assert columns["name"] == "VARCHAR", columns


@PRINTS_UNRAISABLE
async def test_values_read_again_through_latin1_load_as_the_file_has_them(container, tmp_path) -> None:
    """A ragged row not UTF-8 makes staging read the file again through Latin-1; the bytes of the rest are kept."""
    data = "id,name\n1,café\n".encode() + b"2,\xff,x\n" + "3,naïve\n".encode() + b"4,\xfe\n"
    outcome = await ingest(container, csv_file(data)(tmp_path))
    assert sorted(r["line"] for r in outcome.rejects) == ["3", "5"]
    assert (await container.warehouse().read("hostile", ["name"])).column("name").to_pylist() == ["café", "naïve"]


async def test_a_written_inf_is_kept_while_an_overflowing_numeral_is_rejected(container, tmp_path) -> None:
    build = csv_file(b"id,v\n1,inf\n2,-Infinity\n3,1e400\n4,1.5\n")
    outcome = await ingest(container, build(tmp_path))
    assert [r["line"] for r in outcome.rejects] == ["4"]
    values = (await container.warehouse().read("hostile", ["v"])).column("v").to_pylist()
    assert sorted(values) == [float("-inf"), 1.5, float("inf")]


async def test_a_crash_while_staging_fails_the_job_instead_of_leaving_it_running(container, tmp_path,
                                                                                  monkeypatch) -> None:
    def crash(*args: Any) -> None:
        raise KeyError("a bug in staging")

    monkeypatch.setattr("adapters.pyarrow_files.staging.stage_partition", crash)
    outcome = await ingest(container, csv_file(b"a,b\n1,2\n")(tmp_path))
    assert outcome.kind == "failed"
    assert "partition 0: internal error: KeyError" in outcome.message, outcome.message
