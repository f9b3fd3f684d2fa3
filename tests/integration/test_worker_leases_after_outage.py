"""After a Redis outage longer than the lease, every heartbeat has run out, the live workers' too: the first
lease loop back must not free the jobs of the others (they would run twice). Each loop reaps again only one
lease after it could renew, by when the live workers have renewed; a dead worker's job is still freed then.

The outage keeps Redis's data, as a network cut or a Redis that stops answering for a while does: the server
is paused (SIGSTOP), and the clients' commands time out meanwhile."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from arq.constants import in_progress_key_prefix

from adapters.arq.leases import WorkerLeases
from tests.support.restartable_redis import RestartableRedis

pytestmark = pytest.mark.integration
TTL_S = 1.0  # renewed every 0.33 s


async def test_after_an_outage_longer_than_the_lease_no_live_workers_job_is_freed(
        tmp_path: Path, namespace: str) -> None:
    server = RestartableRedis(tmp_path)
    await asyncio.to_thread(server.start)
    client = aioredis.Redis.from_url(server.url, socket_timeout=0.3, socket_connect_timeout=0.3)
    pid = int((await client.info("server"))["process_id"])
    leases = {name: WorkerLeases(client, namespace, name, TTL_S) for name in ("training", "ticks", "commits")}
    jobs = {name: f"{namespace}job-of-{name}" for name in (*leases, "dead")}
    try:
        for lease in leases.values():
            await lease.start()
        for name, job in jobs.items():
            await WorkerLeases(client, namespace, name).job_started(job)  # "dead" never had a heartbeat
            await client.set(in_progress_key_prefix + job, b"1")
        await client.hdel(f"{namespace}running-jobs", jobs["dead"])  # known to be dead only after the outage
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(2.5 * TTL_S)  # every heartbeat runs out meanwhile
        finally:
            os.kill(pid, signal.SIGCONT)
        await WorkerLeases(client, namespace, "dead").job_started(jobs["dead"])
        await asyncio.sleep(2.5 * TTL_S)  # the loops renewed, waited one lease, and reaped again
        running = {key.decode() for key in await client.hkeys(f"{namespace}running-jobs")}
        live = {job for name, job in jobs.items() if name != "dead"}
        assert running == live, f"freed: {sorted(live - running)}"
        for job in live:
            assert await client.exists(in_progress_key_prefix + job), job
        assert not await client.exists(in_progress_key_prefix + jobs["dead"])  # reaping works again
    finally:
        for lease in leases.values():
            await lease.stop()
        await client.aclose()
        await asyncio.to_thread(server.stop)
