"""BigQueryWarehouse on the emulator keeps table names case-sensitive, as BigQuery does: `c2` and `C2` are two
tables, and a name spelt in another case is not found (the emulator used to hand back `c2` for `C2`)."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from adapters.bigquery.warehouse import BigQueryWarehouse
from domain.types.errors import TableNotFound
from tests.support.emulator_fixtures import Emulators

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_tables_differing_only_in_case_are_two_tables(emulators: Emulators) -> None:
    client = bigquery.Client(project="test", credentials=AnonymousCredentials(),
                             client_options={"api_endpoint": emulators.bigquery_url})
    dataset = f"mlplane_case_{uuid.uuid4().hex[:8]}"
    warehouse = BigQueryWarehouse(client, dataset)
    try:
        await warehouse.append("c2", pa.table({"id": [1, 2, 3]}))
        with pytest.raises(TableNotFound):
            await warehouse.describe("C2")
        await warehouse.append("C2", pa.table({"id": [9]}))
        assert [(t.name, t.row_count) for t in await warehouse.list_tables()] == [("C2", 1), ("c2", 3)]
    finally:
        client.delete_dataset(dataset, delete_contents=True, not_found_ok=True)
