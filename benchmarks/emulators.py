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
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks._emulators_bigquery import bench_bigquery, bigquery_rows
from benchmarks._emulators_gcs import KIB, MIB, bench_gcs, gcs_rows
from benchmarks._report import machine, report

FULL_SIZES = [(KIB, 50), (MIB, 10), (100 * MIB, 3)]  # (object size, repeats)
QUICK_SIZES = [(KIB, 20), (MIB, 5), (16 * MIB, 2)]


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
