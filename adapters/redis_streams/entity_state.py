"""RedisEntityStateStore: rule state per entity, one JSON value per entity in a pipeline's hash."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from adapters.redis_streams.keys import Keys, transient_errors
from domain.types.streams import EntityState


class RedisEntityStateStore:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis, self._keys = redis, Keys(namespace)

    async def get_many(self, pipeline: str, entities: Sequence[str]) -> dict[str, EntityState]:
        if not entities:
            return {}
        with transient_errors("entity state read"):
            raw = await self._redis.hmget(self._keys.entity_state(pipeline), list(entities))  # type: ignore[misc]
        return {e: _decode(r) for e, r in zip(entities, raw, strict=True)}

    async def put_many(self, pipeline: str, states: Mapping[str, EntityState]) -> None:
        if not states:
            return
        mapping = {e: json.dumps({"score": s.score, "label": s.label, "fired_at": dict(s.fired_at)})
                   for e, s in states.items()}
        with transient_errors("entity state write"):
            await self._redis.hset(self._keys.entity_state(pipeline), mapping=mapping)  # type: ignore[misc]


def _decode(raw: bytes | str | None) -> EntityState:
    if raw is None:
        return EntityState()
    doc = json.loads(raw)
    return EntityState(doc.get("score"), doc.get("label"), doc.get("fired_at") or {})
