"""The artifact store when its bucket is gone under a running daemon (the default in-memory emulator restarted
empty): in the emulated profile the store makes the bucket again and goes on (it was a 500 on every call);
where the bucket is infrastructure (gcp) it answers a TransientError naming the bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.gcs.artifact_store import GcsArtifactStore
from domain.types.errors import TransientError
from entrypoints.cloud_clients import ensure_bucket, gcs_artifact_store, storage_client
from entrypoints.settings import Settings
from tests.emulators.gcs_fixtures import make_client, unique_name
from tests.support.emulator_fixtures import Emulators

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def emulated_store(emulators: Emulators, tmp_path: Path, bucket: str) -> GcsArtifactStore:
    settings = Settings(profile="emulated", data_dir=tmp_path, gcs_emulator_url=emulators.gcs_url,
                        bigquery_emulator_url=emulators.bigquery_url, gcs_bucket=bucket)
    client = storage_client(settings)
    ensure_bucket(client, bucket)  # what the daemon does at start
    store: GcsArtifactStore = gcs_artifact_store(client, bucket, "dev")
    return store


async def test_the_emulated_store_makes_its_bucket_again_when_it_is_gone(emulators, tmp_path) -> None:
    bucket = unique_name("gone")
    store = emulated_store(emulators, tmp_path, bucket)
    await store.put("models/m/versions/1/manifest.json", b"{}")
    make_client(emulators.gcs_url).bucket(bucket).delete(force=True)  # the emulator restarted empty
    assert await store.list("models/") == []
    assert await store.create("models/m/versions/1/claim.json", b"job")
    assert await store.list("models/") == ["models/m/versions/1/claim.json"]


async def test_a_store_that_does_not_own_its_bucket_says_it_is_missing(emulators) -> None:
    bucket = unique_name("infra")
    client = make_client(emulators.gcs_url)
    store = GcsArtifactStore(client, bucket, "dev")  # as in gcp: create_bucket is off
    with pytest.raises(TransientError, match=f"bucket '{bucket}' does not exist"):
        await store.list("models/")
    with pytest.raises(TransientError, match=f"bucket '{bucket}' does not exist"):
        await store.put("models/m/versions/1/manifest.json", b"{}")
    assert client.lookup_bucket(bucket) is None
