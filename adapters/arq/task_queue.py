"""ArqTaskQueue: the TaskQueue port on arq. Queue names and job ids are namespaced per environment.

arq keys a job by its id alone (`arq:job:{id}`, `arq:result:{id}`), whatever the queue: two
environments sharing one Redis would otherwise refuse each other's jobs as duplicates (a schedule's
fire-time id, or an action key of a pipeline both environments run), and one of them would
silently skip the work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from arq.connections import ArqRedis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from domain.types.errors import TransientError


def queue_key(namespace: str, queue: str) -> str:
    return f"{namespace}queue:{queue}"


def arq_job_id(namespace: str, job_id: str) -> str:
    return f"{namespace}{job_id}"


class ArqTaskQueue:
    def __init__(self, pool: ArqRedis, namespace: str) -> None:
        self._pool = pool
        self._namespace = namespace

    async def enqueue(
        self,
        name: str,
        payload: Mapping[str, Any],
        *,
        job_id: str,
        queue: str,
        defer_seconds: float = 0.0,
    ) -> bool:
        try:
            job = await self._pool.enqueue_job(
                name,
                dict(payload),
                _job_id=arq_job_id(self._namespace, job_id),
                _queue_name=queue_key(self._namespace, queue),
                _defer_by=defer_seconds or None,
            )
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            raise TransientError(f"task queue unreachable: {exc}") from exc
        return job is not None  # arq returns None when the job id is already queued or kept
