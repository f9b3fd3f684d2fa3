"""gs:// sources expand as local paths do, against the GCS emulator through the official client: a folder
(`gs://b/dir/` or `gs://b/dir`) takes the objects directly in it, and a bucket that is missing or misspelt
is a 4xx naming it (it was a 500), with messages that never talk about the daemon's working directory."""

from __future__ import annotations

import uuid

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from adapters.pyarrow_files.bulk_files import PyArrowBulkFiles
from adapters.pyarrow_files.locations import RemoteConfig, expand
from domain.types.errors import InvalidSpec
from domain.types.ingestion import SourceFormat
from tests.support.emulator_fixtures import Emulators

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
OBJECTS = ("dir/a.csv", "dir/b.csv", "dir/.hidden.csv", "dir/sub/c.csv", "dir.csv", "dirt/d.csv", "top.csv")


@pytest.fixture
def remote(emulators: Emulators) -> RemoteConfig:
    return RemoteConfig(project="test", endpoint=emulators.gcs_url)


@pytest.fixture
def bucket(emulators: Emulators) -> str:
    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": emulators.gcs_url})
    created = client.create_bucket(f"src-{uuid.uuid4().hex[:10]}")
    for name in OBJECTS:
        created.blob(name).upload_from_string(b"id,name\n1,a\n")
    return created.name


@pytest.mark.parametrize("folder", ["dir/", "dir"])
def test_a_folder_expands_to_the_objects_directly_in_it(remote, bucket, folder: str) -> None:
    assert expand(f"gs://{bucket}/{folder}", remote) == [f"gs://{bucket}/dir/a.csv", f"gs://{bucket}/dir/b.csv"]


def test_an_object_is_itself_and_a_glob_matches_names(remote, bucket) -> None:
    assert expand(f"gs://{bucket}/dir.csv", remote) == [f"gs://{bucket}/dir.csv"]
    assert expand(f"gs://{bucket}/dir/[ab].csv", remote) == [f"gs://{bucket}/dir/a.csv", f"gs://{bucket}/dir/b.csv"]
    assert expand(f"gs://{bucket}/", remote) == [f"gs://{bucket}/dir.csv", f"gs://{bucket}/top.csv"]


@pytest.mark.parametrize("source", ["missing.csv", "missing/", "dir/sub/nothing*.csv", "di"])
def test_nothing_matching_is_a_4xx_about_the_bucket_not_the_working_directory(remote, bucket, source) -> None:
    with pytest.raises(InvalidSpec) as refused:
        expand(f"gs://{bucket}/{source}", remote)
    assert f"gs://{bucket}/{source}" in refused.value.message and bucket in refused.value.message
    assert "working directory" not in refused.value.message


@pytest.mark.parametrize(("bucket_name", "says"), [
    ("no-such-bucket-x1", "there is no bucket named 'no-such-bucket-x1'"),
    ("BAD_Bucket!", "'BAD_Bucket!' is not a valid bucket name"),
])
async def test_a_missing_or_invalid_bucket_is_refused_at_submit_naming_it(remote, bucket_name: str, says: str) -> None:
    files = PyArrowBulkFiles(None, remote)
    with pytest.raises(InvalidSpec) as refused:
        await files.expand([f"gs://{bucket_name}/a.csv"], SourceFormat.AUTO)
    assert says in refused.value.message and refused.value.details["field"] == "sources"
