"""Objects in the GCS emulator through the official google-cloud-storage client: multipart, resumable
and streamed uploads, ranged and checksummed downloads, the raw upload protocols over HTTP, the
not-found error body, awkward object names and the transfer manager's thread pool. The emulator,
client and bucket fixtures come from tests/emulators/conftest.py."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import requests
from google.api_core import exceptions as gexc
from google.cloud import storage
from google.cloud.storage import transfer_manager

from tests.emulators.gcs_fixtures import HTTP_TIMEOUT, make_client, unique_name
from tests.emulators.gcs_support import KIB, b64_crc32c, b64_md5

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(60)]


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
