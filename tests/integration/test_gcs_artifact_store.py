"""GcsArtifactStore against the GCS emulator: resumable uploads, races, generations, faults.

The contract suite covers the port; these tests cover what only GCS does: chunked resumable
uploads, conditional writes by generation from separate clients, and the client's own retries.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from adapters.gcs.artifact_store import GcsArtifactStore
from domain.types.errors import Conflict, PermanentError, TransientError
from emulators.gcs import GcsEmulatorThread
from tests.emulators.gcs_fixtures import FAST_RETRY, get_faults, make_client, set_faults, unique_name

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def gcs_url() -> Iterator[str]:
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


@pytest.fixture
def faulty_url() -> Iterator[str]:
    """A private emulator per fault test, so injected faults never leak into other tests."""
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


def new_store(url: str, bucket: str | None = None, **kwargs: Any) -> GcsArtifactStore:
    client = make_client(url)
    name = bucket or client.create_bucket(unique_name("it")).name
    return GcsArtifactStore(client, name, prefix="dev/", **kwargs)


async def test_a_12_mib_artifact_round_trips_through_chunked_resumable_upload(faulty_url: str) -> None:
    store = new_store(faulty_url, chunk_size=MIB)
    # Failing the 2nd chunk PUT proves the upload went resumable, in chunks, and recovered.
    set_faults(faulty_url, fail_nth={"operation": "upload.chunk", "n": 2}, status=503)
    data = os.urandom(12 * MIB + 123)
    await store.put("models/big/versions/1/model.bin", data)
    faults = get_faults(faulty_url)
    assert faults["nth_seen"] >= 12 and faults["injected"] == 1
    assert await store.get("models/big/versions/1/model.bin") == data


def test_create_race_between_8_threads_with_their_own_clients_has_one_winner(gcs_url: str) -> None:
    bucket = make_client(gcs_url).create_bucket(unique_name("race")).name
    barrier = threading.Barrier(8, timeout=10)

    def contender(i: int) -> bool:
        store = new_store(gcs_url, bucket)
        barrier.wait()  # all threads fire together
        return asyncio.run(store.create("models/m/versions/1/claim.json", str(i).encode()))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(contender, range(8)))
    assert results.count(True) == 1
    winner = asyncio.run(new_store(gcs_url, bucket).get("models/m/versions/1/claim.json"))
    assert winner == str(results.index(True)).encode()


async def test_compare_and_swap_conflicts_between_two_clients(gcs_url: str) -> None:
    bucket = make_client(gcs_url).create_bucket(unique_name("cas")).name
    ours, theirs = new_store(gcs_url, bucket), new_store(gcs_url, bucket)  # a client each
    key = "models/m/aliases/prod.json"
    start = await ours.compare_and_swap(key, b'{"version": 1}', None)
    _data, seen = await theirs.get_with_generation(key)
    moved = await theirs.compare_and_swap(key, b'{"version": 2}', seen)
    with pytest.raises(Conflict):
        await ours.compare_and_swap(key, b'{"version": 3}', start)  # lost the race: stale generation
    with pytest.raises(Conflict):
        await ours.compare_and_swap(key, b'{"version": 3}', None)  # None: must not exist yet
    assert moved > start
    assert await ours.get_with_generation(key) == (b'{"version": 2}', moved)


async def test_prefixes_keep_environments_apart(gcs_url: str) -> None:
    client = make_client(gcs_url)
    bucket = client.create_bucket(unique_name("env")).name
    dev, prod = GcsArtifactStore(client, bucket, "dev/"), GcsArtifactStore(client, bucket, "prod")
    await dev.put("models/a/1", b"dev")
    await prod.put("models/a/1", b"prod")
    assert (await dev.get("models/a/1"), await prod.get("models/a/1")) == (b"dev", b"prod")
    assert await prod.list("") == ["models/a/1"]
    assert prod.uri("models/a/1") == f"gs://{bucket}/prod/models/a/1"
    assert [b.name for b in client.list_blobs(bucket)] == ["dev/models/a/1", "prod/models/a/1"]


async def test_every_operation_succeeds_through_20_percent_injected_503s(faulty_url: str) -> None:
    store = new_store(faulty_url, chunk_size=MIB, retry=FAST_RETRY)
    set_faults(faulty_url, error_rate=0.2, status=503, seed=11)
    big, small = os.urandom(10 * MIB + 7), os.urandom(4096)
    await store.put("big.bin", big)
    await store.put("small.bin", small)
    assert await store.create("claim.json", b"mine") is True
    generation = await store.compare_and_swap("alias.json", b"v1", None)
    await store.compare_and_swap("alias.json", b"v2", generation)
    assert await store.get("big.bin") == big
    assert await store.get("small.bin") == small
    assert await store.list("") == ["alias.json", "big.bin", "claim.json", "small.bin"]
    await store.delete("small.bin")
    assert await store.list("") == ["alias.json", "big.bin", "claim.json"]
    assert (await store.get_with_generation("alias.json"))[0] == b"v2"
    assert get_faults(faulty_url)["injected"] > 0  # the faults really happened


@pytest.mark.parametrize(("status", "error"), [(503, TransientError), (429, TransientError),
                                               (403, PermanentError), (400, PermanentError)])
async def test_errors_are_translated_once_retries_are_exhausted(
        faulty_url: str, status: int, error: type[Exception]) -> None:
    store = new_store(faulty_url, retry=None)  # no retries: the first failure surfaces
    await store.put("doc.json", b"x")
    set_faults(faulty_url, fail_nth={"operation": "download", "n": 1}, status=status)
    with pytest.raises(error) as caught:
        await store.get("doc.json")
    assert caught.value.details["status"] == status
