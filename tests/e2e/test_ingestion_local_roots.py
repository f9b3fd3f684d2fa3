"""Local ingestion sources must lie under MLPLANE_INGEST_LOCAL_ROOTS; the data dir never; a symlink
that leaves a root is refused; the answer never says whether a file outside the roots exists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess, request_json, run_until_teardown

pytestmark = pytest.mark.e2e
CSV = "id,score\n1,0.5\n2,0.25\n"


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("roots")
    paths = {name: base / name for name in ("allowed", "outside", "data")}
    for path in paths.values():
        path.mkdir()
    (paths["allowed"] / "rows.csv").write_text(CSV)
    (paths["outside"] / "private.csv").write_text(CSV)
    (paths["data"] / "dropped.csv").write_text(CSV)
    (paths["allowed"] / "link.csv").symlink_to(paths["outside"] / "private.csv")
    return paths


@pytest.fixture(scope="module")
def daemon(layout: dict[str, Path]) -> Iterator[DaemonProcess]:
    roots = json.dumps([str(layout["allowed"]), str(layout["data"])])  # the data dir stays refused inside a root
    yield from run_until_teardown(layout["data"], {"MLPLANE_SEED_DEMO": "false", "MLPLANE_INGEST_LOCAL_ROOTS": roots})


async def post(session: aiohttp.ClientSession, daemon: DaemonProcess, source: str) -> tuple[int, dict]:
    body = {"sources": [source], "table": "rows", "format": "csv"}
    return await request_json(session, "POST", f"{daemon.url}/v1/ingestions", body)


async def test_a_file_under_a_root_is_accepted(daemon, session, layout) -> None:
    status, body = await post(session, daemon, str(layout["allowed"] / "rows.csv"))
    assert status == 202, body


@pytest.mark.parametrize("name", ["private.csv", "missing.csv", "*.csv"])
async def test_a_path_outside_the_roots_is_refused_whether_or_not_it_exists(daemon, session, layout, name) -> None:
    status, body = await post(session, daemon, str(layout["outside"] / name))
    assert status == 422, body
    assert "outside the directories ingestion may read" in body["error"]["message"]
    assert "MLPLANE_INGEST_LOCAL_ROOTS" in body["error"]["message"]
    assert body["error"]["details"]["allowed_roots"] == [str(layout["allowed"].resolve()),
                                                         str(layout["data"].resolve())]


@pytest.mark.parametrize("source", ["link.csv", "*.csv", "../allowed/../outside/private.csv"])
async def test_a_path_that_leads_outside_a_root_is_refused(daemon, session, layout, source) -> None:
    status, body = await post(session, daemon, str(layout["allowed"]) + "/" + source)
    assert status == 422, body
    assert "outside the directories ingestion may read" in body["error"]["message"], body


async def test_the_daemons_own_data_dir_is_refused_even_under_a_root(daemon, session, layout) -> None:
    for source in (layout["data"] / "dropped.csv", layout["data"] / "warehouse.duckdb"):
        status, body = await post(session, daemon, str(source))
        assert status == 422, body
        assert "the daemon's own data or secrets directory" in body["error"]["message"], body
