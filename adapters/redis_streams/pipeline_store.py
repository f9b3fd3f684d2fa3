"""RedisPipelineStore: pipeline configurations as JSON values in one hash.

Redis rather than the artifact store: consumers on every machine read configs often, the API
lists them on every GET, and a config is small operational state like the DLQ beside it (the
embedded server's append-only file keeps it across restarts). Models stay in the artifact store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from redis.asyncio import Redis

from adapters.redis_streams.keys import Keys, text, transient_errors
from domain.types.errors import InvalidSpec, NotFound
from domain.types.pipelines import PipelineConfig

log = logging.getLogger(__name__)


class PipelineNotFound(NotFound):
    code = "pipeline_not_found"


class RedisPipelineStore:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis, self._key = redis, Keys(namespace).pipelines()

    async def put(self, config: PipelineConfig) -> None:
        with transient_errors("pipeline put"):
            await self._redis.hset(self._key, config.name, json.dumps(config.to_dict()))  # type: ignore[misc]

    async def get(self, name: str) -> PipelineConfig:
        with transient_errors("pipeline get"):
            raw = await self._redis.hget(self._key, name)  # type: ignore[misc]
        if raw is None:
            raise PipelineNotFound(f"no pipeline named {name!r}", {"pipeline": name})
        return PipelineConfig.from_dict(json.loads(raw))

    async def list(self) -> Sequence[PipelineConfig]:
        """Every pipeline that reads back; one that no longer passes validation (saved by an older release,
        or edited in Redis by hand) is logged and left out, so it cannot stop the others from running."""
        with transient_errors("pipeline list"):
            raw = await self._redis.hgetall(self._key)  # type: ignore[misc]
        configs = []
        for name, value in raw.items():
            try:
                configs.append(PipelineConfig.from_dict(json.loads(value)))
            except (InvalidSpec, ValueError) as exc:
                log.error("pipeline %s is left out: its stored config no longer reads (%s); PUT it again",
                          text(name), exc)
        return sorted(configs, key=lambda c: c.name)

    async def delete(self, name: str) -> None:
        with transient_errors("pipeline delete"):
            await self._redis.hdel(self._key, name)  # type: ignore[misc]
