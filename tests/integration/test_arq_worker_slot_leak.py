"""A Redis error inside arq's start_jobs (between taking a slot for a job and starting it) does not cost
the queue that slot: the restarted poll loop counts its slots afresh, so a queue of concurrency 1 still
takes jobs. The error is a real one: Redis refuses the WATCH of start_jobs (an ACL) until the test allows it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis

from adapters.arq.task_queue import ArqTaskQueue
from adapters.arq.worker import ArqWorker, LoopRestarts, QueueSettings, TaskHandler
from tests.support.restartable_redis import RestartableRedis, running, until

pytestmark = pytest.mark.integration
QUEUE = "slots"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[RestartableRedis]:
    async with running(tmp_path) as redis:  # of its own: the test changes the default user's rights
        yield redis


def crashes(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "adapters.arq.poll_loop" and r.levelno == logging.ERROR]


async def test_a_redis_error_inside_start_jobs_does_not_leave_the_queue_without_a_slot(
        server: RestartableRedis, namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    admin = aioredis.Redis.from_url(server.url)
    await admin.execute_command("ACL", "SETUSER", "admin", "on", ">pw", "~*", "&*", "+@all")
    await admin.execute_command("ACL", "SETUSER", "default", "-watch")  # the worker's start_jobs fails
    done: list[str] = []

    async def note(payload: Mapping[str, Any]) -> None:
        done.append(payload["n"])

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        raise AssertionError(message)

    settings = QueueSettings(QUEUE, timeout_s=30, max_tries=2, concurrency=1)
    worker = ArqWorker(server.url, namespace, settings, [TaskHandler("note", note, give_up)], "w-slots",
                       restarts=LoopRestarts(max_crashes=1000, base_s=0.05, cap_s=0.1))
    # arq's enqueue WATCHes too: jobs come in as a user that may
    pool = ArqRedis.from_url(f"redis://admin:pw@127.0.0.1:{server.port}/0")
    await worker.start()
    try:
        assert await ArqTaskQueue(pool, namespace).enqueue("note", {"n": "a"}, job_id="a", queue=QUEUE)
        await until(lambda: any("no permissions" in c for c in crashes(caplog)), 10)
        await admin.execute_command("ACL", "SETUSER", "default", "+watch")
        await until(lambda: done == ["a"], 10)  # before the fix: job_counter stayed 1 = max_jobs
        assert await ArqTaskQueue(pool, namespace).enqueue("note", {"n": "b"}, job_id="b", queue=QUEUE)
        await until(lambda: done == ["a", "b"], 10)
        assert worker.polling
    finally:
        await worker.stop(grace_s=1)
        await pool.aclose()
        await admin.aclose()
