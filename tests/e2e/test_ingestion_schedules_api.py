"""The daemon as a subprocess: ingestion from URLs served on loopback, and ingestion schedules over
the API and the CLI (PUT, list, get, delete; bad cron and bad URLs answered 4xx naming the field)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.daemon import module_daemon, request_json
from tests.support.http_files import FileServer
from tests.support.ws_client import collect_events

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


daemon = module_daemon("schedules", {  # the test files are served on 127.0.0.1
    "MLPLANE_SEED_DEMO": "false", "MLPLANE_INGEST_HTTP_PRIVATE_HOSTS": "true"})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    folder = tmp_path_factory.mktemp("served")
    (folder / "events.csv").write_text("id,key\n" + "".join(f"{i},k{i % 7}\n" for i in range(5000)))
    with FileServer(folder) as server:
        yield server


@pytest.mark.parametrize(("name", "status"), [("missing.csv", "HTTP 404"), (None, "not reachable")])
async def test_a_bad_url_is_a_4xx_naming_it(daemon, session, files, name, status) -> None:
    url = files.url(name) if name else "http://127.0.0.1:9/events.csv"
    code, body = await request_json(session, "POST", f"{daemon.url}/v1/ingestions", {"sources": [url], "table": "t"})
    assert code == 422 and url in body["error"]["message"] and status in body["error"]["message"], body
    assert body["error"]["details"]["field"] == "sources"


async def test_a_csv_url_is_ingested_in_ranged_partitions(daemon, session, files) -> None:
    body = {"sources": [files.url("events.csv")], "table": "from_url", "partitions": 2}
    code, accepted = await request_json(session, "POST", f"{daemon.url}/v1/ingestions", body)
    assert code == 202 and accepted["partitions"] is None, accepted  # split after the 202, by a worker
    events = await collect_events(session, daemon.url, accepted["ingestion_id"], timeout=60)
    assert [e["data"]["partitions"] for e in events if e["data"].get("stage") == "planned"] == [2]
    assert events[-1]["type"] == "completed" and events[-1]["data"]["rows_loaded"] == 5000, events[-1]
    assert len(set(files.ranged("events.csv"))) > 2  # the probe, then each partition's own range
    code, table = await request_json(session, "GET", f"{daemon.url}/v1/tables/from_url")
    assert table["row_count"] == 5000


async def test_an_ingestion_schedule_is_set_listed_and_deleted(daemon, session, files) -> None:
    base = f"{daemon.url}/v1/ingestion-schedules"
    ingestion = {"sources": [files.url("events.csv")], "table": "fresh", "mode": "replace"}
    code, stored = await request_json(session, "PUT", f"{base}/hourly", {"cron": "0 * * * *", "ingestion": ingestion})
    assert code == 200, stored
    assert stored["name"] == "hourly" and stored["enabled"] and len(stored["next_runs"]) == 5
    assert stored["ingestion"]["sources"] == ingestion["sources"] and stored["warnings"] == []
    code, listed = await request_json(session, "GET", base)
    assert [s["name"] for s in listed["schedules"]] == ["hourly"] and listed["schedules"][0]["last_run"] is None
    assert (await request_json(session, "GET", f"{base}/hourly"))[1]["cron"] == "0 * * * *"
    assert (await request_json(session, "DELETE", f"{base}/hourly"))[0] == 204
    assert (await request_json(session, "GET", f"{base}/hourly"))[0] == 404
    assert (await request_json(session, "GET", base))[1]["schedules"] == []


@pytest.mark.parametrize(("body", "field"), [
    ({"cron": "every hour"}, "cron"),
    ({"cron": "0 * * * *", "timezone": "Mars/Base"}, "timezone"),
    ({"cron": "0 * * * *", "ingestion": {"sources": ["x.csv"]}}, "ingestion.table"),
])
async def test_a_bad_schedule_is_a_4xx_naming_the_field(daemon, session, files, body, field) -> None:
    body = {"ingestion": {"sources": [files.url("events.csv")], "table": "t"}, **body}
    code, answer = await request_json(session, "PUT", f"{daemon.url}/v1/ingestion-schedules/bad", body)
    assert code == 422, answer
    details = answer["error"]["details"]
    assert details.get("field") == field or field in [e["field"] for e in details.get("errors", [])], answer
    assert (await request_json(session, "GET", f"{daemon.url}/v1/ingestion-schedules/bad"))[0] == 404


def test_the_cli_sets_lists_and_deletes_a_schedule(daemon, files) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "entrypoints.cli", "ingest-schedule", *args, "--url", daemon.url],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)

    saved = cli("set", "nightly", files.url("events.csv"), "--table", "nightly", "--cron", "0 2 * * *")
    assert saved.returncode == 0 and "next runs" in saved.stderr, saved.stderr
    listed = cli("list")
    assert listed.returncode == 0 and '"name": "nightly"' in listed.stdout
    assert cli("delete", "nightly").returncode == 0
    refused = cli("delete", "nightly")
    assert refused.returncode == 2 and "404" in refused.stderr
