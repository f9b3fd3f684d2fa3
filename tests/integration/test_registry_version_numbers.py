"""A version number is handed out once per model, whatever is deleted since (filesystem and GCS emulator).

Job records, alias history, signals and audits name versions by number: a number that came back after
`DELETE .../versions/N` or a retention sweep would make them point at another model.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.gcs.artifact_store import GcsArtifactStore
from adapters.system.clock import SystemClock
from domain.services.aliases import AliasService
from domain.services.registry import ModelRegistry
from domain.services.retention import RetentionService
from domain.types.errors import ModelNotFound
from domain.types.lifecycle import RetentionPolicy
from emulators.gcs import GcsEmulatorThread
from ports.artifact_store import ArtifactStore
from tests.emulators.gcs_fixtures import make_client, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
MODEL = "km"


@pytest.fixture(scope="module")
def gcs_url() -> Iterator[str]:
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


@pytest.fixture(params=["filesystem", "gcs"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ArtifactStore]:
    if request.param == "filesystem":
        yield FilesystemArtifactStore(tmp_path / "artifacts")
    else:
        client = make_client(request.getfixturevalue("gcs_url"))
        yield GcsArtifactStore(client, client.create_bucket(unique_name("reg")).name, prefix="dev/")
        client.close()


class Registry:
    """The registry and the retention service (the DELETE endpoint's and the daily sweep's path)."""

    def __init__(self, store: ArtifactStore) -> None:
        clock = SystemClock()
        self.registry = ModelRegistry(store, clock)
        aliases = AliasService(store, self.registry, clock)
        # No grace: an unfinished version is an orphan at once (as a crashed job's is after the real one).
        self.retention = RetentionService(store, self.registry, aliases, clock, RetentionPolicy(), timedelta(0))

    async def train(self, job_id: str) -> int:
        version = await self.registry.claim_version(MODEL, job_id)
        await self.registry.publish(MODEL, version, {"model.bin": job_id.encode()}, job_id=job_id, algorithm="a",
                                    spec={}, metrics={}, data={}, library_versions={},
                                    created_at="2026-01-01T00:00:00Z")
        return version

    async def versions(self) -> list[int]:
        return [m.version for m in await self.registry.list_versions(MODEL)]


async def test_the_number_of_a_deleted_latest_version_is_not_handed_out_again(store: ArtifactStore) -> None:
    registry = Registry(store)
    assert [await registry.train("job-a"), await registry.train("job-b")] == [1, 2]
    await registry.retention.delete_version(MODEL, 2)
    assert await registry.train("job-c") == 3
    for version in (1, 3):
        await registry.retention.delete_version(MODEL, version)
    assert await registry.versions() == []  # every version gone, the model's numbers still known
    assert await registry.train("job-d") == 4
    assert await registry.registry.version_of_job(MODEL, "job-b") is None  # its version is gone, not reassigned


async def test_a_claim_the_retention_sweep_removes_keeps_its_number(store: ArtifactStore) -> None:
    registry = Registry(store)
    await registry.train("job-a")
    assert await registry.registry.claim_version(MODEL, "job-crashed") == 2  # died before its manifest
    _plan, removed = await registry.retention.apply(MODEL)
    assert removed == ["models/km/versions/2/claim.json"]
    assert await registry.train("job-b") == 3
    assert await registry.versions() == [1, 3]


async def test_versions_claimed_before_the_mark_existed_keep_working(store: ArtifactStore) -> None:
    for version, job_id in ((1, "old-1"), (2, "old-2")):  # the layout an earlier release wrote: claims only
        claim = {"job_id": job_id, "claimed_at": "2025-01-01T00:00:00Z"}
        assert await store.create(f"models/{MODEL}/versions/{version}/claim.json", json.dumps(claim).encode())
    registry = Registry(store)
    assert await registry.registry.claim_version(MODEL, "old-2") == 2  # a re-run keeps its number
    assert await registry.train("new") == 3
    await registry.retention.delete_version(MODEL, 3)
    assert await registry.train("newer") == 4


async def test_concurrent_training_and_deleting_never_repeat_a_number(store: ArtifactStore) -> None:
    trainers, deleters = Registry(store), Registry(store)  # separate services, like two processes
    trained: list[int] = []

    async def train(index: int) -> None:
        trained.append(await trainers.train(f"job-{index}"))

    async def delete_the_latest(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                versions = await deleters.versions()
            except ModelNotFound:
                versions = []
            if versions:
                await deleters.retention.delete_version(MODEL, versions[-1])
            await asyncio.sleep(0)

    stop = asyncio.Event()
    deleter = asyncio.create_task(delete_the_latest(stop))
    for batch in range(4):
        await asyncio.gather(*(train(batch * 3 + i) for i in range(3)))
    stop.set()
    await deleter
    assert len(trained) == len(set(trained)) == 12, sorted(trained)
