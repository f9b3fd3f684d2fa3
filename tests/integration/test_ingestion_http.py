"""Ingestion of http(s) sources end to end: the real container (arq on Redis, pyarrow staging, DuckDB)
reading from a local HTTP server, with and without byte-range support."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from domain.types.ingestion import IngestionSpec, WriteMode
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.integration.test_ingestion_pipeline import finished
from tests.support.http_files import FileServer
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,), redis_url=redis_url,
                        env=f"t{uuid.uuid4().hex[:8]}", ingest_http_private_hosts=True,  # served on 127.0.0.1
                        ingestion_processes=0, seed_demo=False)
    async with running_container(settings) as container:
        yield container


@pytest.fixture
def served(tmp_path: Path) -> Path:
    folder = tmp_path / "served"
    folder.mkdir()
    (folder / "people.csv").write_text("id,name,score\n" + "".join(f"{i},n{i},{i / 2}\n" for i in range(3000)))
    ids = list(range(3000, 4000))
    pq.write_table(pa.table({"id": ids, "name": [f"n{i}" for i in ids], "score": [i / 2 for i in ids]}),
                   folder / "people.parquet", row_group_size=250)
    return folder


@pytest.fixture(params=[True, False], ids=["ranges", "no-ranges"])
def server(served: Path, request: pytest.FixtureRequest) -> Iterator[FileServer]:
    with FileServer(served, ranges=request.param) as running:
        yield running


async def ingest(container: Container, spec: IngestionSpec) -> dict:
    record = await container.ingestion().submit(spec)
    events = await finished(container, record.id)
    assert events[-1].type == "completed", events[-1].data
    return (await container.ingestion().get(record.id)).spec["plan"]


async def test_a_csv_url_is_read_in_byte_ranges_by_its_partitions(container: Container, server: FileServer) -> None:
    plan = await ingest(container, IngestionSpec((server.url("people.csv"),), "people", partitions=2))
    table = await container.warehouse().read("people")
    assert sorted(table.column("id").to_pylist()) == list(range(3000))
    assert dict(zip(table.column("id").to_pylist(), table.column("score").to_pylist(), strict=True))[2999] == 1499.5
    pieces = [p for part in plan["partitions"] for p in part["pieces"]]
    assert len(pieces) == 2 and pieces[1]["start"] > 0  # cut on a line end, at about half the file
    if server.ranges:  # each partition asked the server for its own range only
        starts = {r.removeprefix("bytes=").split("-")[0] for r in server.ranged("people.csv")}
        assert {"0", str(pieces[1]["start"])} <= starts


async def test_a_parquet_url_is_read_by_row_groups(container: Container, server: FileServer) -> None:
    plan = await ingest(container, IngestionSpec((server.url("people.parquet"),), "people", partitions=2,
                                                 mode=WriteMode.REPLACE))
    assert [p["row_groups"] for part in plan["partitions"] for p in part["pieces"]] == [[0, 1], [2, 3]]
    table = await container.warehouse().read("people")
    assert sorted(table.column("id").to_pylist()) == list(range(3000, 4000))
    assert table.schema.field("score").type == pa.float64()


async def test_a_server_error_while_staging_is_retried_by_the_queue(container: Container, server: FileServer) -> None:
    record = await container.ingestion().submit(IngestionSpec((server.url("people.csv"),), "people", partitions=1))
    server.failures = 1  # planned already; the partition's first request answers 503 (no await since submit)
    events = await finished(container, record.id)
    assert server.failures == 0 and events[-1].type == "completed", events[-1].data
    assert events[-1].data["rows_loaded"] == 3000
