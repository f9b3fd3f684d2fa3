"""A version delete and an alias move onto that version, sent together, never leave the alias on a
deleted version: one of the two loses (409 for the delete; 404 or 409 for the move). On the real
filesystem store and on the GCS emulator, in one process and across two."""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.gcs.artifact_store import GcsArtifactStore
from adapters.system.clock import SystemClock
from domain.services.aliases import AliasService
from domain.services.registry import ModelRegistry
from domain.services.retention import RetentionService
from domain.types.errors import Conflict, NotFound
from domain.types.lifecycle import RetentionPolicy
from emulators.gcs import GcsEmulatorThread
from ports.artifact_store import ArtifactStore
from tests.emulators.gcs_fixtures import make_client, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(170)]
MODEL, ALIAS = "race", "production"
Where = dict[str, str]  # how a process opens the store: {"kind": "filesystem", "root": ...} or gcs url/bucket/prefix


@pytest.fixture(scope="module")
def gcs_url() -> Iterator[str]:
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


@pytest.fixture(params=["filesystem", "gcs"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Where:
    if request.param == "filesystem":
        return {"kind": "filesystem", "root": str(tmp_path / "artifacts")}
    url = request.getfixturevalue("gcs_url")
    client = make_client(url)
    bucket = client.create_bucket(unique_name("race")).name
    client.close()
    return {"kind": "gcs", "url": url, "bucket": bucket, "prefix": "dev/"}


def open_store(where: Where) -> ArtifactStore:
    if where["kind"] == "filesystem":
        return FilesystemArtifactStore(Path(where["root"]))
    return GcsArtifactStore(make_client(where["url"]), where["bucket"], prefix=where["prefix"])


class Services:
    """One process's registry, aliases and retention (the DELETE endpoint's and the sweep's path)."""

    def __init__(self, store: ArtifactStore) -> None:
        clock = SystemClock()
        self.registry = ModelRegistry(store, clock)
        self.aliases = AliasService(store, self.registry, clock)
        self.retention = RetentionService(store, self.registry, self.aliases, clock, RetentionPolicy(), timedelta(0))

    async def publish(self, count: int) -> list[int]:
        versions = []
        for index in range(count):
            version = await self.registry.claim_version(MODEL, f"job-{index}")
            await self.registry.publish(MODEL, version, {"model.bin": b"x"}, job_id=f"job-{index}", algorithm="a",
                                        spec={}, metrics={}, data={}, library_versions={},
                                        created_at="2026-01-01T00:00:00Z")
            versions.append(version)
        return versions

    async def move(self, version: int) -> object:
        return await _outcome(self.aliases.move(MODEL, ALIAS, version, reason="race", by="mover"))

    async def delete(self, version: int) -> object:
        return await _outcome(self.retention.delete_version(MODEL, version))


async def _outcome(call: Any) -> object:
    """"ok", or the domain error a losing request answers with (anything else fails the test)."""
    try:
        await call
    except (Conflict, NotFound) as exc:
        return exc
    return "ok"


async def assert_consistent(services: Services, version: int, deleted: object, moved: object) -> None:
    assert not (deleted == "ok" and moved == "ok"), f"v{version}: both the delete and the move succeeded"
    assert "ok" in (deleted, moved), f"v{version}: neither won ({deleted!r}, {moved!r})"
    current = await services.aliases.current(MODEL, ALIAS)
    if current is not None:
        await services.registry.get_version(MODEL, current)  # ModelNotFound: the alias is on a deleted version
    if moved == "ok":
        assert current == version
    history = await services.aliases.history(MODEL, ALIAS)
    assert all(a.to_version == b.from_version for a, b in itertools.pairwise(history))
    assert (history[-1].to_version if history else None) == current


@pytest.fixture
async def services(where: Where) -> AsyncIterator[Services]:
    yield Services(open_store(where))


async def test_a_delete_and_a_move_sent_together_never_both_succeed(services: Services, where: Where) -> None:
    versions = await services.publish(24)
    other = Services(open_store(where))  # a second set of services on the same store, as another API process has
    for version in versions:
        deleted, moved = await asyncio.gather(services.delete(version), other.move(version))
        await assert_consistent(services, version, deleted, moved)


def _mover_process(where: Where, versions: list[int], barrier: Any, results: Any) -> None:
    """The other process: at each barrier, move the alias onto the next version."""
    services = Services(open_store(where))
    for version in versions:
        barrier.wait()
        outcome = asyncio.run(services.move(version))
        results.put(outcome if outcome == "ok" else type(outcome).__name__)


async def test_a_delete_and_a_move_from_two_processes_never_both_succeed(services: Services, where: Where) -> None:
    versions = await services.publish(16)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2, timeout=60), context.Queue()
    mover = context.Process(target=_mover_process, args=(where, versions, barrier, results), daemon=True)
    mover.start()
    try:
        for version in versions:
            await asyncio.to_thread(barrier.wait)
            deleted = await services.delete(version)
            moved = await asyncio.to_thread(results.get, True, 60)
            await assert_consistent(services, version, deleted, moved)
    finally:
        mover.join(30)
        if mover.is_alive():
            mover.kill()
