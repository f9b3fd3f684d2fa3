"""Load jobs on the BigQuery emulator through the official google-cloud-bigquery client: what a load
can read (Parquet from a dataframe, CSV with a schema or autodetected, newline-delimited JSON with
nested fields, gs:// sources) and how its bytes arrive (multipart and chunked resumable uploads)."""

from __future__ import annotations

import http.server
import io
import json
import threading
import urllib.parse

import pandas as pd
import pytest
import requests
from google.api_core import exceptions
from google.cloud import bigquery

from tests.emulators.bigquery_fixtures import PROJECT, make_client, start_emulator, unique
from tests.emulators.bigquery_support import CSV_BYTES, CSV_SCHEMA, count, load_csv

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(120)]

SF = bigquery.SchemaField


# The client warns that a future version will need pandas-gbq; not the emulator's concern.
@pytest.mark.filterwarnings("ignore:Loading pandas DataFrame into BigQuery:FutureWarning")
def test_load_dataframe_as_parquet(client: bigquery.Client, dataset: str) -> None:
    frame = pd.DataFrame({
        "id": [1, 2, 3],
        "name": ["a", "b", None],
        "score": [0.5, 1.5, 2.5],
        "ok": [True, False, True],
        "at": pd.to_datetime(["2024-01-01T00:00:00Z", "2024-06-01T12:30:00Z", "2025-01-01T00:00:00Z"]),
    })
    job = client.load_table_from_dataframe(frame, f"{dataset}.frame").result()
    assert job.output_rows == 3
    table = client.get_table(f"{dataset}.frame")
    assert {f.name: f.field_type for f in table.schema}["at"] == "TIMESTAMP"
    query = f"SELECT id, name, ok, at FROM {dataset}.frame ORDER BY id"
    rows = [tuple(r.values()) for r in client.query_and_wait(query)]
    assert rows[1][:3] == (2, "b", False) and rows[2][1] is None
    assert rows[1][3] == pd.Timestamp("2024-06-01T12:30:00Z").to_pydatetime()
    client.load_table_from_dataframe(frame, f"{dataset}.frame").result()
    assert count(client, f"{dataset}.frame") == 6
    truncate = bigquery.LoadJobConfig(write_disposition="WRITE_TRUNCATE")
    client.load_table_from_dataframe(frame.head(1), f"{dataset}.frame", job_config=truncate).result()
    assert count(client, f"{dataset}.frame") == 1


def test_load_csv_with_schema_and_autodetect(client: bigquery.Client, dataset: str) -> None:
    job = load_csv(client, f"{dataset}.explicit", schema=CSV_SCHEMA, skip_leading_rows=1)
    assert job.output_rows == 3 and job.state == "DONE"
    rows = [tuple(r.values()) for r in client.query_and_wait(f"SELECT * FROM {dataset}.explicit ORDER BY id")]
    assert rows == [(1, "ann", 1.5), (2, "bob", 2.5), (3, "cy", None)]
    load_csv(client, f"{dataset}.auto", autodetect=True, skip_leading_rows=1)
    table = client.get_table(f"{dataset}.auto")
    assert [(f.name, f.field_type) for f in table.schema] == [("id", "INTEGER"), ("name", "STRING"), ("score", "FLOAT")]
    assert table.num_rows == 3


def test_load_newline_delimited_json_with_nested_fields(client: bigquery.Client, dataset: str) -> None:
    schema = [SF("id", "INT64"), SF("tags", "STRING", mode="REPEATED"),
              SF("info", "RECORD", fields=[SF("k", "STRING"), SF("v", "FLOAT64")])]
    rows = [{"id": 1, "tags": ["a", "b"], "info": {"k": "x", "v": 1.5}}, {"id": 2, "tags": [], "info": None}]
    config = bigquery.LoadJobConfig(schema=schema)
    assert client.load_table_from_json(rows, f"{dataset}.nd", job_config=config).result().output_rows == 2
    got = [dict(r) for r in client.query_and_wait(f"SELECT * FROM {dataset}.nd ORDER BY id")]
    assert got == rows
    client.load_table_from_json([{"a": 1, "b": "z"}], f"{dataset}.auto").result()
    assert [f.name for f in client.get_table(f"{dataset}.auto").schema] == ["a", "b"]


