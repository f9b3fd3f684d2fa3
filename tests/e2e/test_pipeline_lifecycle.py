"""A pipeline deleted and saved again on a real daemon: saved again with the same config before the
consumers' next config scan, it reads on (its kept consumer's group is recreated by the PUT); while it is
deleted, its event dead letters refuse replay with a 409 saying what to do, and a bulk replay skips them
and says so, keeping them for when it is saved again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis.asyncio as aioredis

from tests.support.daemon import DaemonProcess, poll_json, request_json, run_on_tests_redis

pytestmark = pytest.mark.e2e
ENV = f"pllifecycle-{uuid4().hex[:8]}"
poll = partial(poll_json, timeout=90.0)
FEATURES = [f"f{i}" for i in range(8)]


@pytest.fixture(scope="module")
def daemon(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """One daemon with the demo model, on the tests' Redis under its own namespace, so the tests can read
    a pipeline's signals stream (its keys are deleted after)."""
    yield from run_on_tests_redis(redis_url, Path(tmp_path_factory.mktemp("pipeline-lifecycle")), ENV,
                                  {"MLPLANE_DEMO_ROWS": "3000"})


def events(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"entity_id": f"e{i % 5}", **{f: float(i % 7) for f in FEATURES}} for i in range(start, start + n)]


async def signalled(redis_url: str, pipeline: str) -> set[str]:
    """The event ids the pipeline wrote signals for."""
    client = aioredis.from_url(redis_url)
    try:
        entries = await client.xrange(f"mlplane:{ENV}:signals:{pipeline}")
    finally:
        await client.aclose()
    return {json.loads(fields[b"data"])["event_id"] for _id, fields in entries}


async def post(http, daemon: DaemonProcess, stream: str, batch: list[dict[str, Any]]) -> list[str]:
    status, accepted = await request_json(http, "POST", f"{daemon.url}/v1/streams/{stream}/events", {"events": batch})
    assert status == 202
    return list(accepted["ids"])


async def test_a_pipeline_deleted_and_saved_again_at_once_reads_on(daemon: DaemonProcess, http,
                                                                   redis_url: str) -> None:
    await poll(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    url, config = f"{daemon.url}/v1/pipelines/again", {"stream": "again", "model": "demo-churn", "features": FEATURES}
    assert (await request_json(http, "PUT", url, config))[0] == 200
    await post(http, daemon, "again", events(10))
    await poll(http, url, lambda b: b["stats"]["events_processed"] >= 10)

    async with http.delete(url) as reply:
        assert reply.status == 204
    assert (await request_json(http, "PUT", url, config))[0] == 200  # within the runner's 2 s config scan
    later = set(await post(http, daemon, "again", events(10, start=10)))
    async with asyncio.timeout(30):  # a consumer idling on its dropped group would never get there
        while not later <= await signalled(redis_url, "again"):
            await asyncio.sleep(0.2)


async def test_event_letters_of_a_deleted_pipeline_are_refused_and_kept(daemon: DaemonProcess, http) -> None:
    await poll(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    url, config = f"{daemon.url}/v1/pipelines/gone", {"stream": "gone", "model": "demo-churn", "features": FEATURES}
    assert (await request_json(http, "PUT", url, config))[0] == 200
    await post(http, daemon, "gone", [{"f0": 1.0}])  # no entity_id: dead-lettered
    listed = await poll(http, f"{daemon.url}/v1/dlq?pipeline=gone", lambda b: len(b["items"]) == 1)
    letter = listed["items"][0]["id"]
    async with http.delete(url) as reply:
        assert reply.status == 204

    status, refused = await request_json(http, "POST", f"{daemon.url}/v1/dlq/{letter}/replay")
    assert status == 409, refused
    assert "'gone'" in refused["error"]["message"] and "PUT the pipeline again" in refused["error"]["message"]
    status, bulk = await request_json(http, "POST", f"{daemon.url}/v1/dlq/replay?pipeline=gone")
    assert status == 202 and (bulk["replayed"], bulk["skipped"]) == (0, 1), bulk
    assert "'gone'" in bulk["warnings"][0]
    status, kept = await request_json(http, "GET", f"{daemon.url}/v1/dlq?pipeline=gone")
    assert [d["id"] for d in kept["items"]] == [letter]

    assert (await request_json(http, "PUT", url, config))[0] == 200
    status, replayed = await request_json(http, "POST", f"{daemon.url}/v1/dlq/{letter}/replay")
    assert status == 202 and replayed["replayed"] == letter
