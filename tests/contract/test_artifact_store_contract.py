"""ArtifactStore contract: every adapter (and the in-memory fake) must pass the same suite.

GCS runs through the local emulator (one per module, in a background thread, started only when
a "gcs" test runs) with the official client; each test gets its own key prefix in one bucket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import storage

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.gcs.artifact_store import GcsArtifactStore
from domain.types.errors import ArtifactNotFound, Conflict, InvalidIdentifier
from emulators.gcs import GcsEmulatorThread
from ports.artifact_store import ArtifactStore
from tests.emulators.gcs_fixtures import make_client, unique_name
from tests.fakes.artifact_store import InMemoryArtifactStore

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def gcs_bucket() -> Iterator[tuple[storage.Client, str]]:
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        client = make_client(emulator.url)
        bucket = client.create_bucket(unique_name("contract")).name
        yield client, bucket
        client.close()


@pytest.fixture(params=["memory", "filesystem", "gcs"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ArtifactStore]:
    if request.param == "memory":
        yield InMemoryArtifactStore()
    elif request.param == "filesystem":
        yield FilesystemArtifactStore(tmp_path / "artifacts")
    else:
        client, bucket = request.getfixturevalue("gcs_bucket")
        # A fresh prefix per test isolates tests and checks that keys come back prefix-relative.
        yield GcsArtifactStore(client, bucket, prefix=unique_name("test"))


async def test_put_then_get_returns_the_same_bytes(store: ArtifactStore) -> None:
    await store.put("models/a/versions/1/model.bin", b"\x00\x01binary")
    assert await store.get("models/a/versions/1/model.bin") == b"\x00\x01binary"


async def test_put_replaces_existing_bytes(store: ArtifactStore) -> None:
    await store.put("doc.json", b"old")
    await store.put("doc.json", b"new")
    assert await store.get("doc.json") == b"new"


async def test_get_of_a_missing_key_raises_artifact_not_found(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound):
        await store.get("models/missing/manifest.json")


async def test_create_is_create_only(store: ArtifactStore) -> None:
    assert await store.create("claims/1.json", b"first") is True
    assert await store.create("claims/1.json", b"second") is False
    assert await store.get("claims/1.json") == b"first"


async def test_concurrent_creates_have_exactly_one_winner(store: ArtifactStore) -> None:
    results = await asyncio.gather(*(store.create("race/claim.json", str(i).encode()) for i in range(20)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await store.get("race/claim.json") == str(winner).encode()


async def test_list_returns_sorted_keys_under_a_prefix(store: ArtifactStore) -> None:
    for key in ("models/b/2", "models/a/1", "models/a/sub/3", "other/x"):
        await store.put(key, b"x")
    assert list(await store.list("models/a/")) == ["models/a/1", "models/a/sub/3"]
    assert list(await store.list("models/")) == ["models/a/1", "models/a/sub/3", "models/b/2"]
    assert list(await store.list("nothing/")) == []


async def test_delete_is_idempotent(store: ArtifactStore) -> None:
    await store.put("gone.txt", b"x")
    await store.delete("gone.txt")
    await store.delete("gone.txt")
    with pytest.raises(ArtifactNotFound):
        await store.get("gone.txt")


async def test_uri_names_the_key(store: ArtifactStore) -> None:
    assert store.uri("models/a/1").endswith("models/a/1")


@pytest.fixture
def cas_store(store: ArtifactStore) -> ArtifactStore:
    """Compare-and-swap is part of the port: every store, fake included, must pass these."""
    return store


async def test_compare_and_swap_moves_only_from_the_expected_generation(cas_store: Any) -> None:
    first = await cas_store.compare_and_swap("aliases/prod.json", b"1", None)
    with pytest.raises(Conflict):
        await cas_store.compare_and_swap("aliases/prod.json", b"x", None)  # None: must not exist
    second = await cas_store.compare_and_swap("aliases/prod.json", b"2", first)
    with pytest.raises(Conflict):
        await cas_store.compare_and_swap("aliases/prod.json", b"x", first)  # stale
    assert await cas_store.get_with_generation("aliases/prod.json") == (b"2", second)
    with pytest.raises(Conflict):
        await cas_store.compare_and_swap("aliases/absent.json", b"x", second)


async def test_every_write_changes_the_generation(cas_store: Any) -> None:
    generations = []
    for data in (b"a", b"a", b"b"):
        await cas_store.put("doc.json", data)
        generations.append((await cas_store.get_with_generation("doc.json"))[1])
    await cas_store.delete("doc.json")
    assert await cas_store.create("doc.json", b"a") is True
    generations.append((await cas_store.get_with_generation("doc.json"))[1])
    assert len(set(generations)) == 4
    with pytest.raises(Conflict):
        await cas_store.compare_and_swap("doc.json", b"c", generations[0])


async def test_concurrent_compare_and_swaps_from_one_generation_have_one_winner(cas_store: Any) -> None:
    start = await cas_store.compare_and_swap("aliases/race.json", b"start", None)

    async def contender(i: int) -> int | None:
        try:
            return await cas_store.compare_and_swap("aliases/race.json", str(i).encode(), start)
        except Conflict:
            return None

    results = await asyncio.gather(*(contender(i) for i in range(12)))
    winners = [i for i, generation in enumerate(results) if generation is not None]
    assert len(winners) == 1
    assert await cas_store.get_with_generation("aliases/race.json") == (str(winners[0]).encode(), results[winners[0]])


async def test_filesystem_refuses_keys_that_escape_the_root(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path / "root")
    for key in ("../outside", "/abs", "a/../../b", "a//b"):
        with pytest.raises(InvalidIdentifier):
            await store.put(key, b"x")
    assert not (tmp_path / "outside").exists()


async def test_filesystem_refuses_keys_that_would_hide_among_its_temp_and_lock_files(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path / "root")
    for key in (".tmp-lock", "a/.tmp-x"):
        with pytest.raises(InvalidIdentifier):
            await store.put(key, b"x")