def test_multipart_and_chunked_resumable_uploads(client: bigquery.Client, bq_url: str, dataset: str) -> None:
    config = bigquery.LoadJobConfig(source_format="CSV", schema=CSV_SCHEMA, skip_leading_rows=1)
    # A known size under 5 MiB makes the client use a multipart upload.
    job = client.load_table_from_file(io.BytesIO(CSV_BYTES), f"{dataset}.up", size=len(CSV_BYTES),
                                      job_config=config).result()
    assert job.output_rows == 3
    # Drive the resumable protocol by hand to cover several chunks and a status query.
    body = {"jobReference": {"projectId": PROJECT, "jobId": unique("resumable")},
            "configuration": {"load": {**config.to_api_repr()["load"], "destinationTable": {
                "projectId": PROJECT, "datasetId": dataset, "tableId": "up"}}}}
    session = requests.Session()
    start = session.post(f"{bq_url}/upload/bigquery/v2/projects/{PROJECT}/jobs?uploadType=resumable",
                         json=body, timeout=10)
    location = start.headers["Location"]
    first = session.put(location, data=CSV_BYTES[:10], headers={"Content-Range": "bytes 0-9/*"}, timeout=10)
    assert first.status_code == 308 and first.headers["Range"] == "bytes=0-9"
    status = session.put(location, headers={"Content-Range": "bytes */*"}, timeout=10)
    assert status.status_code == 308 and status.headers["Range"] == "bytes=0-9"
    last = f"bytes 10-{len(CSV_BYTES) - 1}/{len(CSV_BYTES)}"
    done = session.put(location, data=CSV_BYTES[10:], headers={"Content-Range": last}, timeout=10)
    assert done.status_code == 200 and done.json()["statistics"]["load"]["outputRows"] == "3"
    assert count(client, f"{dataset}.up") == 6


class _FakeGcs(http.server.BaseHTTPRequestHandler):
    """Just enough of the GCS JSON API (list, alt=media) to serve load sources."""

    objects: dict[str, bytes] = {}

    def do_GET(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        parts = parsed.path.split("/")  # ['', 'storage', 'v1', 'b', bucket, 'o', name?]
        if len(parts) == 6:
            prefix = urllib.parse.parse_qs(parsed.query).get("prefix", [""])[0]
            items = [{"name": n} for n in sorted(self.objects) if n.startswith(prefix)]
            self._reply(200, json.dumps({"items": items}).encode())
        else:
            data = self.objects.get(urllib.parse.unquote(parts[6]))
            self._reply(404, b"{}") if data is None else self._reply(200, data)

    def _reply(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_load_from_gcs_uris() -> None:
    _FakeGcs.objects = {"data/a.csv": CSV_BYTES, "data/b.csv": CSV_BYTES, "other.txt": b"x"}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeGcs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    emulator = start_emulator(gcs_url=f"http://127.0.0.1:{server.server_address[1]}")
    try:
        with make_client(emulator.url) as client:
            client.create_dataset("gcs")
            config = bigquery.LoadJobConfig(source_format="CSV", schema=CSV_SCHEMA, skip_leading_rows=1)
            job = client.load_table_from_uri("gs://bkt/data/a.csv", "gcs.one", job_config=config).result()
            assert job.output_rows == 3
            job = client.load_table_from_uri("gs://bkt/data/*.csv", "gcs.many", job_config=config).result()
            assert job.output_rows == 6 and count(client, "gcs.many") == 6
            with pytest.raises(exceptions.NotFound):
                client.load_table_from_uri("gs://bkt/data/missing.csv", "gcs.none", job_config=config).result()
    finally:
        emulator.stop()
        server.shutdown()
        server.server_close()
