"""`mlplane up` whose DuckDB file another process holds (a second daemon, a `duckdb` shell): every call
that needs the warehouse is a 503 `transient` naming the file and the holder's pid, never a 500, and
the daemon serves again once the holder lets go; with the demo seed it refuses to start, saying why."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess, request_json
from tests.support.duckdb_holder import duckdb_held_by_another_process

pytestmark = pytest.mark.e2e
SPEC = json.loads((Path(__file__).resolve().parents[2] / "examples" / "demo-churn.json").read_text())


def locked_message(data_dir: Path, pid: int) -> str:
    return f"the warehouse file {data_dir / 'warehouse.duckdb'} is locked by another process (pid {pid})"


async def test_every_warehouse_call_is_a_503_naming_the_file_and_the_holder(tmp_path: Path) -> None:
    data_dir, source = tmp_path / "data", tmp_path / "rows.csv"
    data_dir.mkdir()
    source.write_text("id,x\n1,0.5\n")
    ingestion = {"sources": [str(source)], "table": "t", "mode": "append"}
    daemon = DaemonProcess(data_dir, {"MLPLANE_SEED_DEMO": "false"})
    with duckdb_held_by_another_process(data_dir / "warehouse.duckdb") as pid:
        daemon.start()  # the daemon opens the file on first use only, so it starts
        try:
            async with aiohttp.ClientSession(base_url=daemon.url) as http:
                answers = [await request_json(http, "GET", "/v1/tables"),
                           await request_json(http, "GET", "/v1/tables/demo_events"),
                           await request_json(http, "POST", "/v1/ingestions", ingestion),
                           await request_json(http, "POST", "/v1/training-jobs", SPEC)]
        except BaseException:
            daemon.kill()
            raise
    try:
        for status, body in answers:
            assert status == 503, (status, body, daemon.log_text()[-3000:])
            assert body["error"]["code"] == "transient"
            assert body["error"]["message"].startswith(locked_message(data_dir, pid)), body
        async with aiohttp.ClientSession(base_url=daemon.url) as http:  # the holder is gone
            assert await request_json(http, "GET", "/v1/tables") == (200, {"tables": []})
    finally:
        assert daemon.stop() == 0, daemon.log_text()[-3000:]
    assert "IOException" not in daemon.log_text()


def test_with_the_demo_seed_the_daemon_refuses_to_start_saying_who_holds_the_file(tmp_path: Path) -> None:
    daemon = DaemonProcess(tmp_path, {"MLPLANE_DEMO_ROWS": "1000"})
    with duckdb_held_by_another_process(tmp_path / "warehouse.duckdb") as pid, \
            pytest.raises(RuntimeError, match="mlplane did not start"):
        daemon.start()
    assert daemon.process is not None and daemon.process.returncode == 2, daemon.log_text()[-3000:]
    assert f"mlplane: cannot seed the demo table demo_events (MLPLANE_SEED_DEMO): {locked_message(tmp_path, pid)}" \
        in daemon.log_text()
    assert "unexpected error" not in daemon.log_text()
