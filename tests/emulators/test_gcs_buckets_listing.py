"""Buckets and listings in the GCS emulator through the official google-cloud-storage client: bucket
lifecycle and error mapping, bucket paging and patching, STORAGE_EMULATOR_HOST with no project,
object listings by prefix, delimiter and offsets, object versions, and a directory backend that
keeps buckets, versions and metadata across a restart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from google.api_core import exceptions as gexc
from google.cloud import storage

from emulators.gcs import GcsEmulatorThread
from tests.emulators.gcs_fixtures import make_client, unique_name
from tests.emulators.gcs_support import KIB

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(60)]


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
