"""The daemon as a subprocess: ingest a CSV and a Parquet file over HTTP, follow it live, check the table."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import aiohttp
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from entrypoints.api.schemas_ingestion import IngestionAcceptedOut
from tests.support.daemon import module_daemon, request_json
from tests.support.ws_client import collect_events

pytestmark = pytest.mark.e2e


daemon = module_daemon("ingest", {"MLPLANE_SEED_DEMO": "false"})


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """2,000 CSV rows (ids 0..1999, 20 duplicated, 10 with a null score) and 500 Parquet rows (2000..2499)."""
    folder = tmp_path_factory.mktemp("sources")
    lines = [f"{i},k{i % 7},{'' if i % 200 == 5 else i / 4}" for i in range(2000)]
    lines += lines[100:120]
    (folder / "events.csv").write_text("id,key,score\n" + "\n".join(lines) + "\n")
    ids = list(range(2000, 2500))
    pq.write_table(pa.table({"id": ids, "key": [f"k{i % 7}" for i in ids], "score": [i / 4 for i in ids]}),
                   folder / "events.parquet", row_group_size=100)
    return folder / "events.csv", folder / "events.parquet"


async def post(session: aiohttp.ClientSession, url: str, body: dict) -> tuple[int, dict]:
    return await request_json(session, "POST", f"{url}/v1/ingestions", body)


async def test_an_ingestion_of_csv_and_parquet_loads_the_clean_rows(daemon, session, sources) -> None:
    body = {"sources": [str(s) for s in sources], "table": "events", "partitions": 3, "mode": "replace",
            "cleaning": {"dedupe": "exact", "drop_nulls": ["score"]}}
    status, accepted = await post(session, daemon.url, body)
    assert status == 202 and accepted["partitions"] is None, accepted  # split after the 202, by a worker
    IngestionAcceptedOut.model_validate(accepted)  # the answer /openapi.json documents
    assert accepted["sources"] == 2 and accepted["bytes_total"] == sum(s.stat().st_size for s in sources)
    events = await collect_events(session, daemon.url, accepted["ingestion_id"], timeout=60)
    assert events[0]["type"] == "queued" and events[-1]["type"] == "completed", events[-1]
    assert [e["data"]["partitions"] for e in events if e["data"].get("stage") == "planned"] == [3]
    partitions = {e["data"]["partition"] for e in events if e["data"].get("stage") == "staged"}
    assert partitions == {0, 1, 2}
    async with session.get(f"{daemon.url}/v1/ingestions/{accepted['ingestion_id']}") as response:
        report = (await response.json())["result"]
    assert report["rows_read"] == 2520 and report["null_rows_dropped"] == 10
    assert report["duplicates_dropped"] == 20 and report["rows_loaded"] == 2490
    async with session.get(f"{daemon.url}/v1/tables/events") as response:
        assert (await response.json())["row_count"] == 2490


async def test_progress_is_on_the_generic_events_socket_too(daemon, session, sources) -> None:
    status, accepted = await post(session, daemon.url, {"sources": [str(sources[1])], "table": "more"})
    assert status == 202
    ws_url = daemon.url.replace("http://", "ws://") + f"/v1/events?topics=job:{accepted['ingestion_id']}"
    types: list[str] = []
    async with asyncio.timeout(60), session.ws_connect(ws_url) as socket:
        async for message in socket:
            types.append(json.loads(message.data)["type"])
            if types[-1] in ("completed", "failed"):
                break
    assert types[0] == "queued" and "progress" in types and types[-1] == "completed"


@pytest.mark.parametrize(("change", "named"), [
    ({"sources": ["/nowhere/missing.csv"]}, "missing.csv"),
    ({"format": "xml"}, "format"),
    ({"mode": "merge"}, "mode"),
    ({"mode": "upsert"}, "keys"),
    ({"keys": ["no_such_column"], "cleaning": {"dedupe": "keys"}}, "no_such_column"),
])
async def test_bad_input_is_a_4xx_naming_what_to_fix(daemon, session, sources, change, named) -> None:
    status, body = await post(session, daemon.url, {"sources": [str(sources[0])], "table": "bad", **change})
    assert 400 <= status < 500 and named in body["error"]["message"], body


def test_the_cli_ingests_and_follows_to_the_end(daemon, sources) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "ingest", str(sources[0]), "--table", "from_cli", "--dedupe",
         "--drop-nulls", "score", "--partitions", "2", "--follow", "--url", daemon.url],
        capture_output=True, text=True, timeout=90, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert "queued: 1 file(s)" in result.stderr and "planned: 2 partition(s)" in result.stderr, result.stderr
    assert "1,990 rows loaded" in result.stderr.replace("\n", " ")
