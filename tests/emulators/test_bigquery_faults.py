"""Fault injection, the command line entry point and on-disk persistence of the
BigQuery emulator, driven by the official client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from google.api_core import exceptions
from google.cloud import bigquery

from emulators.bigquery import FaultConfig
from tests.emulators.bigquery_fixtures import PROJECT, admin, make_client, start_emulator, unique

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(120)]

SF = bigquery.SchemaField
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bq_url() -> Iterator[str]:
    emulator = start_emulator()
    yield emulator.url
    emulator.stop()


def test_random_503s_are_retried_by_the_client(bq_url: str) -> None:
    state = admin(bq_url, "POST", "faults", {"error_rate": 0.2, "status": 503, "seed": 11})
    assert state["error_rate"] == 0.2
    with make_client(bq_url) as client:
        name = unique("faulty")
        client.create_dataset(name)
        table = client.create_table(bigquery.Table(f"{PROJECT}.{name}.t", schema=[SF("a", "INT64")]))
        for start in range(0, 50, 10):
            assert client.insert_rows_json(table, [{"a": i} for i in range(start, start + 10)]) == []
        total = next(iter(client.query(f"SELECT sum(a) AS s, count(*) AS n FROM {name}.t").result()))
        assert (total["s"], total["n"]) == (sum(range(50)), 50)
        waited = list(client.query_and_wait(f"SELECT a FROM {name}.t WHERE a < 3 ORDER BY a"))
        assert [r["a"] for r in waited] == [0, 1, 2]
        assert sorted(r["a"] for r in client.list_rows(table)) == list(range(50))
    assert admin(bq_url, "GET", "faults")["injected"] > 0
    cleared = admin(bq_url, "DELETE", "faults")
    assert cleared["error_rate"] == 0 and cleared["injected"] == 0


def test_fail_nth_and_latency(bq_url: str) -> None:
    with make_client(bq_url) as client:
        name = unique("nth")
        client.create_dataset(name)
        admin(bq_url, "POST", "faults", {"fail_nth": {"operation": "datasets.get", "n": 2, "status": 400}})
        assert client.get_dataset(name).dataset_id == name
        with pytest.raises(exceptions.BadRequest):
            client.get_dataset(name)
        assert client.get_dataset(name).dataset_id == name
        # A retryable status on the n-th query call is absorbed by the client's retry.
        admin(bq_url, "POST", "faults", {"fail_nth": {"operation": "query", "n": 1}, "latency_ms": 20})
        assert [tuple(r.values()) for r in client.query_and_wait("SELECT 40 + 2")] == [(42,)]
        assert admin(bq_url, "GET", "faults")["injected"] == 1


def test_admin_rejects_bad_fault_config_and_resets_state(bq_url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        admin(bq_url, "POST", "faults", {"error_rate": 3})
    assert err.value.code == 400
    with make_client(bq_url) as client:
        client.create_dataset("wiped")
        assert admin(bq_url, "POST", "reset")["reset"] is True
        assert list(client.list_datasets()) == []


def test_faults_configured_at_start_apply_to_the_first_request() -> None:
    emulator = start_emulator(faults=FaultConfig(fail_nth={"operation": "datasets.list", "n": 1, "status": 404}))
    try:
        with make_client(emulator.url) as client:
            with pytest.raises(exceptions.NotFound):
                list(client.list_datasets())
            assert list(client.list_datasets()) == []
    finally:
        emulator.stop()


def test_data_dir_persists_tables_across_restarts(tmp_path: Path) -> None:
    first = start_emulator(data_dir=str(tmp_path))
    try:
        with make_client(first.url) as client:
            client.create_dataset("keep")
            table = client.create_table(bigquery.Table(f"{PROJECT}.keep.t", schema=[SF("a", "INT64")]))
            client.insert_rows_json(table, [{"a": 1}, {"a": 2}])
    finally:
        first.stop()
    second = start_emulator(data_dir=str(tmp_path))
    try:
        with make_client(second.url) as client:
            assert client.get_table("keep.t").num_rows == 2
            assert [d.dataset_id for d in client.list_datasets()] == ["keep"]
    finally:
        second.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_command_line_entry_point() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulators.bigquery", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert admin(url, "GET", "health")["project"] == "test"
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, "emulator did not come up"
                time.sleep(0.1)
        with make_client(url) as client:
            assert [tuple(r.values()) for r in client.query_and_wait("SELECT 'up'")] == [("up",)]
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=15)
    assert "api_endpoint" in output and url in output


def test_oldest_query_results_expire_beyond_the_retention_budget(
    bq_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("emulators.bigquery.jobs.RETAINED_ROWS", 10)
    with make_client(bq_url) as client:
        first = client.query("SELECT x FROM UNNEST(GENERATE_ARRAY(1, 8)) AS x")
        assert len(list(first.result())) == 8
        second = client.query("SELECT x FROM UNNEST(GENERATE_ARRAY(1, 8)) AS x")
        assert len(list(second.result())) == 8
    expired = requests.get(f"{bq_url}/bigquery/v2/projects/{PROJECT}/queries/{first.job_id}", timeout=10)
    assert expired.status_code == 404 and expired.json()["error"]["errors"][0]["reason"] == "notFound"
