"""ArtifactStore contract: every adapter (and the in-memory fake) must pass the same suite.

Later adapters (GCS through the emulator) join by adding a fixture param.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from domain.types.errors import ArtifactNotFound, InvalidIdentifier
from ports.artifact_store import ArtifactStore
from tests.fakes.artifact_store import InMemoryArtifactStore

pytestmark = pytest.mark.contract


@pytest.fixture(params=["memory", "filesystem"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ArtifactStore]:
    if request.param == "memory":
        yield InMemoryArtifactStore()
    else:
        yield FilesystemArtifactStore(tmp_path / "artifacts")


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


async def test_filesystem_refuses_keys_that_escape_the_root(tmp_path: Path) -> None:
    store = FilesystemArtifactStore(tmp_path / "root")
    for key in ("../outside", "/abs", "a/../../b", "a//b"):
        with pytest.raises(InvalidIdentifier):
            await store.put(key, b"x")
    assert not (tmp_path / "outside").exists()
