"""The BigQuery half of the emulator benchmark (`python -m benchmarks.emulators`): a table built with
CREATE TABLE AS SELECT, full reads to Arrow over the REST API and point queries through
`google-cloud-bigquery`, next to the same work in DuckDB queried directly, and the table rows that
summarise both."""

from __future__ import annotations

import contextlib
import random
import statistics
import time
from collections.abc import Iterator
from typing import Any

from benchmarks._emulators_shared import subprocess_emulator, timed
from benchmarks._report import percentiles


@contextlib.contextmanager
def bigquery_emulator(process: bool) -> Iterator[str]:
    if process:
        with subprocess_emulator("bigquery") as url:
            yield url
        return
    from emulators.bigquery.server import BigQueryEmulator

    emulator = BigQueryEmulator(port=0)
    url = emulator.start()
    try:
        yield url
    finally:
        emulator.stop()


CTAS_BQ = ("CREATE TABLE bench.t AS SELECT x, x * 0.5 AS y, CAST(x AS STRING) AS s "
           "FROM UNNEST(GENERATE_ARRAY(1, {rows})) AS x")
CTAS_DUCKDB = ("CREATE TABLE t AS SELECT x, x * 0.5::DOUBLE AS y, CAST(x AS VARCHAR) AS s "
               "FROM generate_series(1, {rows}) AS g(x)")
SCAN = "SELECT x, y, s FROM {table}"
POINT = "SELECT x, y, s FROM {table} WHERE x = {key}"


def bench_bigquery(rows: int, repeats: int, point_runs: int, process: bool) -> dict[str, Any]:
    import duckdb
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    keys = random.Random(0).sample(range(1, rows + 1), point_runs)
    with bigquery_emulator(process) as url:
        client = bigquery.Client(project="test", credentials=AnonymousCredentials(),
                                 client_options={"api_endpoint": url})
        client.create_dataset("bench")
        started = time.perf_counter()
        client.query(CTAS_BQ.format(rows=rows)).result()
        create_bq = time.perf_counter() - started

        def bq(sql: str) -> Any:
            return client.query(sql).to_arrow(create_bqstorage_client=False)

        con = duckdb.connect()
        started = time.perf_counter()
        con.execute(CTAS_DUCKDB.format(rows=rows))
        create_duck = time.perf_counter() - started

        def duck(sql: str) -> Any:
            return con.sql(sql).to_arrow_table()

        bq_first, duck_first = bq(SCAN.format(table="bench.t")), duck(SCAN.format(table="t"))  # warm-up + check
        _same_data(bq_first, duck_first, rows)
        del bq_first, duck_first
        scan_bq, scan_duck = [], []
        for _ in range(repeats):  # interleaved, so both see the same machine load
            scan_bq += timed(lambda _i: bq(SCAN.format(table="bench.t")), 1)
            scan_duck += timed(lambda _i: duck(SCAN.format(table="t")), 1)
        bq(POINT.format(table="bench.t", key=1))
        duck(POINT.format(table="t", key=1))
        point_bq = timed(lambda i: bq(POINT.format(table="bench.t", key=keys[i])), point_runs)
        point_duck = timed(lambda i: duck(POINT.format(table="t", key=keys[i])), point_runs)
        con.close()
    return {"rows": rows, "create_s": {"emulator": create_bq, "duckdb": create_duck},
            "scan_s": {"emulator": scan_bq, "duckdb": scan_duck},
            "point": {"emulator": percentiles(point_bq), "duckdb": percentiles(point_duck)}}


def _same_data(bq_table: Any, duck_table: Any, rows: int) -> None:
    import pyarrow.compute as pc

    for table in (bq_table, duck_table):
        if table.num_rows != rows or table.column_names != ["x", "y", "s"]:
            raise AssertionError(f"unexpected result: {table.num_rows} rows, columns {table.column_names}")
    for column in ("x", "y"):
        if pc.sum(bq_table[column]).as_py() != pc.sum(duck_table[column]).as_py():
            raise AssertionError(f"column {column} differs between the emulator and DuckDB")


def bigquery_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = results["rows"]
    scan_bq = statistics.median(results["scan_s"]["emulator"])
    scan_duck = statistics.median(results["scan_s"]["duckdb"])
    point_bq, point_duck = results["point"]["emulator"], results["point"]["duckdb"]
    create = results["create_s"]
    results["summary"] = {"scan_median_s": {"emulator": scan_bq, "duckdb": scan_duck},
                          "scan_rows_per_s": {"emulator": rows / scan_bq, "duckdb": rows / scan_duck},
                          "scan_ratio": scan_bq / scan_duck,
                          "point_p50_ratio": point_bq["p50_ms"] / point_duck["p50_ms"]}
    n_scan, n_point = len(results["scan_s"]["emulator"]), point_bq["n"]
    return [
        [f"CREATE TABLE AS SELECT, {rows:,} rows", f"{create['emulator']:.2f} s", f"{create['duckdb']:.2f} s",
         f"{create['emulator'] / create['duckdb']:,.1f}x", 1],
        [f"read {rows:,} rows to Arrow, median", f"{scan_bq:.2f} s", f"{scan_duck:.3f} s",
         f"{scan_bq / scan_duck:,.0f}x", n_scan],
        ["  rows/s", f"{rows / scan_bq:,.0f}", f"{rows / scan_duck:,.0f}", "", n_scan],
        ["point query p50", f"{point_bq['p50_ms']:.2f} ms", f"{point_duck['p50_ms']:.2f} ms",
         f"{point_bq['p50_ms'] / point_duck['p50_ms']:,.1f}x", n_point],
        ["point query p99", f"{point_bq['p99_ms']:.2f} ms", f"{point_duck['p99_ms']:.2f} ms",
         f"{point_bq['p99_ms'] / point_duck['p99_ms']:,.1f}x", n_point],
    ]
