"""Ingestion in the emulated profile: gs:// sources, partitions staged to Cloud Storage, one BigQuery load."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from domain.types.ingestion import Cleaning, Dedupe, IngestionSpec, WriteMode
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.emulator_fixtures import Emulators
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration


@pytest.fixture
async def container(tmp_path: Path, redis_url: str, emulators: Emulators) -> AsyncIterator[Container]:
    env = f"t{uuid.uuid4().hex[:8]}"
    settings = Settings(profile="emulated", data_dir=tmp_path / "data", ingest_local_roots=(tmp_path,),
                        redis_url=redis_url, env=env, seed_demo=False, ingestion_processes=0,
                        gcs_emulator_url=emulators.gcs_url, bigquery_emulator_url=emulators.bigquery_url)
    async with running_container(settings) as container:
        yield container


def upload(emulators: Emulators, tmp_path: Path, prefix: str) -> str:
    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options=ClientOptions(api_endpoint=emulators.gcs_url))
    bucket = client.lookup_bucket("mlplane") or client.create_bucket("mlplane")
    rows = [f"{i},k{i % 5},{i / 2}" for i in range(600)] + ["1,k1,0.5", "bad,row,here,extra"]
    (tmp_path / "a.csv").write_text("id,key,score\n" + "\n".join(rows) + "\n")
    pq.write_table(pa.table({"id": list(range(600, 700)), "key": ["k0"] * 100, "score": [1.0] * 100}),
                   tmp_path / "b.parquet", row_group_size=25)
    for name in ("a.csv", "b.parquet"):
        bucket.blob(f"{prefix}/{name}").upload_from_filename(str(tmp_path / name))
    return f"gs://mlplane/{prefix}/*"


async def test_gs_sources_are_staged_to_cloud_storage_and_loaded_into_bigquery(container, emulators, tmp_path):
    source = upload(emulators, tmp_path, f"incoming-{uuid.uuid4().hex[:6]}")
    spec = IngestionSpec((source,), "people", mode=WriteMode.REPLACE, partitions=3,
                         cleaning=Cleaning(Dedupe.EXACT))
    record = await container.ingestion().submit(spec)
    async with asyncio.timeout(60):
        async for event in container.events().subscribe(f"job:{record.id}"):
            if event.is_terminal:
                break
    assert event.type == "completed", event.data
    assert event.data["rows_read"] == 702 and event.data["rows_rejected"] == 1
    assert event.data["rows_loaded"] == 700 and event.data["rejects_files"][0].startswith("gs://mlplane/")
    assert (await container.warehouse().describe("people")).row_count == 700
