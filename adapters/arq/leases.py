"""Worker leases: redeliver a job within seconds when the worker running it dies.

arq only re-runs a job when its in-progress key expires, and that key lives for the longest
task timeout (hours for training). Each worker here keeps a short heartbeat key alive and
records which jobs it runs; any worker that finds a running job whose owner's heartbeat is
gone deletes the job's in-progress key, so arq's next poll starts it again. The lease length
(MLPLANE_WORKER_LEASE_SECONDS) trades how soon a dead worker's jobs return against how long a stall
(Redis, the event loop) a live worker survives without its jobs being run twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis

log = logging.getLogger(__name__)
DEFAULT_TTL_S = 15.0


class WorkerLeases:
    def __init__(self, redis: Redis, namespace: str, worker_id: str, ttl_seconds: float = DEFAULT_TTL_S) -> None:
        self._redis = redis
        self._worker_key = f"{namespace}worker:{worker_id}"
        self._running_key = f"{namespace}running-jobs"
        self._namespace = namespace
        self._worker_id = worker_id
        self._ttl_ms = int(ttl_seconds * 1000)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._heartbeat()
        self._task = asyncio.create_task(self._loop(), name=f"leases:{self._worker_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self._redis.delete(self._worker_key)

    async def job_started(self, job_id: str) -> None:
        await self._redis.hset(self._running_key, job_id, self._worker_id)

    async def job_ended(self, job_id: str) -> None:
        await self._redis.hdel(self._running_key, job_id)

    async def reap(self) -> list[str]:
        """Free the jobs of dead workers; returns their ids."""
        freed = []
        for job_id, owner in (await self._redis.hgetall(self._running_key)).items():
            owner_key = f"{self._namespace}worker:{owner.decode()}"
            if not await self._redis.exists(owner_key):
                await self._redis.delete(in_progress_key_prefix + job_id.decode())
                await self._redis.hdel(self._running_key, job_id)
                freed.append(job_id.decode())
        if freed:
            log.warning("redelivering jobs of dead workers: %s", ", ".join(freed))
        return freed

    async def _heartbeat(self) -> None:
        await self._redis.set(self._worker_key, b"1", px=self._ttl_ms)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            try:
                await self._heartbeat()
                await self.reap()
            except Exception:  # a Redis hiccup must not kill the heartbeat for good
                log.exception("worker lease loop failed; retrying")
