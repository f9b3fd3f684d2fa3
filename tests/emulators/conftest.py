"""Fixtures shared by the emulator suites. BigQuery: a module-scoped emulator and client, and a fresh
dataset per test. GCS: one memory-backed emulator and client for the whole session (the GCS suites
are split by theme and share it), and a fresh bucket per test. Fault tests start private emulators
in their own modules, so injected faults never reach these shared ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import bigquery, storage

from emulators.gcs import GcsEmulatorThread
from tests.emulators.bigquery_fixtures import make_client, start_emulator, unique
from tests.emulators.gcs_fixtures import make_client as make_gcs_client
from tests.emulators.gcs_fixtures import unique_name


@pytest.fixture(scope="module")
def bq_url() -> Iterator[str]:
    emulator = start_emulator()
    yield emulator.url
    emulator.stop()


@pytest.fixture(scope="module")
def client(bq_url: str) -> Iterator[bigquery.Client]:
    with make_client(bq_url) as bq:
        yield bq


@pytest.fixture
def dataset(client: bigquery.Client) -> Iterator[str]:
    name = unique("ds")
    client.create_dataset(name)
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


@pytest.fixture(scope="session")
def gcs_url() -> Iterator[str]:
    """One memory-backed emulator on a free 127.0.0.1 port for the whole session."""
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


@pytest.fixture(scope="session")
def gcs_client(gcs_url: str) -> storage.Client:
    return make_gcs_client(gcs_url)


@pytest.fixture
def bucket(gcs_client: storage.Client) -> storage.Bucket:
    return gcs_client.create_bucket(unique_name("bkt"))
