"""Which warehouse columns count as numeric (trainable features): a list of numbers does not,
whatever its element type, in DuckDB's names (DOUBLE[], DOUBLE[3]) or BigQuery's REPEATED mode."""

from __future__ import annotations

import pyarrow as pa
import pytest
from google.cloud import bigquery

from adapters.bigquery.tables import table_info
from adapters.duckdb.warehouse import DuckDBWarehouse

pytestmark = pytest.mark.unit


async def test_duckdb_reports_lists_and_arrays_as_not_numeric(tmp_path) -> None:
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    rows = pa.table({"x": [1.5], "n": [2], "d": pa.array([1], pa.decimal128(5, 1)), "l": [[1.0, 2.0]],
                     "a": pa.array([[1.0, 2.0]], pa.list_(pa.float64(), 2))})  # DOUBLE[2] in DuckDB
    await warehouse.append("t", rows)
    try:
        kinds = {c.name: c.numeric for c in (await warehouse.describe("t")).columns}
    finally:
        warehouse.close()
    assert kinds == {"x": True, "n": True, "d": True, "l": False, "a": False}


def test_bigquery_reports_repeated_fields_as_not_numeric() -> None:
    schema = [bigquery.SchemaField("x", "FLOAT"), bigquery.SchemaField("v", "FLOAT", mode="REPEATED"),
              bigquery.SchemaField("s", "STRING")]
    info = table_info("t", bigquery.Table("p.d.t", schema=schema))
    assert {c.name: c.numeric for c in info.columns} == {"x": True, "v": False, "s": False}
