"""Worker leases on real Redis: a Redis outage is logged as one warning when it starts and one info when
it ends (not a traceback at every renewal), however many workers the process runs; and a dead worker's
job is freed and logged once, however many live workers reap at the same moment."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from arq.constants import in_progress_key_prefix

from adapters.arq.leases import WorkerLeases
from tests.support.restartable_redis import RestartableRedis

pytestmark = pytest.mark.integration


async def test_a_redis_outage_is_one_warning_then_one_info_not_a_traceback_per_renewal(
        tmp_path: Path, namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    server = RestartableRedis(tmp_path)
    await asyncio.to_thread(server.start)
    client = aioredis.Redis.from_url(server.url)
    leases = [WorkerLeases(client, namespace, f"w{i}", ttl_seconds=0.3) for i in range(2)]  # renewed every 0.1 s
    caplog.set_level(logging.INFO, logger="adapters.arq.leases")
    try:
        for lease in leases:
            await lease.start()
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(1.5)  # about 15 renewals of each lease fail meanwhile
        await asyncio.to_thread(server.start)
        await asyncio.sleep(0.8)
        assert await client.exists(f"{namespace}worker:w0") and await client.exists(f"{namespace}worker:w1")
    finally:
        for lease in leases:
            await lease.stop()
        await client.aclose()
        await asyncio.to_thread(server.stop)
    records = [r for r in caplog.records if r.name == "adapters.arq.leases"]
    assert [r.levelno for r in records] == [logging.WARNING, logging.INFO], [r.getMessage() for r in records]
    assert "Redis" in records[0].getMessage() and records[0].exc_info is None


async def test_a_dead_workers_job_is_freed_and_logged_once_however_many_workers_reap(
        redis_client: aioredis.Redis, namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    dead_job, live_job = f"{namespace}dead-job", f"{namespace}live-job"
    await WorkerLeases(redis_client, namespace, "dead").job_started(dead_job)  # its heartbeat never existed
    live = WorkerLeases(redis_client, namespace, "live")
    await live.start()
    await live.job_started(live_job)
    for job in (dead_job, live_job):
        await redis_client.set(in_progress_key_prefix + job, b"1")
    reapers = [WorkerLeases(redis_client, namespace, f"reaper{i}") for i in range(3)]
    caplog.set_level(logging.WARNING, logger="adapters.arq.leases")
    try:
        freed = await asyncio.gather(*(reaper.reap() for reaper in reapers))
    finally:
        await live.stop()
    assert sorted(job for jobs in freed for job in jobs) == [dead_job], freed
    logged = [r.getMessage() for r in caplog.records if "redelivering" in r.getMessage()]
    assert logged == [f"redelivering jobs of dead workers: {dead_job}"], logged
    assert not await redis_client.exists(in_progress_key_prefix + dead_job)
    assert await redis_client.hkeys(f"{namespace}running-jobs") == [live_job.encode()]
    await redis_client.delete(in_progress_key_prefix + live_job)
