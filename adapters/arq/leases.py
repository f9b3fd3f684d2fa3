"""Worker leases: redeliver a job within seconds when the worker running it dies.

arq only re-runs a job when its in-progress key expires, and that key lives for the longest
task timeout (hours for training). Each worker here keeps a short heartbeat key alive and
records which jobs it runs; any worker that finds a running job whose owner's heartbeat is
gone deletes the job's in-progress key, so arq's next poll starts it again. The lease length
(MLPLANE_WORKER_LEASE_SECONDS) trades how soon a dead worker's jobs return against how long a stall
(Redis, the event loop) a live worker survives without its jobs being run twice.

Every worker reaps, so several may find the same dead worker's job at once: freeing it is one atomic
step that only the first of them takes, so the job is redelivered and logged once. A Redis outage is
logged once per process when it starts and once when it ends, not at every renewal of every lease.
An outage (or a stall) longer than the lease lets every heartbeat run out, the live workers' too: a loop
back from one reaps again only one lease after it renewed, when the live workers have renewed as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from arq.constants import in_progress_key_prefix
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.types.redaction import redact_urls

log = logging.getLogger(__name__)
DEFAULT_TTL_S = 15.0
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, OSError)  # refused, reset, timed out: Redis is away
# KEYS: running-jobs hash, the job's arq in-progress key, its owner's heartbeat key; ARGV: job id, owner.
# The owner is checked again here: since the reaper read the hash, another reaper may have freed the job
# and a worker taken it again under its own id.
_FREE = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
"""


class _Outage:
    """The lease loops of a process share one Redis: its outage is one warning and one info, not one per
    worker. Started by the first loop that fails, over when none of them fails any more."""

    def __init__(self) -> None:
        self._failing: set[str] = set()

    def failed(self, worker_id: str, exc: Exception) -> None:
        if not self._failing:
            log.warning("worker leases cannot be renewed: Redis is unreachable (%s: %s); retrying quietly "
                        "until it answers", type(exc).__name__, redact_urls(str(exc)))
        self._failing.add(worker_id)

    def renewed(self, worker_id: str) -> None:
        if worker_id in self._failing:
            self.forget(worker_id)
            if not self._failing:
                log.info("worker leases renewed again: Redis answers")

    def forget(self, worker_id: str) -> None:
        self._failing.discard(worker_id)


_OUTAGE = _Outage()


class WorkerLeases:
    def __init__(self, redis: Redis, namespace: str, worker_id: str, ttl_seconds: float = DEFAULT_TTL_S) -> None:
        self._redis = redis
        self._worker_key = f"{namespace}worker:{worker_id}"
        self._running_key = f"{namespace}running-jobs"
        self._namespace = namespace
        self._worker_id = worker_id
        self._ttl_ms = int(ttl_seconds * 1000)
        self._task: asyncio.Task[None] | None = None
        self._failing = False  # the loop fails for a reason other than Redis being away
        self._free = redis.register_script(_FREE)

    async def start(self) -> None:
        await self._heartbeat()
        self._task = asyncio.create_task(self._loop(), name=f"leases:{self._worker_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        _OUTAGE.forget(self._worker_id)
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
            if await self._redis.exists(owner_key):
                continue
            keys = [self._running_key, in_progress_key_prefix + job_id.decode(), owner_key]
            if await self._free(keys=keys, args=[job_id, owner]):  # 0: another reaper freed it first
                freed.append(job_id.decode())
        if freed:
            log.warning("redelivering jobs of dead workers: %s", ", ".join(freed))
        return freed

    async def _heartbeat(self) -> None:
        await self._redis.set(self._worker_key, b"1", px=self._ttl_ms)

    async def _loop(self) -> None:
        interval, clock = self._ttl_ms / 3000, asyncio.get_running_loop().time
        renewed_at, reap_from = clock(), 0.0
        while True:
            await asyncio.sleep(interval)
            if not await self._step(self._heartbeat):
                continue
            # Renewed after a failure or a stall (a renewal missed): the other workers' heartbeats may have
            # run out for the same reason, and they renew within one lease now that they can. Reaping
            # before then would free (and run twice) the jobs of live workers, so this waits one lease.
            if clock() - renewed_at > 2 * interval:
                reap_from = clock() + self._ttl_ms / 1000
            renewed_at = clock()
            _OUTAGE.renewed(self._worker_id)
            if clock() >= reap_from and not await self._step(self.reap):
                continue
            if self._failing:
                log.info("worker lease loop works again")
            self._failing = False

    async def _step(self, step: Callable[[], Awaitable[object]]) -> bool:
        """Run one step of the loop; a failure is logged once per run of failures, and False."""
        try:
            await step()
        except REDIS_AWAY as exc:  # a Redis outage must not kill the heartbeat for good
            _OUTAGE.failed(self._worker_id, exc)
            return False
        except Exception:
            if not self._failing:  # a traceback per renewal said nothing new
                log.exception("worker lease loop failed; retrying quietly until it works again")
            self._failing = True
            return False
        return True
