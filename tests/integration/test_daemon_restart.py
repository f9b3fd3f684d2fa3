"""Crash and restart: kill -9 the daemon mid-training, start it on the same data dir, and the job
finishes with exactly one model version; a kill -9 leaves none of the daemon's processes behind;
jobs queued at a graceful stop run after the restart."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.support.daemon import DaemonProcess
from tests.support.processes import assert_all_gone
from tests.support.ws_client import DEMO_SPEC, collect_events, submit

pytestmark = pytest.mark.integration
# Deep trees on 300k rows take seconds to fit: long enough to kill the daemon mid-fit.
SLOW_SPEC = {**DEMO_SPEC, "model_name": "crashy", "hyperparameters": {"max_depth": None}}


def versions_on_disk(data_dir: Path, model: str) -> list[int]:
    folder = data_dir / "artifacts" / "models" / model / "versions"
    return sorted(int(p.parent.name) for p in folder.glob("*/manifest.json"))


async def test_kill_9_mid_training_then_restart_finishes_with_one_version(tmp_path: Path, session) -> None:
    env = {"MLPLANE_DEMO_ROWS": "300000"}
    first = DaemonProcess(tmp_path, env)
    first.start()
    job_id = (await submit(session, first.url, SLOW_SPEC))["job_id"]
    events = await collect_events(session, first.url, job_id, stop_after=5)  # ... progress(fit, 0.0)
    assert events[-1]["type"] == "progress" and events[-1]["data"]["stage"] == "fit", events
    first.kill()

    second = DaemonProcess(tmp_path, env)
    second.start()
    try:
        final = await collect_events(session, second.url, job_id, timeout=150)
        assert final[-1]["type"] == "completed", final[-1]
        assert [e["data"]["attempt"] for e in final if e["type"] == "started"] == [1, 2]
        assert versions_on_disk(tmp_path, "crashy") == [1]
    finally:
        assert second.stop() == 0, second.log_text()[-4000:]


async def test_kill_9_leaves_no_pool_or_manager_process_behind(tmp_path: Path, session) -> None:
    daemon = DaemonProcess(tmp_path / "data", {"MLPLANE_DEMO_ROWS": "300000", "MLPLANE_INGESTION_PROCESSES": "2"})
    daemon.start()
    try:
        source = tmp_path / "rows.csv"
        source.write_text("id,score\n" + "\n".join(f"{i},{i / 2}" for i in range(4000)) + "\n")
        async with session.post(f"{daemon.url}/v1/ingestions", json={"sources": [str(source)], "table": "rows",
                                                                     "partitions": 2}) as response:
            assert response.status == 202, await response.text()
            ingestion_id = (await response.json())["ingestion_id"]
        assert (await collect_events(session, daemon.url, ingestion_id))[-1]["type"] == "completed"
        job_id = (await submit(session, daemon.url, SLOW_SPEC))["job_id"]
        events = await collect_events(session, daemon.url, job_id, stop_after=5)  # a fit process is busy
        assert events[-1]["data"].get("stage") == "fit", events
        started = psutil.Process(daemon.pid).children(recursive=True)
        names = {" ".join(p.cmdline()) for p in started}
        assert any("forkserver" in n for n in names), names  # the pools and the manager did start
    finally:
        daemon.kill()
    assert_all_gone(started)


async def test_jobs_queued_at_a_graceful_stop_run_after_the_restart(tmp_path: Path, session) -> None:
    env = {"MLPLANE_DEMO_ROWS": "20000", "MLPLANE_SHUTDOWN_GRACE_S": "0"}
    first = DaemonProcess(tmp_path, env)
    first.start()
    spec = {**DEMO_SPEC, "model_name": "queued"}
    job_ids = [(await submit(session, first.url, spec))["job_id"] for _ in range(3)]
    assert first.stop() == 0, first.log_text()[-4000:]

    second = DaemonProcess(tmp_path, env)
    second.start()
    try:
        for job_id in job_ids:
            assert (await collect_events(session, second.url, job_id, timeout=120))[-1]["type"] == "completed"
        assert versions_on_disk(tmp_path, "queued") == [1, 2, 3]
    finally:
        assert second.stop() == 0, second.log_text()[-4000:]
