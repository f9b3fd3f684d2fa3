"""Table and dataset names are case-sensitive in the BigQuery emulator, as in BigQuery: `c2` and `C2` are
two tables, a name spelt in another case is not found, and loads, queries and listings keep the spelling.
(Column names stay case-insensitive, as BigQuery has them.)"""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from tests.emulators.bigquery_fixtures import PROJECT, unique
from tests.emulators.bigquery_support import CSV_SCHEMA, count, load_csv, rows_of

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(120)]


def test_tables_differing_only_in_case_are_two_tables(client: bigquery.Client, dataset: str) -> None:
    load_csv(client, f"{dataset}.c2", schema=CSV_SCHEMA, skip_leading_rows=1)
    with pytest.raises(exceptions.NotFound):
        client.get_table(f"{dataset}.C2")
    load_csv(client, f"{dataset}.C2", schema=CSV_SCHEMA, skip_leading_rows=1, write_disposition="WRITE_TRUNCATE")
    client.query_and_wait(f"DELETE FROM `{dataset}.C2` WHERE id > 1")
    assert count(client, f"`{dataset}.c2`") == 3 and count(client, f"`{dataset}.C2`") == 1
    assert [t.table_id for t in client.list_tables(dataset)] == ["C2", "c2"]
    assert client.get_table(f"{dataset}.C2").table_id == "C2"
    client.delete_table(f"{dataset}.C2")
    assert [t.table_id for t in client.list_tables(dataset)] == ["c2"]


def test_a_query_names_the_table_in_its_own_case(client: bigquery.Client, dataset: str) -> None:
    load_csv(client, f"{dataset}.Events", schema=CSV_SCHEMA, skip_leading_rows=1)
    assert rows_of(client, f"SELECT count(*) FROM `{dataset}.Events`") == [(3,)]
    with pytest.raises(exceptions.NotFound):
        rows_of(client, f"SELECT count(*) FROM `{dataset}.events`")
    client.query_and_wait(f"CREATE TABLE `{dataset}.EVENTS` AS SELECT ID FROM `{dataset}.Events` WHERE id = 2")
    assert rows_of(client, f"SELECT * FROM `{dataset}.EVENTS`") == [(2,)]
    assert sorted(t.table_id for t in client.list_tables(dataset)) == ["EVENTS", "Events"]


def test_datasets_differing_only_in_case_are_two_datasets(client: bigquery.Client) -> None:
    lower = unique("case")
    upper = lower.upper()
    client.create_dataset(lower)
    try:
        with pytest.raises(exceptions.NotFound):
            client.get_dataset(upper)
        client.create_dataset(upper)
        load_csv(client, f"{upper}.t", schema=CSV_SCHEMA, skip_leading_rows=1)
        assert [t.table_id for t in client.list_tables(upper)] == ["t"]
        assert list(client.list_tables(lower)) == []
        assert client.get_table(f"{PROJECT}.{upper}.t").num_rows == 3
    finally:
        for name in (lower, upper):
            client.delete_dataset(name, delete_contents=True, not_found_ok=True)
