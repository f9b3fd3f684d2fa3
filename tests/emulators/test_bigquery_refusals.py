"""What the BigQuery emulator refuses as BigQuery does, so that what passes on `emulated` passes on `gcp`:
column names with a reserved prefix or over 300 characters (with BigQuery's error), a Parquet UINT64 value
past INT64's range (naming the column), and errors that never quote the emulator's SQL."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from adapters.bigquery.warehouse import BigQueryWarehouse
from tests.emulators.bigquery_fixtures import PROJECT, unique

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(120)]

SF = bigquery.SchemaField
RESERVED = "Field names are not allowed to start with the (case-insensitive) prefixes _PARTITION, _TABLE_, _FILE_"
TOO_LONG = "Fields must contain the allowed characters, and be at most 300 characters long"


def load_csv_text(client: bigquery.Client, table: str, text: str) -> bigquery.LoadJob:
    config = bigquery.LoadJobConfig(source_format="CSV", autodetect=True, skip_leading_rows=1)
    return client.load_table_from_file(io.BytesIO(text.encode()), table, job_config=config).result()


def load_parquet(client: bigquery.Client, table: str, rows: pa.Table) -> bigquery.LoadJob:
    sink = io.BytesIO()
    pq.write_table(rows, sink)
    config = bigquery.LoadJobConfig(source_format="PARQUET")
    return client.load_table_from_file(io.BytesIO(sink.getvalue()), table, job_config=config).result()


@pytest.mark.parametrize("name", ["_PARTITIONTIME", "_partitiondate", "_TABLE_SUFFIX", "_File_name",
                                  "_ROW_TIMESTAMP", "__ROOT__x", "_COLIDENTIFIER_1"])
def test_a_load_creating_a_column_with_a_reserved_prefix_is_refused(client, dataset, name: str) -> None:
    with pytest.raises(exceptions.BadRequest) as refused:
        load_csv_text(client, f"{dataset}.reserved", f"id,{name}\n1,2\n")
    assert refused.value.errors[0]["reason"] == "invalid"
    assert f'Invalid field name "{name}". {RESERVED}' in refused.value.message
    with pytest.raises(exceptions.NotFound):
        client.get_table(f"{dataset}.reserved")


def test_names_up_to_300_characters_load_and_longer_ones_are_refused(client, dataset) -> None:
    assert load_csv_text(client, f"{dataset}.wide", f"id,{'c' * 300}\n1,2\n").output_rows == 1
    with pytest.raises(exceptions.BadRequest) as refused:
        load_csv_text(client, f"{dataset}.wider", f"id,{'c' * 301}\n1,2\n")
    assert TOO_LONG in refused.value.message and refused.value.errors[0]["reason"] == "invalid"


def test_tables_insert_and_query_destinations_refuse_reserved_names_too(client, dataset) -> None:
    with pytest.raises(exceptions.BadRequest, match="_TABLE_x"):
        client.create_table(bigquery.Table(f"{PROJECT}.{dataset}.t", schema=[SF("_TABLE_x", "INT64")]))
    config = bigquery.QueryJobConfig(destination=f"{PROJECT}.{dataset}.q")
    with pytest.raises(exceptions.BadRequest, match="_FILE_NAME"):
        client.query("SELECT 1 AS _FILE_NAME", job_config=config).result()


@pytest.mark.parametrize("name", ["_PARTITIONTIME", "_partition", "_Table_x", "__ROOT__", "_file_", "c" * 301,
                                  "partition", "_PARTITIO", "_TABLE", "__root", "x_FILE_", "c" * 300, "_row_time"])
def test_the_adapter_flags_exactly_the_names_the_emulator_refuses(client, dataset, name: str) -> None:
    """mlplane can refuse at submit what BigQuery would refuse at the commit: both rules must agree."""
    try:
        load_csv_text(client, f"{dataset}.{unique('t')}", f"id,{name}\n1,2\n")
        refused = False
    except exceptions.BadRequest:
        refused = True
    assert (BigQueryWarehouse.column_name_problem(name) is not None) == refused


def test_a_parquet_uint64_past_int64_is_refused_naming_the_column(client, dataset) -> None:
    rows = pa.table({"id": [1, 2], "big": pa.array([5, 2**63 + 5], pa.uint64())})
    with pytest.raises(exceptions.BadRequest) as refused:
        load_parquet(client, f"{dataset}.big", rows)
    assert "Parquet column 'big'" in refused.value.message and "9223372036854775813" in refused.value.message
    small = pa.table({"id": [1], "big": pa.array([2**63 - 1], pa.uint64())})
    assert load_parquet(client, f"{dataset}.small", small).output_rows == 1


def test_a_failed_statement_does_not_quote_the_sql(client, dataset) -> None:
    load_csv_text(client, f"{dataset}.t", "id,name\n1,a\n")
    with pytest.raises(exceptions.BadRequest) as refused:
        client.query_and_wait(f"SELECT CAST(name AS INT64) AS n FROM `{dataset}.t` WHERE id = 1")
    message = refused.value.errors[0]["message"]
    assert "Could not convert string 'a'" in message
    assert "LINE" not in message and "SELECT" not in message and dataset not in message
