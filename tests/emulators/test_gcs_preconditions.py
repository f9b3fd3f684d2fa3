"""Object metadata and write preconditions in the GCS emulator through the official client: patch and
update with metageneration checks, copy, rewrite, compose and rename, generation preconditions on
every upload path, and concurrent writers racing for one name. These are the guarantees that let
several processes write to one bucket without a lock."""

from __future__ import annotations

import io
import threading

import pytest
from google.api_core import exceptions as gexc
from google.cloud import storage

from tests.emulators.gcs_fixtures import make_client, unique_name
from tests.emulators.gcs_support import KIB

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(60)]


# -- metadata, copy, rewrite, compose, delete ---------------------------------------------------


def test_patch_metadata_and_metageneration_preconditions(bucket: storage.Bucket) -> None:
    blob = bucket.blob("meta")
    blob.metadata = {"a": "1", "b": "2"}
    blob.upload_from_string(b"m")
    blob.metadata = {"b": None, "c": "3"}  # None removes a key
    blob.content_type = "application/json"
    blob.patch(if_metageneration_match=1)
    fresh = bucket.get_blob("meta")
    assert fresh.metadata == {"a": "1", "c": "3"}
    assert (fresh.metageneration, fresh.content_type) == (2, "application/json")
    assert fresh.generation == blob.generation

    fresh.metadata = {"d": "4"}
    with pytest.raises(gexc.PreconditionFailed):
        fresh.patch(if_metageneration_match=1)
    with pytest.raises(gexc.PreconditionFailed):
        bucket.delete_blob("meta", if_generation_match=blob.generation + 1)
    fresh.metadata = {"only": "this"}  # update() is a PUT: replaces all writable fields
    fresh.update()
    replaced = bucket.get_blob("meta")
    assert (replaced.metadata, replaced.metageneration) == ({"only": "this"}, 3)
    bucket.delete_blob("meta", if_generation_match=blob.generation)
    assert not bucket.blob("meta").exists()


def test_copy_rewrite_compose_rename(bucket: storage.Bucket, gcs_client: storage.Client) -> None:
    other = gcs_client.create_bucket(unique_name("dst"))
    src = bucket.blob("src")
    src.metadata = {"k": "v"}
    src.upload_from_string(b"source-bytes", content_type="text/plain")

    copied = bucket.copy_blob(src, other, "copied")
    assert copied.download_as_bytes() == b"source-bytes" and copied.metadata == {"k": "v"}
    with pytest.raises(gexc.PreconditionFailed):
        bucket.copy_blob(src, other, "copied", if_generation_match=0)

    dest = other.blob("rewritten")
    token, done, total = dest.rewrite(src)
    assert token is None and done == total == len(b"source-bytes")
    assert dest.download_as_bytes() == b"source-bytes"

    bucket.blob("part2").upload_from_string(b"+tail")
    composed = bucket.blob("composed")
    composed.compose([bucket.blob("src"), bucket.blob("part2")])
    assert composed.download_as_bytes() == b"source-bytes+tail"
    assert composed.component_count == 2

    renamed = bucket.rename_blob(bucket.blob("part2"), "part2-renamed")
    assert renamed.download_as_bytes() == b"+tail" and not bucket.blob("part2").exists()


# -- preconditions and concurrency ---------------------------------------------------------------


def test_create_only_and_generation_preconditions(bucket: storage.Bucket) -> None:
    first = bucket.blob("once")
    first.upload_from_string(b"1", if_generation_match=0)
    with pytest.raises(gexc.PreconditionFailed):
        bucket.blob("once").upload_from_string(b"2", if_generation_match=0)
    with pytest.raises(gexc.PreconditionFailed):  # the resumable path carries it too
        bucket.blob("once", chunk_size=256 * KIB).upload_from_file(
            io.BytesIO(b"3" * 300 * KIB), if_generation_match=0)
    with pytest.raises(gexc.PreconditionFailed):
        bucket.blob("once").upload_from_string(b"2", if_generation_match=first.generation + 1)
    with pytest.raises(gexc.PreconditionFailed):
        bucket.blob("once").upload_from_string(b"2", if_generation_not_match=first.generation)
    with pytest.raises(gexc.NotModified):
        bucket.blob("once").download_as_bytes(if_generation_not_match=first.generation)
    second = bucket.blob("once")
    second.upload_from_string(b"2", if_generation_match=first.generation)
    assert second.generation > first.generation
    assert bucket.blob("once").download_as_bytes(if_generation_match=second.generation) == b"2"


def test_concurrent_create_only_has_one_winner(gcs_url: str, bucket: storage.Bucket) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def writer(index: int) -> None:
        client = make_client(gcs_url)  # one client per thread, like separate processes
        barrier.wait(timeout=10)
        try:
            client.bucket(bucket.name).blob("race").upload_from_string(
                f"writer-{index}".encode(), if_generation_match=0)
            outcomes.append(f"won-{index}")
        except gexc.PreconditionFailed:
            outcomes.append("lost")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(outcomes) == 8 and len(winners) == 1
    assert bucket.blob("race").download_as_text() == winners[0].replace("won", "writer")


def test_concurrent_writers_get_increasing_generations(gcs_url: str, bucket: storage.Bucket) -> None:
    generations: list[int] = []

    def writer(index: int) -> None:
        blob = make_client(gcs_url).bucket(bucket.name).blob("busy")
        for round_ in range(5):
            blob.upload_from_string(f"{index}-{round_}".encode())
            generations.append(blob.generation)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(set(generations)) == len(generations) == 30
    final = bucket.get_blob("busy")
    assert final.generation == max(generations)
