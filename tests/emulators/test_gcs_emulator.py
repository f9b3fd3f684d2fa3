"""The GCS emulator driven by the official google-cloud-storage client."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import google_crc32c
import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import storage
from google.cloud.storage import transfer_manager

from emulators.gcs import GcsEmulatorThread
from tests.emulators.gcs_fixtures import (
    FAST_RETRY,
    HTTP_TIMEOUT,
    clear_faults,
    get_faults,
    make_client,
    set_faults,
    unique_name,
)

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(60)]

KIB = 1024


def b64_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def b64_crc32c(data: bytes) -> str:
    return base64.b64encode(struct.pack(">I", google_crc32c.value(data))).decode()


@pytest.fixture(scope="session")
def gcs_url() -> Iterator[str]:
    """One memory-backed emulator on a free 127.0.0.1 port for the whole session."""
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


@pytest.fixture
def faulty_url() -> Iterator[str]:
    """A private emulator for fault tests, so faults never leak into other tests."""
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


@pytest.fixture(scope="session")
def gcs_client(gcs_url: str) -> storage.Client:
    return make_client(gcs_url)


@pytest.fixture
def bucket(gcs_client: storage.Client) -> storage.Bucket:
    return gcs_client.create_bucket(unique_name("bkt"))


# -- buckets ------------------------------------------------------------------------------


def test_bucket_lifecycle_and_error_mapping(gcs_client: storage.Client) -> None:
    name = unique_name("life")
    created = gcs_client.create_bucket(name)
    assert created.name == name and created.metageneration == 1

    with pytest.raises(gexc.Conflict):
        gcs_client.create_bucket(name)
    assert gcs_client.get_bucket(name).name == name
    assert name in {b.name for b in gcs_client.list_buckets(prefix="life-")}
    with pytest.raises(gexc.NotFound):
        gcs_client.get_bucket(unique_name("missing"))
    assert gcs_client.lookup_bucket(unique_name("missing")) is None

    created.blob("keep").upload_from_string(b"x")
    with pytest.raises(gexc.Conflict):
        created.delete()
    created.delete(force=True)
    assert not gcs_client.bucket(name).exists()
    with pytest.raises(gexc.NotFound):
        gcs_client.bucket(name).delete()


def test_bucket_patch_and_list_pagination(gcs_client: storage.Client) -> None:
    prefix = unique_name("pg")
    names = sorted(f"{prefix}-{i:02d}" for i in range(5))
    for name in names:
        gcs_client.create_bucket(name)
    iterator = gcs_client.list_buckets(prefix=prefix, page_size=2)
    pages = [[b.name for b in page] for page in iterator.pages]
    assert [n for page in pages for n in page] == names
    assert len(pages) == 3

    target = gcs_client.get_bucket(names[0])
    target.labels = {"team": "ml"}
    target.patch()
    assert gcs_client.get_bucket(names[0]).labels == {"team": "ml"}
    assert target.metageneration == 2


def test_env_var_and_none_project(gcs_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_url)
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.delenv("GCLOUD_PROJECT", raising=False)
    client = storage.Client()  # anonymous, project "<none>" on the wire
    name = unique_name("env")
    client.create_bucket(name)
    assert name in {b.name for b in client.list_buckets()}


# -- uploads and downloads ----------------------------------------------------------------


def test_multipart_upload_resource_fields_and_checksums(bucket: storage.Bucket) -> None:
    data = b"hello emulator\n" * 100
    blob = bucket.blob("dir/file one.txt")
    blob.metadata = {"owner": "ml"}
    blob.upload_from_string(data, content_type="text/plain", checksum="crc32c")

    got = bucket.get_blob("dir/file one.txt")
    assert got is not None
    assert (got.size, got.content_type, got.metadata) == (len(data), "text/plain", {"owner": "ml"})
    assert got.generation == blob.generation and got.metageneration == 1
    assert got.md5_hash == b64_md5(data) and got.crc32c == b64_crc32c(data)
    assert got.time_created is not None and got.updated is not None
    assert got.download_as_bytes(checksum="crc32c") == data
    assert got.download_as_bytes(checksum="md5") == data


def test_resumable_upload_10mb_small_chunks(bucket: storage.Bucket, tmp_path: Path) -> None:
    data = os.urandom(10 * 1024 * KIB + 12345)
    blob = bucket.blob("big.bin", chunk_size=256 * KIB)
    # upload_from_file without size goes resumable; chunks of 256 KiB, crc32c sent at the end.
    blob.upload_from_file(io.BytesIO(data), checksum="crc32c")
    assert blob.size == len(data) and blob.crc32c == b64_crc32c(data)

    assert bucket.blob("big.bin").download_as_bytes(checksum="crc32c") == data
    chunked = bucket.blob("big.bin", chunk_size=1024 * KIB)  # ranged 206 reads
    target = tmp_path / "big.bin"
    chunked.download_to_filename(str(target), checksum="md5")
    assert target.read_bytes() == data


def test_file_like_writer_and_reader(bucket: storage.Bucket) -> None:
    data = os.urandom(700 * KIB + 3)
    # BlobWriter streams with an unknown total ("bytes a-b/*") until close().
    with bucket.blob("stream.bin", chunk_size=256 * KIB).open("wb") as writer:
        for offset in range(0, len(data), 100 * KIB):
            writer.write(data[offset : offset + 100 * KIB])
    with bucket.blob("stream.bin").open("rb", chunk_size=256 * KIB) as reader:
        assert reader.read(10) == data[:10]
        reader.seek(500 * KIB)
        assert reader.read() == data[500 * KIB :]


def test_resumable_protocol_over_http(gcs_url: str, bucket: storage.Bucket) -> None:
    base = f"{gcs_url}/upload/storage/v1/b/{bucket.name}/o?uploadType=resumable"
    start = requests.post(base, json={"name": "raw", "contentType": "text/plain"},
                          timeout=HTTP_TIMEOUT)
    assert start.status_code == 200
    session = start.headers["Location"]
    assert session.startswith(gcs_url)

    status = requests.put(session, headers={"Content-Range": "bytes */*"}, timeout=HTTP_TIMEOUT)
    assert status.status_code == 308 and "Range" not in status.headers
    first = requests.put(session, data=b"abcd", headers={"Content-Range": "bytes 0-3/*"},
                         timeout=HTTP_TIMEOUT)
    assert (first.status_code, first.headers["Range"]) == (308, "bytes=0-3")
    # A resent overlapping chunk only appends the new tail.
    again = requests.put(session, data=b"cdef", headers={"Content-Range": "bytes 2-5/*"},
                         timeout=HTTP_TIMEOUT)
    assert again.headers["Range"] == "bytes=0-5"
    status = requests.put(session, headers={"Content-Range": "bytes */8"}, timeout=HTTP_TIMEOUT)
    assert (status.status_code, status.headers["Range"]) == (308, "bytes=0-5")
    final = requests.put(session, data=b"gh", headers={"Content-Range": "bytes 6-7/8"},
                         timeout=HTTP_TIMEOUT)
    assert final.status_code == 200 and final.json()["size"] == "8"
    assert bucket.blob("raw").download_as_bytes() == b"abcdefgh"


def test_media_upload_and_bad_checksum(gcs_url: str, bucket: storage.Bucket) -> None:
    url = f"{gcs_url}/upload/storage/v1/b/{bucket.name}/o?uploadType=media&name=m%2Fa.txt"
    reply = requests.post(url, data=b"media body", headers={"Content-Type": "text/plain"},
                          timeout=HTTP_TIMEOUT)
    assert reply.status_code == 200 and reply.json()["name"] == "m/a.txt"
    assert bucket.blob("m/a.txt").download_as_text() == "media body"

    start = requests.post(f"{gcs_url}/upload/storage/v1/b/{bucket.name}/o?uploadType=resumable",
                          json={"name": "corrupt", "crc32c": b64_crc32c(b"other")},
                          timeout=HTTP_TIMEOUT)
    bad = requests.put(start.headers["Location"], data=b"data",
                       headers={"Content-Range": "bytes 0-3/4"}, timeout=HTTP_TIMEOUT)
    assert bad.status_code == 400
    assert not bucket.blob("corrupt").exists()


def test_range_downloads(gcs_url: str, bucket: storage.Bucket) -> None:
    bucket.blob("r").upload_from_string(b"0123456789")
    blob = bucket.blob("r")
    assert blob.download_as_bytes(start=2, end=5) == b"2345"
    assert blob.download_as_bytes(start=7) == b"789"
    with pytest.raises(gexc.RequestRangeNotSatisfiable):
        blob.download_as_bytes(start=50)
    suffix = requests.get(f"{gcs_url}/download/storage/v1/b/{bucket.name}/o/r?alt=media",
                          headers={"Range": "bytes=-3"}, timeout=HTTP_TIMEOUT)
    assert (suffix.status_code, suffix.content) == (206, b"789")
    assert suffix.headers["Content-Range"] == "bytes 7-9/10"
    full = requests.get(f"{gcs_url}/storage/v1/b/{bucket.name}/o/r?alt=media", timeout=HTTP_TIMEOUT)
    assert full.headers["X-Goog-Hash"] == f"crc32c={b64_crc32c(b'0123456789')},md5={b64_md5(b'0123456789')}"
    bucket.blob("empty").upload_from_string(b"")
    assert bucket.blob("empty").download_as_bytes() == b""
    assert bucket.blob("empty", chunk_size=256 * KIB).download_as_bytes() == b""


def test_not_found_body_and_mapping(gcs_url: str, bucket: storage.Bucket) -> None:
    reply = requests.get(f"{gcs_url}/storage/v1/b/{bucket.name}/o/nope", timeout=HTTP_TIMEOUT)
    error = reply.json()["error"]
    assert reply.status_code == 404 and error["code"] == 404
    assert error["message"] and error["errors"][0]["reason"] == "notFound"
    assert bucket.get_blob("nope") is None
    assert not bucket.blob("nope").exists()
    with pytest.raises(gexc.NotFound):
        bucket.blob("nope").download_as_bytes()
    with pytest.raises(gexc.NotFound):
        bucket.delete_blob("nope")
    missing_bucket = make_client(gcs_url).bucket(unique_name("nobucket"))
    with pytest.raises(gexc.NotFound):
        missing_bucket.blob("x").upload_from_string(b"x")



@pytest.mark.parametrize("name", ["ünï cødé/name.txt", "a/copyTo/b/x/o/y", "q?x=1#frag%20&+", "~tilde/ends/"])
def test_awkward_object_names_round_trip(bucket: storage.Bucket, name: str) -> None:
    blob = bucket.blob(name)
    blob.upload_from_string(name.encode())
    assert bucket.get_blob(name).name == name
    assert bucket.blob(name).download_as_bytes() == name.encode()
    assert [b.name for b in bucket.list_blobs()] == [name]
    assert bucket.copy_blob(blob, bucket, name + ".copy").download_as_bytes() == name.encode()
    bucket.delete_blob(name)
    assert not bucket.blob(name).exists()


# -- listing -------------------------------------------------------------------------------


def test_list_prefix_delimiter_and_pages(gcs_client: storage.Client, bucket: storage.Bucket) -> None:
    names = [f"logs/2024/{i:02d}.txt" for i in range(12)] + ["logs/top.txt", "logs/2025/a", "z"]
    for name in names:
        bucket.blob(name).upload_from_string(name.encode())

    iterator = gcs_client.list_blobs(bucket, page_size=5)
    pages = [[b.name for b in page] for page in iterator.pages]
    assert len(pages) == 3 and [n for p in pages for n in p] == sorted(names)

    it = gcs_client.list_blobs(bucket, prefix="logs/", delimiter="/")
    assert [b.name for b in it] == ["logs/top.txt"]
    assert it.prefixes == {"logs/2024/", "logs/2025/"}

    # Prefixes count towards a page; paging must not repeat or lose any entry.
    it = gcs_client.list_blobs(bucket, delimiter="/", page_size=1)
    assert [b.name for b in it] == ["z"] and it.prefixes == {"logs/"}

    window = gcs_client.list_blobs(bucket, start_offset="logs/2024/05", end_offset="logs/2024/08")
    assert [b.name for b in window] == [f"logs/2024/{i:02d}.txt" for i in (5, 6, 7)]


def test_versions_listing_and_old_generation(gcs_client: storage.Client) -> None:
    bkt = gcs_client.bucket(unique_name("ver"))
    bkt.versioning_enabled = True
    bkt = gcs_client.create_bucket(bkt)
    first = bkt.blob("v")
    first.upload_from_string(b"one")
    second = bkt.blob("v")
    second.upload_from_string(b"two")
    assert second.generation > first.generation

    versions = list(gcs_client.list_blobs(bkt, versions=True))
    assert [(b.name, b.generation) for b in versions] == [
        ("v", first.generation), ("v", second.generation)]
    assert [b.generation for b in gcs_client.list_blobs(bkt)] == [second.generation]
    assert bkt.blob("v", generation=first.generation).download_as_bytes() == b"one"
    assert bkt.blob("v").download_as_bytes() == b"two"


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


# -- directory backend -----------------------------------------------------------------------------


def test_directory_backend_survives_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "gcs-data"
    payload = os.urandom(300 * KIB)
    with GcsEmulatorThread(host="127.0.0.1", port=0, data_dir=data_dir) as emulator:
        client = make_client(emulator.url)
        bkt = client.bucket("persisted")
        bkt.versioning_enabled = True
        bkt = client.create_bucket(bkt)
        old = bkt.blob("model/weights.bin")
        old.upload_from_string(b"old weights")
        blob = bkt.blob("model/weights.bin")
        blob.metadata = {"stage": "prod"}
        blob.upload_from_string(payload)
        blob.metadata = {"stage": "prod", "score": "0.9"}
        blob.patch()
        bkt.blob("gone").upload_from_string(b"temp")
        bkt.delete_blob("gone", generation=bkt.get_blob("gone").generation)

    with GcsEmulatorThread(host="127.0.0.1", port=0, data_dir=data_dir) as emulator:
        client = make_client(emulator.url)
        bkt = client.get_bucket("persisted")
        assert bkt.versioning_enabled
        got = bkt.get_blob("model/weights.bin")
        assert (got.generation, got.metageneration) == (blob.generation, 2)
        assert got.metadata == {"stage": "prod", "score": "0.9"}
        assert got.download_as_bytes(checksum="crc32c") == payload
        assert bkt.blob("model/weights.bin", generation=old.generation).download_as_bytes() == b"old weights"
        assert [b.name for b in client.list_blobs(bkt)] == ["model/weights.bin"]
        newer = bkt.blob("model/weights.bin")
        newer.upload_from_string(b"v3")
        assert newer.generation > blob.generation
        with pytest.raises(gexc.Conflict):
            client.create_bucket("persisted")


# -- fault injection ------------------------------------------------------------------------------


def test_error_rate_is_absorbed_by_client_retries(faulty_url: str) -> None:
    client = make_client(faulty_url)
    bkt = client.create_bucket("flaky")
    set_faults(faulty_url, error_rate=0.2, status=503, seed=7)
    payloads = {f"obj-{i:02d}": os.urandom(1000 + i) for i in range(15)}
    for name, data in payloads.items():
        bkt.blob(name).upload_from_string(data, if_generation_match=0, retry=FAST_RETRY)
    big = os.urandom(2 * 1024 * KIB + 17)
    bkt.blob("resumable", chunk_size=256 * KIB).upload_from_file(io.BytesIO(big), retry=FAST_RETRY)

    listed = [b.name for b in client.list_blobs(bkt, page_size=4, retry=FAST_RETRY)]
    assert listed == sorted([*payloads, "resumable"])
    for name, data in payloads.items():
        assert bkt.blob(name).download_as_bytes(retry=FAST_RETRY) == data
    assert bkt.blob("resumable").download_as_bytes(retry=FAST_RETRY) == big
    stats = get_faults(faulty_url)
    assert stats["injected"] > 0 and stats["requests"] > stats["injected"]


def test_fail_nth_fails_exactly_that_request(faulty_url: str) -> None:
    client = make_client(faulty_url)
    bkt = client.create_bucket("nth")
    bkt.blob("x").upload_from_string(b"x")
    set_faults(faulty_url, fail_nth={"operation": "object.get", "n": 3}, status=503)
    outcomes = []
    for _ in range(5):
        try:
            bkt.blob("x").reload(retry=None)
            outcomes.append("ok")
        except gexc.ServiceUnavailable:
            outcomes.append("503")
    assert outcomes == ["ok", "ok", "503", "ok", "ok"]
    assert get_faults(faulty_url)["injected"] == 1

    set_faults(faulty_url, fail_nth={"operation": "download", "n": 2}, status=429)
    assert bkt.blob("x").download_as_bytes(retry=None) == b"x"
    with pytest.raises(gexc.TooManyRequests):
        bkt.blob("x").download_as_bytes(retry=None)
    assert bkt.blob("x").download_as_bytes(retry=None) == b"x"


def test_dropped_connection_mid_upload_is_retried(faulty_url: str) -> None:
    client = make_client(faulty_url)
    bkt = client.create_bucket("drops")
    set_faults(faulty_url, fail_nth={"operation": "upload.chunk", "n": 2},
               drop_connection_mid_upload=True)
    data = os.urandom(2 * 1024 * KIB)
    bkt.blob("chunked", chunk_size=512 * KIB).upload_from_file(io.BytesIO(data), retry=FAST_RETRY)
    assert get_faults(faulty_url)["injected"] == 1
    assert bkt.blob("chunked").download_as_bytes() == data

    set_faults(faulty_url, fail_nth={"operation": "upload", "n": 1}, drop_connection_mid_upload=True)
    bkt.blob("single").upload_from_string(b"s" * 5000, if_generation_match=0, retry=FAST_RETRY)
    assert get_faults(faulty_url)["injected"] == 1
    assert bkt.blob("single").download_as_bytes() == b"s" * 5000


def test_admin_endpoints_are_never_faulted(faulty_url: str) -> None:
    client = make_client(faulty_url)
    set_faults(faulty_url, error_rate=1.0, status=503, latency_ms=5)
    with pytest.raises(gexc.ServiceUnavailable):
        client.create_bucket("never", retry=None)
    snapshot = get_faults(faulty_url)
    assert snapshot["config"]["error_rate"] == 1.0 and snapshot["injected"] == 1
    bad = requests.post(f"{faulty_url}/_emulator/faults", json={"error_rate": 2},
                        timeout=HTTP_TIMEOUT)
    assert bad.status_code == 400
    clear_faults(faulty_url)
    assert client.create_bucket("now-works").name == "now-works"


# -- transfer manager ----------------------------------------------------------------------------


def test_transfer_manager_with_8_threads(bucket: storage.Bucket, tmp_path: Path) -> None:
    source, target = tmp_path / "up", tmp_path / "down"
    source.mkdir()
    target.mkdir()
    contents = {f"file-{i:02d}.bin": os.urandom(20 * KIB + i) for i in range(24)}
    for name, data in contents.items():
        (source / name).write_bytes(data)

    pairs = [(str(source / name), bucket.blob(f"tm/{name}")) for name in contents]
    results = transfer_manager.upload_many(pairs, worker_type=transfer_manager.THREAD,
                                           max_workers=8, raise_exception=True)
    assert results == [None] * len(contents)

    downloads = [(bucket.blob(f"tm/{name}"), str(target / name)) for name in contents]
    results = transfer_manager.download_many(downloads, worker_type=transfer_manager.THREAD,
                                             max_workers=8, raise_exception=True)
    assert results == [None] * len(contents)
    for name, data in contents.items():
        assert (target / name).read_bytes() == data
