"""Queries on the BigQuery emulator through the official google-cloud-bigquery client: named,
positional, array and struct parameters, query errors mapped to client exceptions, multi-page
results, dry runs, and every column type round-tripping through query, list_rows, Arrow and
pandas, plus the BigQuery types of literals."""

from __future__ import annotations

import base64
import datetime as dt
import decimal

import pyarrow as pa
import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from tests.emulators.bigquery_fixtures import PROJECT
from tests.emulators.bigquery_support import rows_of

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(120)]

SF = bigquery.SchemaField


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
