"""InferenceService.collect: a batch takes what the stream holds, never lingers on an empty stream."""

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


async def test_events_arriving_while_the_batch_is_read_join_it() -> None:
    world = await inference_world()
    service = world.service(pipeline_config(batch_size=100, max_wait_ms=50))
    source = service._source  # each read lets two more events arrive, three times
    arrivals = iter([2, 2, 2])
    read = source.read

    async def read_while_producing(count: int, block_ms: int) -> Sequence[StreamEntry]:
        if (more := next(arrivals, 0)):
            await produce(world, more)
        return await read(count, block_ms)

    source.read = read_while_producing  # type: ignore[method-assign]
    assert len(await service.collect()) == 6
