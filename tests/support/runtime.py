"""An in-process mlplane runtime with training and ingestion workers, for integration tests;
its Redis keys are removed afterwards (each test gets its own MLPLANE_ENV namespace)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from entrypoints.container import Container
from entrypoints.runtime import build_container, open_runtime
from entrypoints.settings import Settings
from entrypoints.workers import build_worker


@contextlib.asynccontextmanager
async def running_container(settings: Settings, queues: tuple[str, ...] = ("training", "ingestion", "commits"),
                            ) -> AsyncIterator[Container]:
    container = build_container(settings)
    async with open_runtime(container):
        workers = [build_worker(container, q) for q in queues]
        for worker in workers:
            await worker.start()
        yield container
        for worker in workers:
            await worker.stop(grace_s=2)
    assert settings.redis_url is not None
    client = aioredis.Redis.from_url(settings.redis_url)
    keys = [k async for k in client.scan_iter(match=f"{settings.namespace}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
