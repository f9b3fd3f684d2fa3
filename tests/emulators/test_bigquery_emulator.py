"""The BigQuery emulator driven by the official google-cloud-bigquery client:
catalog CRUD and error mapping, streaming inserts, queries, paging and types."""

from __future__ import annotations

import base64
import datetime as dt
import decimal

import pyarrow as pa
import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from tests.emulators.bigquery_fixtures import PROJECT, unique

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(120)]

SF = bigquery.SchemaField


def rows_of(client: bigquery.Client, sql: str, **kwargs) -> list[tuple]:
    return [tuple(row.values()) for row in client.query(sql, **kwargs).result()]


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


def test_named_positional_array_and_struct_parameters(client: bigquery.Client, dataset: str) -> None:
    client.query_and_wait(f"CREATE TABLE {dataset}.n AS SELECT x, CAST(x AS STRING) AS s "
                          "FROM UNNEST(GENERATE_ARRAY(1, 10)) AS x")
    named = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter("lo", "INT64", 3),
        bigquery.ScalarQueryParameter("label", "STRING", "7"),
        bigquery.ArrayQueryParameter("picks", "INT64", [1, 2, 9]),
    ])
    sql = f"SELECT x FROM {dataset}.n WHERE (x > @lo AND s = @label) OR x IN UNNEST(@picks) ORDER BY x"
    assert rows_of(client, sql, job_config=named) == [(1,), (2,), (7,), (9,)]
    assert [tuple(r.values()) for r in client.query_and_wait(sql, job_config=named)] == [(1,), (2,), (7,), (9,)]
    positional = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter(None, "INT64", 4), bigquery.ScalarQueryParameter(None, "INT64", 6)])
    assert rows_of(client, f"SELECT x FROM {dataset}.n WHERE x BETWEEN ? AND ? ORDER BY x",
                   job_config=positional) == [(4,), (5,), (6,)]
    typed = bigquery.QueryJobConfig(query_parameters=[
        bigquery.StructQueryParameter("st", bigquery.ScalarQueryParameter("a", "INT64", 5),
                                      bigquery.ScalarQueryParameter("b", "STRING", "q")),
        bigquery.ScalarQueryParameter("ts", "TIMESTAMP", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
        bigquery.ScalarQueryParameter("nothing", "STRING", None),
    ])
    row = client.query_and_wait("SELECT @st.a AS a, @st.b AS b, @ts AS ts, @nothing IS NULL AS n",
                                job_config=typed)
    assert [tuple(r.values()) for r in row] == [(5, "q", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC), True)]


def test_query_errors_map_to_client_exceptions(client: bigquery.Client, dataset: str) -> None:
    with pytest.raises(exceptions.BadRequest) as bad:
        client.query("SELEC 1").result()
    assert bad.value.errors[0]["reason"] == "invalidQuery"
    with pytest.raises(exceptions.BadRequest):
        client.query_and_wait("SELECT no_such_column FROM UNNEST([1]) AS x")
    with pytest.raises(exceptions.NotFound):
        client.query(f"SELECT * FROM {dataset}.missing").result()
    with pytest.raises(exceptions.NotFound):
        client.query_and_wait(f"SELECT * FROM `{PROJECT}.{dataset}.missing`")


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


def test_multi_page_results_of_150k_rows(client: bigquery.Client) -> None:
    sql = "SELECT x FROM UNNEST(GENERATE_ARRAY(1, 150000)) AS x"
    result = client.query(sql).result(page_size=40_000)
    pages = [page.num_items for page in result.pages]
    assert len(pages) == 4 and sum(pages) == 150_000
    table = client.query(sql).to_arrow(create_bqstorage_client=False)
    assert table.num_rows == 150_000
    assert pa.compute.sum(table.column("x")).as_py() == 150_000 * 150_001 // 2
    waited = client.query_and_wait(sql)
    assert waited.total_rows == 150_000 and sum(1 for _ in waited) == 150_000


def test_dry_run_returns_schema_and_bytes_without_running(client: bigquery.Client, dataset: str) -> None:
    table = client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.t", schema=[SF("a", "INT64"), SF("b", "STRING")]))
    client.insert_rows_json(table, [{"a": i, "b": str(i)} for i in range(10)])
    config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
    job = client.query(f"SELECT a, b FROM {dataset}.t", job_config=config)
    assert job.state == "DONE" and job.dry_run
    assert [f.name for f in job.schema] == ["a", "b"]
    assert job.total_bytes_processed > 0
    client.query(f"DELETE FROM {dataset}.t WHERE TRUE", job_config=config)
    assert client.get_table(table).num_rows == 10
    with pytest.raises(exceptions.BadRequest):
        client.query("SELECT nope FROM UNNEST([1]) AS x", job_config=config)


