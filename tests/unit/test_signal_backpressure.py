"""Backpressure over fakes: a pipeline takes no new input while its signals recorder lags past the
bound, keeps claiming what was already read, resumes when the recorder catches up, and says so."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence

import pytest

from domain.services.inference import InferenceService
from domain.services.pipelines import PipelineService
from domain.services.signal_backpressure import SignalBackpressure
from domain.types.streams import Signal, StreamEntry
from tests.fakes.clock import FakeClock
from tests.fakes.inference import InMemoryPipelineStore, InMemorySignalSink
from tests.support.inference_world import InferenceWorld, inference_world, pipeline_config

pytestmark = pytest.mark.unit
EVENTS = "events"


async def produce(world: InferenceWorld, count: int) -> list[str]:
    return await world.streams.append(EVENTS, [json.dumps({"entity_id": f"e{i % 4}", "x": 0.1}) for i in range(count)])


def old_signals(count: int) -> list[Signal]:
    return [Signal(f"1-{i}", "e0", 1, 0.1, 0, {"x_last": 0.1}, 1.0) for i in range(count)]


class YieldingClock(FakeClock):
    """Fake time that also lets the test run between the consumer's pauses."""

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        await asyncio.sleep(0)


async def yielding_world() -> InferenceWorld:
    world = await inference_world()
    world.clock = YieldingClock()
    return world


def yield_on_read(world: InferenceWorld, source: object) -> None:
    """Each read hands control back to the test (an empty read spends its block_ms, as on Redis)."""
    read = source.read  # type: ignore[attr-defined]

    async def reading(count: int, block_ms: int) -> Sequence[StreamEntry]:
        entries = await read(count, block_ms)
        if not entries:
            await world.clock.sleep(block_ms / 1000)
        await asyncio.sleep(0)
        return entries

    source.read = reading  # type: ignore[attr-defined]


def consumer(world: InferenceWorld) -> InferenceService:
    """Batches of 10, paused past 25 signals not recorded, the backlog looked at before every read."""
    service = world.service(pipeline_config(batch_size=10, rules=[], actions=[]), "c1", max_signal_backlog=25,
                            backlog_check_s=0.0)
    yield_on_read(world, service._source)
    return service


async def run_until(service: InferenceService, done: Callable[[], bool], *,
                    each_step: Callable[[], None] = lambda: None, steps: int = 2000) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    for _ in range(steps):
        await asyncio.sleep(0)
        each_step()
        if done():
            break
    stop.set()
    await asyncio.wait_for(task, 5)
    assert done()


def signalled(world: InferenceWorld) -> list[Signal]:
    return world.signals.signals.get("p1", [])


async def test_new_input_waits_while_the_recorder_lags_and_flows_again_once_it_caught_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = await yielding_world()
    ids = await produce(world, 100)
    world.signals.recorded["p1"] = 0  # a recorder that has recorded nothing yet
    caplog.set_level(logging.INFO, logger="domain.services.signal_backpressure")
    service, started = consumer(world), world.clock.now().timestamp()
    await run_until(service, lambda: world.clock.now().timestamp() > started + 5)  # paused for 5 s by now
    assert len(signalled(world)) == 30  # 30 > 25: paused after the third batch
    assert await world.streams.backlog(EVENTS, "pipeline:p1") == {"lag": 70, "pending": 0}  # unread, unacked

    def recorder_keeps_up() -> None:
        world.signals.recorded["p1"] = len(signalled(world))

    await run_until(service, lambda: len(signalled(world)) == 100, each_step=recorder_keeps_up)
    assert sorted(s.event_id for s in signalled(world)) == sorted(ids)  # each event once
    assert await world.streams.backlog(EVENTS, "pipeline:p1") == {"lag": 0, "pending": 0}
    logged = [r.getMessage() for r in caplog.records]
    assert logged == ["pipeline p1 paused: new events wait in the input stream: signals recorder is 30 entries "
                      "behind (limit 25)", "pipeline p1 resumed: the signals recorder is back under 90% of the limit"]


