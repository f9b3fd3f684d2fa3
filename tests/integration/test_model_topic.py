"""`model:NAME`, the topic `/v1/events` accepts for a model: versions published and deleted, alias moves.

Real Redis event log and filesystem artifact store; read back with `subscribe`, as `/v1/events` reads
a topic (backlog first, then live events).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
import redis.asyncio as aioredis

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.redis import RedisEventLog
from adapters.system.clock import SystemClock
from domain.services.aliases import AliasConflict, AliasService
from domain.services.registry import ModelRegistry
from domain.services.retention import RetentionService
from domain.types.events import Event
from domain.types.lifecycle import RetentionPolicy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
MODEL = "churn"


class Services:
    def __init__(self, root: Path, log: RedisEventLog) -> None:
        clock, store = SystemClock(), FilesystemArtifactStore(root)
        self.registry = ModelRegistry(store, clock, log)
        self.aliases = AliasService(store, self.registry, clock)
        self.retention = RetentionService(store, self.registry, self.aliases, clock, RetentionPolicy(),
                                          timedelta(0))

    async def train(self, job_id: str) -> int:
        version = await self.registry.claim_version(MODEL, job_id)
        await self.registry.publish(MODEL, version, {"model.bin": job_id.encode()}, job_id=job_id, algorithm="a",
                                    spec={}, metrics={"accuracy": 0.9}, data={}, library_versions={},
                                    created_at="2026-01-01T00:00:00Z")
        return version


@pytest_asyncio.fixture
async def log(redis_client: aioredis.Redis, namespace: str) -> AsyncIterator[RedisEventLog]:
    event_log = RedisEventLog(redis_client, namespace)
    yield event_log
    await event_log.close()


async def first(log: RedisEventLog, topic: str, count: int) -> list[Event]:
    received: list[Event] = []
    async with aclosing(log.subscribe(topic)) as events:
        async for event in events:
            received.append(event)
            if len(received) == count:
                return received
    return received


async def test_versions_and_alias_moves_are_published_on_the_model_topic(tmp_path: Path, log: RedisEventLog) -> None:
    services = Services(tmp_path, log)
    await services.train("job-1")
    await services.train("job-2")
    await services.aliases.move(MODEL, "production", 1, reason="first", by="ana")
    with pytest.raises(AliasConflict):  # refused: nothing moved, nothing announced
        await services.aliases.move(MODEL, "production", 2, reason="", by="bo", expected_version=2)
    await services.registry.claim_version(MODEL, "job-crashed")  # never complete: swept, never announced
    await services.retention.remove_orphans(MODEL)

    reading = asyncio.create_task(first(log, f"model:{MODEL}", 5))
    await services.aliases.move(MODEL, "production", 2, reason="better", by="ana", expected_version=1)
    await services.retention.delete_version(MODEL, 1)  # live, after the backlog
    events = await asyncio.wait_for(reading, 20)

    assert [(e.type, e.data["version"] if "version" in e.data else e.data["to_version"]) for e in events] == [
        ("version_published", 1), ("version_published", 2), ("alias_moved", 1), ("alias_moved", 2),
        ("version_deleted", 1)]
    assert all(e.topic == f"model:{MODEL}" and e.data["model"] == MODEL for e in events)
    assert events[0].data["job_id"] == "job-1" and events[0].data["metrics"] == {"accuracy": 0.9}
    move = events[3].data
    assert (move["alias"], move["from_version"], move["to_version"], move["seq"], move["by"], move["reason"]) == (
        "production", 1, 2, 2, "ana", "better")
    assert events[4].data["job_id"] == "job-1"


async def test_an_unreachable_event_log_does_not_undo_or_fail_the_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as bound:  # bound, never listening: every connection is refused
        bound.bind(("127.0.0.1", 0))
        client = aioredis.Redis(host="127.0.0.1", port=bound.getsockname()[1], socket_connect_timeout=1)
        down = RedisEventLog(client, "mlplane:down:")
        services = Services(tmp_path, down)
        with caplog.at_level(logging.WARNING):
            assert await services.train("job-1") == 1
            await services.aliases.move(MODEL, "production", 1, reason="", by="ana")
        await client.aclose()
    assert await services.aliases.current(MODEL, "production") == 1
    assert [m.version for m in await services.registry.list_versions(MODEL)] == [1]
    assert sum("could not be announced on model:churn" in r.getMessage() for r in caplog.records) == 2
