"""Dead-letter replays across a pipeline's moves and deletion: events replayed to a pipeline follow it to
another stream (its replay stream belongs to it, not to the stream it left); an event letter of a deleted
pipeline is refused and kept until the pipeline is saved again, while its action letters still replay.

Real Redis streams, dead-letter queue, pipeline store and arq `actions` queue.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.arq.task_queue import ArqTaskQueue, queue_key
from domain.services.dead_letter_replay import DeadLetterService
from domain.services.inference import ACTIONS_QUEUE, InferenceService
from domain.types.errors import Conflict
from domain.types.pipelines import PipelineConfig
from tests.support.inference_stack import Stack, actions_queue, drain, pipeline, published_stack

pytestmark = pytest.mark.integration
UID_ONLY = json.dumps({"uid": "u1", "f0": 1, "f1": 2, "f2": 3})  # no `entity_id`: a dead letter for "p"


@dataclass
class Rig:
    stack: Stack
    queue: ArqTaskQueue
    replays: DeadLetterService

    def service(self, config: PipelineConfig) -> InferenceService:
        return self.stack.service(config, "c1", queue=self.queue)

    async def replay_stream_exists(self, pipeline: str) -> bool:
        return bool(await self.stack.redis.exists(f"{self.stack.namespace}replay:pipeline:{pipeline}"))


@pytest.fixture
async def rig(redis_url: str, redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> AsyncIterator[Rig]:
    stack = await published_stack(redis_client, namespace, tmp_path)
    async with actions_queue(redis_url, namespace) as queue:
        yield Rig(stack, queue, DeadLetterService(stack.dead_letters, queue))


async def parked_letter(rig: Rig, config: PipelineConfig) -> tuple[str, str]:
    """The saved pipeline reads an event it cannot key: (its dead letter's id, the event id)."""
    await rig.stack.pipelines.save(config)
    [event_id] = await rig.stack.producer.append(config.stream, [UID_ONLY])
    await drain(rig.service(config))
    [letter] = await rig.stack.dead_letters.list(config.name, "event")
    return letter.id, event_id


async def test_a_replay_not_yet_read_follows_its_pipeline_to_another_stream(rig: Rig) -> None:
    letter_id, event_id = await parked_letter(rig, pipeline("p", stream="first"))
    await rig.replays.replay(letter_id)  # the letter is gone: the replay stream holds the only copy

    moved = pipeline("p", stream="second", entity_key="uid")  # moved, and fixed
    await rig.stack.pipelines.save(moved)
    assert await rig.replay_stream_exists("p")
    await drain(rig.service(moved))

    assert [r["event_id"] for r in await rig.stack.signal_rows("p")] == [event_id]
    assert await rig.stack.dead_letters.list("p") == []


async def test_an_event_letter_of_a_deleted_pipeline_is_refused_and_kept_until_it_is_saved_again(rig: Rig) -> None:
    letter_id, event_id = await parked_letter(rig, pipeline("p"))
    await rig.stack.pipelines.delete("p")

    with pytest.raises(Conflict) as refused:  # a 409
        await rig.replays.replay(letter_id)
    assert refused.value.details == {"id": letter_id, "pipeline": "p"}
    assert "PUT the pipeline again, or DELETE the letter" in refused.value.message
    done = await rig.replays.replay_all("p")
    assert (done.replayed, done.kept) == (0, {"p": 1}) and "'p'" in done.warnings()[0]
    assert [d.id for d in await rig.stack.dead_letters.list("p")] == [letter_id]
    assert not await rig.replay_stream_exists("p")  # no stream left that nobody reads

    fixed = pipeline("p", entity_key="uid")
    await rig.stack.pipelines.save(fixed)
    await rig.replays.replay(letter_id)
    await drain(rig.service(fixed))  # its new group also reads the stream from its start: the event again
    assert {r["event_id"] for r in await rig.stack.signal_rows("p")} == {event_id}
    assert await rig.stack.dead_letters.list("p") == []


async def test_an_action_letter_of_a_deleted_pipeline_still_replays(rig: Rig) -> None:
    """Its payload holds the action: the actions worker needs nothing of the deleted pipeline."""
    await rig.stack.pipelines.save(pipeline("p"))
    await rig.stack.pipelines.delete("p")
    action = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/hook"}
    await rig.stack.dead_letters.park("action", "p", "p:1-0:hook", "webhook answered 400", 3,
                                      {"pipeline": "p", "key": "p:1-0:hook", "action": action, "body": {}})
    done = await rig.replays.replay_all("p")
    assert (done.replayed, done.kept) == (1, {})
    queued = await rig.stack.redis.zrange(queue_key(rig.stack.namespace, ACTIONS_QUEUE), 0, -1)
    assert [q.decode().removeprefix(rig.stack.namespace) for q in queued] == ["p:1-0:hook:replay:dl-1"]


async def park_actions(rig: Rig, pipeline_name: str, count: int, first: int = 0) -> None:
    action = {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/hook"}
    for n in range(first, first + count):
        key = f"{pipeline_name}:{n}-0:hook"
        await rig.stack.dead_letters.park("action", pipeline_name, key, "webhook answered 400", 3,
                                          {"pipeline": pipeline_name, "key": key, "action": action, "body": {}})


async def test_a_bulk_replay_takes_the_letters_it_finds_past_the_kept_ones_and_says_when_more_remain(
        rig: Rig) -> None:
    for n in range(3):  # the oldest: event letters of a deleted pipeline
        await rig.stack.dead_letters.park("event", "gone", f"gone:{n}-0", "malformed", 1,
                                          {"stream": "s", "id": f"{n}-0", "raw": "{}"})
    await rig.stack.dead_letters.refuse_replays("gone")
    await park_actions(rig, "p", 10)

    short = await rig.replays.replay_all(limit=7)  # the 3 kept, then 4 replayed: 6 left
    assert (short.replayed, short.kept, short.more) == (4, {"gone": 3}, True)
    assert "call it again" in short.warnings()[-1]
    rest = await rig.replays.replay_all()
    assert (rest.replayed, rest.kept, rest.more) == (6, {"gone": 3}, False)
    assert {d.pipeline for d in await rig.stack.dead_letters.list(limit=100)} == {"gone"}


async def test_a_letter_parked_again_while_a_bulk_replay_runs_waits_for_the_next_one(rig: Rig) -> None:
    """Each replayed action fails at once and is parked anew (a new letter id): one call replays each once."""
    await park_actions(rig, "p", 5)
    enqueue, parked_again = rig.queue.enqueue, itertools.count(100)

    async def failing_again(name: str, payload: dict[str, object], **options: object) -> object:
        await park_actions(rig, "p", 1, first=next(parked_again))
        return await enqueue(name, payload, **options)  # type: ignore[arg-type]

    rig.queue.enqueue = failing_again  # type: ignore[method-assign]
    done = await rig.replays.replay_all()
    assert (done.replayed, done.more) == (5, False)
    assert len(await rig.stack.dead_letters.list(limit=100)) == 5  # the new letters, untouched
