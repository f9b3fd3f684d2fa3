"""Fixtures shared by the BigQuery emulator suites (module-scoped emulator and client, a fresh
dataset per test). GCS suites define their own fixtures in their modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import bigquery

from tests.emulators.bigquery_fixtures import make_client, start_emulator, unique


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
