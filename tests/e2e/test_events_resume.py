"""`GET /v1/events` against `mlplane up` as a subprocess: `?after=` resumes one topic, `TOPIC@ID,...`
resumes several (each from its own id), a plain id with several topics is a 422, and
`ingestion:ID` carries the ingestion's events (those of its job topic)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import aiohttp
import pytest
import redis.asyncio as aioredis

from adapters.redis.event_log import RedisEventLog
from tests.support.daemon import run_on_tests_redis

pytestmark = pytest.mark.e2e
ENV = f"evresume-{uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def daemon(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One daemon for the module, on the tests' Redis under its own namespace (deleted after)."""
    env = {"MLPLANE_SEED_DEMO": "false", "MLPLANE_FIT_PROCESSES": "0", "MLPLANE_INGESTION_PROCESSES": "0"}
    for process in run_on_tests_redis(redis_url, Path(tmp_path_factory.mktemp("events")), ENV, env):
        yield process.url


@pytest.fixture
async def log(redis_url: str) -> AsyncIterator[RedisEventLog]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield RedisEventLog(client, f"mlplane:{ENV}:")
    finally:
        await client.aclose()


async def publish(log: RedisEventLog, topic: str, n: int) -> list[str]:
    return [(await log.append(topic, "progress", {"n": i}, datetime.now(UTC))).id for i in range(n)]


async def received(url: str, query: str, count: int) -> list[tuple[str, int]]:
    """(topic, n) of the first `count` events the socket sends, then checks nothing else follows."""
    ws_url = url.replace("http://", "ws://") + "/v1/events?" + query
    async with aiohttp.ClientSession() as http, http.ws_connect(ws_url) as socket, asyncio.timeout(20):
        events = [await socket.receive_json() for _ in range(count)]
        with pytest.raises(TimeoutError):
            await socket.receive_json(timeout=0.5)
    return [(e["topic"], e["data"]["n"]) for e in events]


async def test_after_resumes_one_topic_after_the_given_id(daemon: str, log: RedisEventLog) -> None:
    ids = await publish(log, "job:j1", 5)
    assert await received(daemon, f"topics=job:j1&after={ids[2]}", 2) == [("job:j1", 3), ("job:j1", 4)]


async def test_several_topics_resume_each_after_its_own_id(daemon: str, log: RedisEventLog) -> None:
    jobs, stats, other = await publish(log, "job:j2", 4), await publish(log, "pipeline:p", 3), "job:j3"
    await publish(log, other, 2)
    query = f"topics=job:j2,pipeline:p,{other}&after=job:j2@{jobs[1]},pipeline:p@{stats[2]}"
    events = await received(daemon, query, 4)
    assert sorted(events) == [("job:j2", 2), ("job:j2", 3), ("job:j3", 0), ("job:j3", 1)]


async def test_an_after_that_cannot_apply_to_the_topics_is_refused(daemon: str, log: RedisEventLog) -> None:
    [event_id] = await publish(log, "job:j4", 1)
    async with aiohttp.ClientSession() as http:
        for after in (event_id, f"job:other@{event_id}", f"job:j4@{event_id},job:j4@{event_id}", "job:j4@x"):
            async with http.get(f"{daemon}/v1/events", params={"topics": "job:j4,pipeline:p", "after": after}) as reply:
                assert reply.status == 422, after
                assert (await reply.json())["error"]["details"]["field"] == "after"


async def test_an_ingestion_topic_carries_its_job_events(daemon: str, log: RedisEventLog) -> None:
    ids = await publish(log, "job:ing_1", 3)
    assert await received(daemon, "topics=ingestion:ing_1", 3) == [("job:ing_1", n) for n in range(3)]
    assert await received(daemon, f"topics=ingestion:ing_1&after=ingestion:ing_1@{ids[0]}", 2) == [
        ("job:ing_1", 1), ("job:ing_1", 2)]
