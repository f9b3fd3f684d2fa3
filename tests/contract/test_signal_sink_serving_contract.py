"""SignalSink contract, serving records (memory, Redis): each consumer states what it serves, and the
stats name the highest version a consumer serves; `paused` says why nothing is served only while no
consumer serves, whichever wrote last; backpressure pause marks keep their meaning."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.redis_streams.signals import RedisSignalSink
from tests.fakes.inference import InMemorySignalSink

pytestmark = pytest.mark.contract
WHY = "m@production points to v3, whose features ['f0'] do not match the pipeline's ['f0', 'f1']"


@pytest.fixture(params=["memory", "redis"])
def sink(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return InMemorySignalSink()
    return RedisSignalSink(request.getfixturevalue("redis_client"), request.getfixturevalue("namespace"))


async def served(sink: Any, pipeline: str = "p") -> tuple[Any, Any]:
    stats = await sink.stats(pipeline)
    return stats["model_version"], stats["paused"]


async def test_one_consumer_serving_makes_the_pipeline_served_whoever_wrote_last(sink: Any) -> None:
    await sink.record_serving("p", "a", 2, None, 30.0)
    await sink.record_serving("p", "b", None, WHY, 30.0)
    assert await served(sink) == (2, None)
    await sink.record_serving("p", "a", 2, None, 30.0)  # renewed: the same
    assert await served(sink) == (2, None)
    await sink.forget_serving("p", "a")  # the serving consumer stopped
    assert await served(sink) == (None, WHY)
    await sink.forget_serving("p", "b")
    assert await served(sink) == (None, None)
    assert await served(sink, "other") == (None, None)  # pipelines apart


async def test_the_highest_version_a_consumer_serves_is_shown(sink: Any) -> None:
    await sink.record_serving("p", "a", 1, None, 30.0)
    await sink.record_serving("p", "b", 2, None, 30.0)
    await sink.record_serving("p", "c", 1, None, 30.0)
    assert await served(sink) == (2, None)
    await sink.record_serving("p", "b", 1, None, 30.0)  # a rollback, taken by every consumer
    assert await served(sink) == (1, None)


async def test_a_backpressure_pause_shows_while_consumers_serve(sink: Any) -> None:
    await sink.record_serving("p", "a", 2, None, 30.0)
    await sink.mark_paused("p", "gate", "signals recorder is 21 entries behind (limit 20)", 10.0)
    assert await served(sink) == (2, "signals recorder is 21 entries behind (limit 20)")
    await sink.mark_paused("p", "gate", None, 10.0)
    assert await served(sink) == (2, None)


async def test_without_serving_records_the_version_of_the_recent_batches_is_shown(sink: Any) -> None:
    await sink.record_batch("p", 3, [1.0, 2.0, 3.0], 4)
    assert await served(sink) == (4, None)
    await sink.record_serving("p", "a", None, WHY, 30.0)  # a consumer that states it: its record rules
    assert await served(sink) == (None, WHY)
