"""The BigQuery emulator's catalog and row writes through the official google-cloud-bigquery client:
dataset and table CRUD with the client's error mapping, streaming inserts (bad rows, skipped rows,
unknown values, paged list_rows) and DML that reports the rows it affected."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from tests.emulators.bigquery_fixtures import PROJECT, unique
from tests.emulators.bigquery_support import rows_of

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(120)]

SF = bigquery.SchemaField


def test_dataset_crud_and_error_mapping(client: bigquery.Client) -> None:
    name = unique("crud")
    created = client.create_dataset(bigquery.Dataset(f"{PROJECT}.{name}"))
    assert created.dataset_id == name and created.location == "US"
    assert client.get_dataset(name).dataset_id == name
    assert name in [d.dataset_id for d in client.list_datasets()]
    with pytest.raises(exceptions.Conflict) as conflict:
        client.create_dataset(name)
    assert conflict.value.errors[0]["reason"] == "duplicate"
    assert client.create_dataset(name, exists_ok=True).dataset_id == name
    client.create_table(bigquery.Table(f"{PROJECT}.{name}.t", schema=[SF("a", "INT64")]))
    with pytest.raises(exceptions.BadRequest):
        client.delete_dataset(name)
    client.delete_dataset(name, delete_contents=True)
    with pytest.raises(exceptions.NotFound) as missing:
        client.get_dataset(name)
    assert missing.value.errors[0]["reason"] == "notFound"
    client.delete_dataset(name, not_found_ok=True)


def test_table_crud_and_error_mapping(client: bigquery.Client, dataset: str) -> None:
    schema = [SF("id", "INT64", mode="REQUIRED", description="key"), SF("name", "STRING")]
    table = client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.people", schema=schema))
    assert [(f.name, f.field_type, f.mode) for f in table.schema] == [
        ("id", "INTEGER", "REQUIRED"), ("name", "STRING", "NULLABLE")]
    assert client.get_table(f"{dataset}.people").schema[0].description == "key"
    assert [t.table_id for t in client.list_tables(dataset)] == ["people"]
    with pytest.raises(exceptions.Conflict):
        client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.people", schema=schema))
    with pytest.raises(exceptions.NotFound):
        client.get_table(f"{dataset}.nope")
    with pytest.raises(exceptions.NotFound):
        client.create_table(bigquery.Table(f"{PROJECT}.missing_ds.t", schema=schema))
    table.description = "people table"
    table.schema = [*schema, SF("age", "INT64")]
    updated = client.update_table(table, ["description", "schema"])
    assert updated.description == "people table" and [f.name for f in updated.schema][-1] == "age"
    client.delete_table(f"{dataset}.people")
    with pytest.raises(exceptions.NotFound):
        client.delete_table(f"{dataset}.people")
    client.delete_table(f"{dataset}.people", not_found_ok=True)


def test_insert_all_reports_bad_rows_and_writes_nothing(client: bigquery.Client, dataset: str) -> None:
    table = client.create_table(
        bigquery.Table(f"{PROJECT}.{dataset}.t", schema=[SF("a", "INT64", mode="REQUIRED"), SF("b", "STRING")])
    )
    errors = client.insert_rows_json(table, [{"a": 1, "b": "x"}, {"a": "nope"}, {"b": "no a"}, {"zz": 1, "a": 2}])
    by_index = {e["index"]: e["errors"][0]["reason"] for e in errors}
    assert by_index == {0: "stopped", 1: "invalid", 2: "invalid", 3: "invalid"}
    assert rows_of(client, f"SELECT count(*) FROM {dataset}.t") == [(0,)]
    errors = client.insert_rows_json(table, [{"a": 1}, {"a": "nope"}, {"a": "3"}], skip_invalid_rows=True)
    assert [e["index"] for e in errors] == [1]
    assert rows_of(client, f"SELECT a FROM {dataset}.t ORDER BY a") == [(1,), (3,)]
    assert client.insert_rows_json(table, [{"a": 4, "extra": 1}], ignore_unknown_values=True) == []
    assert client.get_table(table).num_rows == 3


def test_insert_rows_is_visible_to_list_rows_with_paging(client: bigquery.Client, dataset: str) -> None:
    table = client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.t", schema=[SF("a", "INT64")]))
    assert client.insert_rows(table, [{"a": i} for i in range(25)]) == []
    iterator = client.list_rows(table, page_size=10)
    pages = [[row["a"] for row in page] for page in iterator.pages]
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sorted(v for p in pages for v in p) == list(range(25))
    assert [r["a"] for r in client.list_rows(table, start_index=20)] == [20, 21, 22, 23, 24]


def test_dml_reports_affected_rows(client: bigquery.Client, dataset: str) -> None:
    client.query_and_wait(f"CREATE TABLE {dataset}.d (a INT64, b STRING)")
    job = client.query(f"INSERT INTO {dataset}.d (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')")
    job.result()
    assert job.num_dml_affected_rows == 3 and job.statement_type == "INSERT"
    update = client.query(f"UPDATE {dataset}.d SET b = 'w' WHERE a >= 2")
    update.result()
    assert update.num_dml_affected_rows == 2
    client.query_and_wait(f"DELETE FROM {dataset}.d WHERE a = 1")
    assert rows_of(client, f"SELECT a, b FROM {dataset}.d ORDER BY a") == [(2, "w"), (3, "w")]
