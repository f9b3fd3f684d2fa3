"""Actions through the real `actions` queue (arq on Redis) to a local webhook: retries, DLQ, replay."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import redis.asyncio as aioredis
from arq.connections import ArqRedis

from adapters.arq.task_queue import ArqTaskQueue
from adapters.arq.worker import ArqWorker, QueueSettings, TaskHandler
from adapters.redis_streams.actions import RedisActionLedger
from adapters.secrets.providers import EnvSecretProvider
from adapters.webhook.executor import WebhookExecutor
from domain.services.actions import ActionRunner
from domain.services.dead_letter_replay import DeadLetterService
from domain.services.inference import ACTION_TASK, ACTIONS_QUEUE
from tests.support.inference_stack import Stack, pipeline, published_stack
from tests.support.webhook_sink import WebhookSink

pytestmark = pytest.mark.integration
SECRET = "s3cret-for-tests"


@dataclass
class Rig:
    stack: Stack
    sink: WebhookSink
    queue: ArqTaskQueue
    replays: DeadLetterService


@pytest.fixture
async def rig(redis_url: str, redis_client: aioredis.Redis, namespace: str, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    monkeypatch.setenv("MLPLANE_SECRET_HOOK_KEY", SECRET)
    stack = await published_stack(redis_client, namespace, tmp_path)
    sink = WebhookSink(SECRET)
    await sink.start()
    webhooks = WebhookExecutor(EnvSecretProvider(), default_timeout_s=2.0)
    runner = ActionRunner({"webhook": webhooks}, RedisActionLedger(redis_client, namespace), stack.dead_letters)

    async def give_up(payload: dict[str, object], message: str) -> None:
        await runner.give_up(payload, message, 8)

    settings = QueueSettings(ACTIONS_QUEUE, timeout_s=10, max_tries=8, concurrency=20, backoff_base_s=0.05)
    worker = ArqWorker(redis_url, namespace, settings, [TaskHandler(ACTION_TASK, runner.run, give_up)], "w1")
    await worker.start()
    pool = ArqRedis.from_url(redis_url)
    queue = ArqTaskQueue(pool, namespace)
    try:
        yield Rig(stack, sink, queue, DeadLetterService(stack.dead_letters, queue))
    finally:
        await worker.stop(grace_s=1)
        await webhooks.close()
        await sink.stop()
        await pool.aclose()


async def signal_some_events(rig: Rig, n: int = 60) -> set[str]:
    """Runs the pipeline over n events; returns the action keys its rule fired."""
    hook = {"name": "hook", "type": "webhook", "url": rig.sink.url, "secret": "hook-key", "timeout_s": 2}
    rule = {"name": "high", "when": [{"on": "score", "op": ">", "value": 0.5}], "actions": ["hook"]}
    config = await rig.stack.pipelines.save(pipeline(rules=[rule], actions=[hook]))
    rng = np.random.default_rng(4)
    await rig.stack.producer.append(config.stream, [json.dumps({"entity_id": f"e{i}", "f0": a, "f1": b, "f2": 0.0})
                                                    for i, (a, b) in enumerate(rng.normal(size=(n, 2)).tolist())])
    service = rig.stack.service(config, "c1", queue=rig.queue)
    while await service.process(await service.collect()):
        pass
    rows = await rig.stack.signal_rows("p1")
    return {f"p1:{r['event_id']}:hook" for r in rows if r["score"] > 0.5}


async def wait_for(condition: object, timeout: float = 40.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_a_sink_failing_half_the_time_then_recovering_gets_every_action_exactly_once(rig: Rig) -> None:
    rig.sink.mode = "flaky"
    keys = await signal_some_events(rig)
    assert len(keys) > 10
    await wait_for(lambda: set(rig.sink.delivered) == keys)
    await asyncio.sleep(0.3)  # a stray duplicate would land within this
    assert set(rig.sink.delivered.values()) == {1}
    assert max(rig.sink.attempts.values()) == 3 and rig.sink.bad_signatures == 0
    assert await rig.stack.dead_letters.list("p1") == []


async def test_a_sink_answering_400_dead_letters_at_once_and_replay_after_the_fix_succeeds(rig: Rig) -> None:
    rig.sink.mode = "bad"
    keys = await signal_some_events(rig)

    async def parked() -> int:
        return len(await rig.stack.dead_letters.list("p1", "action"))

    async with asyncio.timeout(40):
        while await parked() < len(keys):
            await asyncio.sleep(0.05)
    letters = await rig.stack.dead_letters.list("p1", "action")
    assert {d.key for d in letters} == keys and all("400" in d.cause for d in letters)
    assert set(rig.sink.attempts.values()) == {1}  # permanent: never retried
    rig.sink.mode = "ok"
    assert await rig.replays.replay_many("p1", "action") == len(keys)
    await wait_for(lambda: set(rig.sink.delivered) == keys)
    assert set(rig.sink.delivered.values()) == {1}
    assert await rig.stack.dead_letters.list("p1") == []
