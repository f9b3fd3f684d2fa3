"""InferenceService.collect: a batch is what the stream holds (up to batch_size), never more waiting."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from domain.types.streams import StreamEntry
from tests.support.inference_world import InferenceWorld, inference_world, pipeline_config

pytestmark = pytest.mark.unit


async def produce(world: InferenceWorld, count: int) -> list[str]:
    return await world.streams.append("events", [json.dumps({"entity_id": "a", "x": i}) for i in range(count)])


async def test_a_batch_closes_as_soon_as_the_stream_is_drained() -> None:
    world = await inference_world()
    ids = await produce(world, 3)
    service = world.service(pipeline_config(batch_size=100, max_wait_ms=50))
    started = world.clock.now()
    batch = await service.collect()
    assert [e.id for e in batch] == ids
    assert world.clock.now() == started  # no lingering sleep for events that are not coming


async def test_a_batch_stops_at_batch_size_and_the_rest_waits_for_the_next() -> None:
    world = await inference_world()
    ids = await produce(world, 10)
    service = world.service(pipeline_config(batch_size=4))
    assert [e.id for e in await service.collect()] == ids[:4]
    assert [e.id for e in await service.collect()] == ids[4:8]


async def test_an_empty_stream_waits_for_the_first_event_no_longer_than_max_wait() -> None:
    world = await inference_world()
    service = world.service(pipeline_config(batch_size=100, max_wait_ms=50))
    waits: list[int] = []
    read = service._source.read

    async def recording_read(count: int, block_ms: int) -> Sequence[StreamEntry]:
        waits.append(block_ms)
        return await read(count, block_ms)

    service._source.read = recording_read  # type: ignore[method-assign]
    assert await service.collect() == []
    ids = await produce(world, 2)
    assert [e.id for e in await service.collect()] == ids
    assert waits == [50, 50]  # one read per batch, blocking up to max_wait_ms for the first event