TYPES_SCHEMA = [
    SF("i", "INT64"), SF("f", "FLOAT64"), SF("n", "NUMERIC"), SF("bn", "BIGNUMERIC"), SF("b", "BOOL"),
    SF("s", "STRING"), SF("by", "BYTES"), SF("d", "DATE"), SF("dtm", "DATETIME"), SF("t", "TIME"),
    SF("ts", "TIMESTAMP"), SF("j", "JSON"), SF("arr", "INT64", mode="REPEATED"),
    SF("rec", "RECORD", fields=[SF("x", "INT64"), SF("y", "STRING"), SF("tags", "STRING", mode="REPEATED"),
                                SF("at", "TIMESTAMP")]),
]
FULL_ROW = {
    "i": -(2**62), "f": 1.5, "n": decimal.Decimal("12345.123456789"),
    "bn": decimal.Decimal("1234567890.123456789012345678"), "b": True, "s": "héllo ✓",
    "by": b"\x00\xffbin", "d": dt.date(2024, 2, 29), "dtm": dt.datetime(2024, 2, 29, 12, 34, 56, 789012),
    "t": dt.time(23, 59, 58, 123456), "ts": dt.datetime(2024, 2, 29, 12, 34, 56, 789012, tzinfo=dt.UTC),
    "j": {"k": [1, "two"]}, "arr": [3, 1, 2],
    "rec": {"x": 7, "y": "why", "tags": ["a", "b"], "at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)},
}
NULL_ROW = {**{k: None for k in FULL_ROW}, "i": 2, "arr": []}


@pytest.fixture
def types_table(client: bigquery.Client, dataset: str) -> str:
    table = client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.types", schema=TYPES_SCHEMA))
    assert client.insert_rows(table, [FULL_ROW, NULL_ROW]) == []
    return f"{dataset}.types"


def test_every_type_round_trips_through_query_and_list_rows(client: bigquery.Client, types_table: str) -> None:
    queried = [dict(r) for r in client.query(f"SELECT * FROM {types_table} ORDER BY i").result()]
    assert queried == [FULL_ROW, NULL_ROW]
    listed = sorted((dict(r) for r in client.list_rows(types_table)), key=lambda r: r["i"])
    assert listed == [FULL_ROW, NULL_ROW]
    waited = [dict(r) for r in client.query_and_wait(f"SELECT * FROM {types_table} ORDER BY i")]
    assert waited == [FULL_ROW, NULL_ROW]


def test_every_type_round_trips_through_to_arrow(client: bigquery.Client, types_table: str) -> None:
    table = client.query(f"SELECT * FROM {types_table} ORDER BY i").to_arrow(create_bqstorage_client=False)
    assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("dtm").type == pa.timestamp("us")
    full, empty = table.to_pylist()
    expected = {**FULL_ROW, "j": '{"k":[1,"two"]}'}
    for key, value in expected.items():
        got = full[key]
        if key == "j":
            assert got.replace(" ", "") == value
        else:
            assert got == value, key
    assert empty["arr"] == [] and empty["rec"] is None and empty["ts"] is None
    frame = table.to_pandas()
    assert frame["i"].tolist() == [FULL_ROW["i"], 2]


def test_to_dataframe(client: bigquery.Client, types_table: str) -> None:
    pytest.importorskip("db_dtypes", reason="the client's to_dataframe needs db-dtypes")
    frame = client.query(f"SELECT * FROM {types_table} ORDER BY i").to_dataframe(create_bqstorage_client=False)
    assert frame["i"].tolist() == [FULL_ROW["i"], 2]
    assert frame["s"].tolist()[0] == FULL_ROW["s"]


def test_query_literals_have_bigquery_types(client: bigquery.Client) -> None:
    sql = (
        "SELECT 1 AS i, 1.5 AS f, NUMERIC '1.25' AS n, TRUE AS b, 'x' AS s, b'ab' AS by, "
        "DATE '2024-01-01' AS d, DATETIME '2024-01-01 10:00:00' AS dtm, TIME '10:11:12' AS t, "
        "TIMESTAMP '2024-01-01 00:00:00+00' AS ts, JSON '{\"a\": 1}' AS j, [1, 2] AS arr, "
        "STRUCT(1 AS x, 'y' AS y) AS rec"
    )
    result = client.query(sql).result()
    types = [(f.name, f.field_type, f.mode) for f in result.schema]
    assert types == [
        ("i", "INTEGER", "NULLABLE"), ("f", "FLOAT", "NULLABLE"), ("n", "NUMERIC", "NULLABLE"),
        ("b", "BOOLEAN", "NULLABLE"), ("s", "STRING", "NULLABLE"), ("by", "BYTES", "NULLABLE"),
        ("d", "DATE", "NULLABLE"), ("dtm", "DATETIME", "NULLABLE"), ("t", "TIME", "NULLABLE"),
        ("ts", "TIMESTAMP", "NULLABLE"), ("j", "JSON", "NULLABLE"), ("arr", "INTEGER", "REPEATED"),
        ("rec", "RECORD", "NULLABLE"),
    ]
    (row,) = list(result)
    assert row["n"] == decimal.Decimal("1.25") and row["by"] == b"ab" and row["j"] == {"a": 1}
    assert row["ts"] == dt.datetime(2024, 1, 1, tzinfo=dt.UTC) and row["rec"] == {"x": 1, "y": "y"}
    assert base64.b64encode(row["by"]) == b"YWI="