async def test_a_paused_consumer_still_finishes_what_a_dead_one_had_read() -> None:
    world = await yielding_world()
    await produce(world, 50)
    dead = world.service(pipeline_config(batch_size=10), "dead")
    taken = await dead.collect()  # read, then the consumer died before the ack
    world.signals.recorded["p1"] = 0
    await world.signals.write("p1", old_signals(30))
    await run_until(consumer(world), lambda: len(signalled(world)) == 40)
    assert [s.event_id for s in signalled(world)[30:]] == [e.id for e in taken]
    assert await world.streams.backlog(EVENTS, "pipeline:p1") == {"lag": 40, "pending": 0}


async def test_the_sink_is_asked_at_most_once_per_check_interval_and_each_pause_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink, clock = InMemorySignalSink(), FakeClock()
    gate = SignalBackpressure("p1", sink, clock, limit=5, check_every_s=1.0)
    sink.recorded["p1"] = 0
    caplog.set_level(logging.INFO, logger="domain.services.signal_backpressure")
    answers = []
    for step in range(100):  # 5 s in steps of 50 ms; the recorder lags from 1 s to 3 s, and again from 4 s
        sink.signals["p1"] = old_signals(10 if 20 <= step < 60 or step >= 80 else 0)
        answers.append(await gate.holds())
        await clock.sleep(0.05)
    assert sink.backlog_calls == 5
    assert answers == [False] * 20 + [True] * 40 + [False] * 20 + [True] * 20
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO", "WARNING"]


async def test_a_paused_pipeline_resumes_under_90_percent_of_the_limit_not_at_it() -> None:
    sink, clock = InMemorySignalSink(), FakeClock()
    gate = SignalBackpressure("p1", sink, clock, limit=20, check_every_s=0.0)
    sink.recorded["p1"] = 0
    answers = []
    for backlog in [20, 21, 20, 19, 18, 19, 21]:  # paused past 20; resumes at 18 (<= 90 %), not at 20 or 19
        sink.signals["p1"] = old_signals(backlog)
        answers.append(await gate.holds())
    assert answers == [False, True, True, True, False, False, True]


async def test_pipeline_stats_say_paused_exactly_while_the_consumer_holds_new_input() -> None:
    world = await inference_world()
    service = PipelineService(InMemoryPipelineStore(), world.registry, world.aliases, world.signals, world.streams,
                              world.dlq)
    config = await service.save(pipeline_config())
    world.signals.recorded["p1"] = 0
    world.signals.signals["p1"] = old_signals(21)
    assert (await service.stats(config))["paused"] is None  # over the limit, but no consumer holds anything
    gate = SignalBackpressure("p1", world.signals, world.clock, limit=20, check_every_s=0.0)
    seen = []
    for backlog in [21, 19, 18, 19, 21]:  # paused past 20, still paused at 19, resumed at 18 (<= 90 %)
        world.signals.signals["p1"] = old_signals(backlog)
        holds = await gate.holds()
        stats = await service.stats(config)
        seen.append((holds, stats["signals_backlog"], stats["paused"]))
    assert seen == [(True, 21, "signals recorder is 21 entries behind (limit 20)"),
                    (True, 19, "signals recorder is 19 entries behind (limit 20), resuming at 18 or fewer"),
                    (False, 18, None), (False, 19, None),
                    (True, 21, "signals recorder is 21 entries behind (limit 20)")]


async def test_a_paused_consumer_marks_the_pause_and_clears_it_when_it_stops() -> None:
    world = await yielding_world()
    await produce(world, 50)
    world.signals.recorded["p1"] = 0
    marks, seen = world.signals.pause_marks, []

    def marked() -> bool:
        seen.extend(marks.get("p1", {}).values())
        return bool(seen)

    await run_until(consumer(world), marked)
    assert seen[0] == ("signals recorder is 30 entries behind (limit 25)", 10.0)  # renewed before 10 s are up
    assert not marks.get("p1")  # stopped: it holds nothing any more
