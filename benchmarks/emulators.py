"""Emulator benchmark: what the local GCS and BigQuery emulators cost through Google's official clients,
next to the raw local equivalent measured in the same run.

- GCS (memory backend), `google-cloud-storage` with its default checksums: upload and download of 1 KiB,
  1 MiB and 100 MiB objects, against writing/reading the same bytes as files in a temp dir (page cache,
  no fsync).
- BigQuery, `google-cloud-bigquery` `query(...).to_arrow(create_bqstorage_client=False)` (REST pages of
  JSON rows): a 1M-row result set and a point query, against DuckDB queried directly
  (`.sql(...).to_arrow_table()`) on the same data.

By default the emulators run in background threads of this process (`GcsEmulatorThread`,
`BigQueryEmulator`), so server and client share one GIL; `--process` runs each emulator as its own
`python -m emulators.<name>` subprocess instead (written to `emulators_process.json`).

Run: `python -m benchmarks.emulators [--quick] [--process] [--only gcs|bigquery] [--rows N]`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks._report import machine, percentiles, report

KIB, MIB = 1024, 1024 * 1024
FULL_SIZES = [(KIB, 50), (MIB, 10), (100 * MIB, 3)]  # (object size, repeats)
QUICK_SIZES = [(KIB, 20), (MIB, 5), (16 * MIB, 2)]
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- emulator lifecycle


@contextlib.contextmanager
def gcs_emulator(process: bool) -> Iterator[str]:
    if process:
        with _subprocess_emulator("gcs", "--log-level", "WARNING") as url:
            yield url
        return
    from emulators.gcs.server import GcsEmulatorThread

    with GcsEmulatorThread(port=0) as emulator:  # memory backend
        yield emulator.url


@contextlib.contextmanager
def bigquery_emulator(process: bool) -> Iterator[str]:
    if process:
        with _subprocess_emulator("bigquery") as url:
            yield url
        return
    from emulators.bigquery.server import BigQueryEmulator

    emulator = BigQueryEmulator(port=0)
    url = emulator.start()
    try:
        yield url
    finally:
        emulator.stop()


@contextlib.contextmanager
def _subprocess_emulator(name: str, *extra: str) -> Iterator[str]:
    """`python -m emulators.NAME --port 0` on 127.0.0.1; yields the URL it prints, stops it afterwards."""
    proc = subprocess.Popen([sys.executable, "-m", f"emulators.{name}", "--host", "127.0.0.1", "--port", "0", *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the first line names the URL
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                break
        else:
            raise RuntimeError(f"emulators.{name} exited before printing its URL (rc={proc.wait()})")
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- GCS


def _timed(action: Callable[[int], Any], repeats: int) -> list[float]:
    samples = []
    for i in range(repeats):
        started = time.perf_counter()
        action(i)
        samples.append(time.perf_counter() - started)
    return samples


def bench_gcs(sizes: list[tuple[int, int]], process: bool) -> dict[str, Any]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    results: dict[str, Any] = {}
    with gcs_emulator(process) as url, tempfile.TemporaryDirectory(prefix="mlplane-bench-disk-") as tmp:
        client = storage.Client(project="test", credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": url})
        bucket = client.create_bucket("bench")
        bucket.blob("warm-up").upload_from_string(b"x")  # connection pool, lazy imports
        bucket.blob("warm-up").download_as_bytes()
        for size, repeats in sizes:
            data = os.urandom(size)
            label = _size_label(size)
            directory = Path(tmp) / label
            directory.mkdir()

            def upload(i: int, data: bytes = data, label: str = label) -> None:
                bucket.blob(f"{label}/{i}").upload_from_string(data, content_type="application/octet-stream")

            def download(i: int, data: bytes = data, label: str = label) -> None:
                if len(bucket.blob(f"{label}/{i}").download_as_bytes()) != len(data):
                    raise AssertionError("short download")

            def write(i: int, data: bytes = data, directory: Path = directory) -> None:
                (directory / str(i)).write_bytes(data)

            def read(i: int, data: bytes = data, directory: Path = directory) -> None:
                if len((directory / str(i)).read_bytes()) != len(data):
                    raise AssertionError("short read")

            results[label] = {"bytes": size, "repeats": repeats,
                              "upload": {"emulator_s": _timed(upload, repeats), "disk_s": _timed(write, repeats)},
                              "download": {"emulator_s": _timed(download, repeats), "disk_s": _timed(read, repeats)}}
            for blob in client.list_blobs(bucket, prefix=f"{label}/"):  # keep the memory backend small
                blob.delete()
    return results


def gcs_rows(results: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for label, entry in results.items():
        for op in ("upload", "download"):
            emulator_s = statistics.median(entry[op]["emulator_s"])
            disk_s = statistics.median(entry[op]["disk_s"])
            entry[op].update({"emulator_median_s": emulator_s, "disk_median_s": disk_s,
                              "emulator_ops_s": 1 / emulator_s, "disk_ops_s": 1 / disk_s,
                              "emulator_mib_s": entry["bytes"] / MIB / emulator_s,
                              "disk_mib_s": entry["bytes"] / MIB / disk_s, "time_ratio": emulator_s / disk_s})
            e = entry[op]
            rows.append([label, op, entry["repeats"], _num(e["emulator_ops_s"]), _num(e["emulator_mib_s"]),
                         _num(e["disk_ops_s"]), _num(e["disk_mib_s"]), f"{e['time_ratio']:,.1f}x"])
    return rows


def _num(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _size_label(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB else f"{size // KIB} KiB"


# ---------------------------------------------------------------- BigQuery

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
            scan_bq += _timed(lambda _i: bq(SCAN.format(table="bench.t")), 1)
            scan_duck += _timed(lambda _i: duck(SCAN.format(table="t")), 1)
        bq(POINT.format(table="bench.t", key=1))
        duck(POINT.format(table="t", key=1))
        point_bq = _timed(lambda i: bq(POINT.format(table="bench.t", key=keys[i])), point_runs)
        point_duck = _timed(lambda i: duck(POINT.format(table="t", key=keys[i])), point_runs)
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


# ---------------------------------------------------------------- main


def _print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    table = Table(title=f"{title}  ({machine()['cores']} cores)")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(v) for v in row])
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (1 KiB/1 MiB/16 MiB objects, 100k rows, fewer repeats): under a minute")
    parser.add_argument("--only", choices=["gcs", "bigquery"], help="run one service only")
    parser.add_argument("--process", action="store_true", help="run each emulator as a subprocess, not a thread")
    parser.add_argument("--rows", type=int, help="BigQuery table rows (default 1,000,000; quick 100,000)")
    parser.add_argument("--repeats", type=int, help="BigQuery full reads per side (default 3; quick 2)")
    parser.add_argument("--point-runs", type=int, help="point queries per side (default 50; quick 30)")
    parser.add_argument("--max-mib", type=int, help="largest GCS object in MiB (default 100; quick 16)")
    args = parser.parse_args()

    sizes = QUICK_SIZES if args.quick else FULL_SIZES
    if args.max_mib is not None:
        if args.max_mib * MIB <= sizes[-2][0]:
            parser.error("--max-mib must be larger than 1")
        sizes = [*sizes[:-1], (args.max_mib * MIB, sizes[-1][1])]
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    repeats = args.repeats or (2 if args.quick else 3)
    point_runs = args.point_runs or (30 if args.quick else 50)
    mode = "subprocess" if args.process else "in-process thread"
    tables: list[tuple[str, list[str], list[list[Any]]]] = []
    data: dict[str, Any] = {"quick": args.quick, "emulator_mode": mode}
    if args.only in (None, "gcs"):
        data["gcs"] = bench_gcs(sizes, args.process)
        tables.append((f"GCS emulator ({mode}, memory backend) vs local disk, medians; "
                       "'vs disk' = emulator time / disk time",
                       ["object", "op", "n", "emu op/s", "emu MiB/s", "disk op/s", "disk MiB/s", "vs disk"],
                       gcs_rows(data["gcs"])))
    if args.only in (None, "bigquery"):
        data["bigquery"] = bench_bigquery(rows, repeats, point_runs, args.process)
        tables.append((f"BigQuery emulator ({mode}, to_arrow over REST) vs DuckDB direct",
                       ["measure", "emulator", "DuckDB", "emu/DuckDB", "samples"], bigquery_rows(data["bigquery"])))
    for title, columns, table_rows in tables[:-1]:
        _print_table(title, columns, table_rows)
    title, columns, table_rows = tables[-1]
    report("emulators_process" if args.process else "emulators", title, columns, table_rows, data)


if __name__ == "__main__":
    main()
