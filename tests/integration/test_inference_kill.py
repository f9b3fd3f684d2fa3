"""kill -9 of a consumer process mid-stream: every event still gets exactly one signal (after dedupe by
event id) and every action key reaches the webhook exactly once. Real processes, real Redis."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis

from domain.services.pipelines import group_name
from tests.support.daemon import DaemonProcess
from tests.support.inference_stack import pipeline, published_stack
from tests.support.webhook_sink import WebhookSink

pytestmark = pytest.mark.integration
EVENTS = 3000
SECRET = "kill-test-secret"
CLAIM_IDLE_S = 1.5


def env_for(redis_url: str, namespace: str) -> dict[str, str]:
    return {"MLPLANE_REDIS_URL": redis_url, "MLPLANE_ENV": namespace.split(":")[1], "MLPLANE_SEED_DEMO": "false",
            "MLPLANE_INFERENCE_CLAIM_IDLE_MS": str(int(CLAIM_IDLE_S * 1000)), "MLPLANE_LOG_LEVEL": "warning",
            "MLPLANE_SECRET_HOOK_KEY": SECRET, "MLPLANE_ACTIONS_BACKOFF_BASE_S": "0.1"}


async def until(check: object, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        while not await check():  # type: ignore[operator]
            await asyncio.sleep(0.1)


async def test_a_consumer_killed_mid_stream_loses_nothing_and_repeats_no_side_effect(
        redis_url: str, redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> None:
    stack = await published_stack(redis_client, namespace, tmp_path)
    sink = WebhookSink(SECRET)
    await sink.start()
    hook = {"name": "hook", "type": "webhook", "url": sink.url, "secret": "hook-key", "timeout_s": 2}
    rule = {"name": "high", "when": [{"on": "score", "op": ">", "value": 0.5}], "actions": ["hook"]}
    config = await stack.pipelines.save(pipeline(rules=[rule], actions=[hook], batch_size=200, max_wait_ms=20))
    env = env_for(redis_url, namespace)
    first = DaemonProcess(tmp_path, env, ("inference", "p1"))
    worker = DaemonProcess(tmp_path, env, ("worker", "--queue", "actions"))
    second = DaemonProcess(tmp_path, env, ("inference", "p1"))
    try:
        await asyncio.gather(asyncio.to_thread(first.start), asyncio.to_thread(worker.start))
        rng = np.random.default_rng(9)
        ids = await stack.producer.append(config.stream, [
            json.dumps({"entity_id": f"e{i % 50}", "f0": a, "f1": b, "f2": c})
            for i, (a, b, c) in enumerate(rng.normal(size=(EVENTS, 3)).tolist())])

        async def some_signals() -> bool:
            return len(await stack.signal_rows("p1")) >= 400

        await until(some_signals, 60)
        first.kill()
        pending_at_kill = (await stack.producer.backlog(config.stream, group_name("p1")))["pending"]
        # Started at once, the new consumer reads newer events of the same entities for CLAIM_IDLE_S
        # before it may claim what the dead one left: the windows must still hold what those pending
        # events saw, so their redelivered signals come out identical (checked below).
        await asyncio.to_thread(second.start)

        async def all_signalled() -> bool:
            return len({r["event_id"] for r in await stack.signal_rows("p1")}) == EVENTS

        await until(all_signalled, 90)
        rows = await stack.signal_rows("p1")
        by_event: dict[str, set[tuple[int, float]]] = {}
        for r in rows:
            by_event.setdefault(r["event_id"], set()).add((r["model_version"], r["score"]))
        assert set(by_event) == set(ids)
        assert all(len(v) == 1 for v in by_event.values())  # a redelivered event's signal is identical
        keys = {f"p1:{e}:hook" for e, v in by_event.items() if next(iter(v))[1] > 0.5}

        async def all_delivered() -> bool:
            return set(sink.delivered) == keys

        await until(all_delivered, 90)
        await asyncio.sleep(0.5)
        assert set(sink.delivered.values()) == {1}, "an action key ran twice"
        backlog = await stack.producer.backlog(config.stream, group_name("p1"))
        assert backlog == {"lag": 0, "pending": 0}, (backlog, pending_at_kill)
    finally:
        for process in (first, second, worker):
            process.kill()
        await sink.stop()
