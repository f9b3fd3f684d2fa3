"""InferenceService over fakes: signals, windows, actions, acks, dead letters and model reloads."""

from __future__ import annotations

import json

import pytest

from domain.services.pipelines import PipelineService
from domain.types.errors import InvalidSpec
from tests.fakes.inference import InMemoryPipelineStore
from tests.support.inference_world import InferenceWorld, inference_world, pipeline_config

pytestmark = pytest.mark.unit


async def produce(world: InferenceWorld, *events: object) -> list[str]:
    raw = [e if isinstance(e, str) else json.dumps(e) for e in events]
    return await world.streams.append("events", raw)


async def drain(world: InferenceWorld, consumer: str = "c1", **overrides: object) -> None:
    service = world.service(pipeline_config(**overrides), consumer)
    while await service.process(await service.collect()):
        pass


async def test_every_event_gets_one_signal_with_window_features_and_version() -> None:
    world = await inference_world()
    await produce(world, {"entity_id": "a", "x": 0.2}, {"entity_id": "a", "x": 0.4}, {"entity_id": "b", "x": 0.9},
                  {"entity_id": "a", "x": 0.9}, {"entity_id": "a", "x": 1.1})
    await drain(world)
    signals = world.signals.signals["p1"]
    assert [s.features["x_last"] for s in signals] == [0.2, 0.4, 0.9, 0.9, 1.1]
    assert [round(s.features["x_mean"], 6) for s in signals] == [0.2, 0.3, 0.9, 0.5, 0.8]  # window of 3 events
    assert {s.model_version for s in signals} == {1}
    assert await world.streams.backlog("events", "pipeline:p1") == {"lag": 0, "pending": 0}


async def test_rules_enqueue_one_action_per_matching_event_keyed_by_event_and_action() -> None:
    world = await inference_world()
    ids = await produce(world, {"entity_id": "a", "x": 0.2}, {"entity_id": "a", "x": 0.7})
    await drain(world)
    assert [t.job_id for t in world.queue.tasks] == [f"p1:{ids[1]}:hook"]
    assert world.queue.tasks[0].queue == "actions"
    assert world.queue.tasks[0].payload["body"]["model_version"] == 1


async def test_malformed_events_are_dead_lettered_with_the_reason_and_the_stream_keeps_flowing() -> None:
    world = await inference_world()
    await produce(world, "{not json", {"x": 1.0}, {"entity_id": "a", "x": "high"}, {"entity_id": "a", "x": 0.3})
    await drain(world)
    causes = sorted(d.cause for d in await world.dlq.list("p1"))
    assert len(causes) == 3
    assert any("bad JSON" in c for c in causes) and any("entity key" in c for c in causes)
    assert any("'x' must be a finite number" in c for c in causes)
    assert len(world.signals.signals["p1"]) == 1
    assert (await world.streams.backlog("events", "pipeline:p1"))["pending"] == 0


async def test_a_crash_before_the_ack_is_redelivered_and_yields_the_same_signal_and_keys() -> None:
    world = await inference_world()
    await produce(world, {"entity_id": "a", "x": 0.6}, {"entity_id": "a", "x": 0.8})
    world.signals.fail_next = 1
    crashed = world.service(pipeline_config(), "c1")
    with pytest.raises(RuntimeError):
        await crashed.process(await crashed.collect())
    survivor = world.service(pipeline_config(), "c2")
    await survivor.process(await survivor.source_claim())
    signals = world.signals.signals["p1"]
    assert [s.features["x_mean"] for s in signals] == [0.6, pytest.approx(0.7)]
    assert len(world.queue.tasks) == 2 and len({t.job_id for t in world.queue.tasks}) == 2


async def test_an_event_delivered_more_than_k_times_goes_to_the_dlq() -> None:
    world = await inference_world()
    await produce(world, {"entity_id": "a", "x": 0.6})
    config = pipeline_config(max_deliveries=2)
    for attempt in range(3):
        world.signals.fail_next = 1
        service = world.service(config, f"c{attempt}")
        entries = await service.collect() or await service.source_claim()
        try:
            await service.process(entries)
        except RuntimeError:
            continue
    [letter] = await world.dlq.list("p1")
    assert letter.attempts == 3 and "delivered 3 times" in letter.cause
    assert (await world.streams.backlog("events", "pipeline:p1"))["pending"] == 0


async def test_a_moved_alias_is_served_from_the_next_batch() -> None:
    world = await inference_world()
    service = world.service(pipeline_config())
    await produce(world, {"entity_id": "a", "x": 0.1})
    await service.process(await service.collect())
    await world.publish_version(2)
    await produce(world, {"entity_id": "a", "x": 0.1})
    await service.process(await service.collect())
    assert [s.model_version for s in world.signals.signals["p1"]] == [1, 2]


async def test_an_incompatible_version_is_refused_and_the_previous_one_keeps_serving() -> None:
    world = await inference_world()
    service = world.service(pipeline_config())
    await produce(world, {"entity_id": "a", "x": 0.1})
    await service.process(await service.collect())
    await world.publish_version(2, features=["x_last", "other"])
    await produce(world, {"entity_id": "a", "x": 0.1})
    await service.process(await service.collect())
    assert [s.model_version for s in world.signals.signals["p1"]] == [1, 1]
    [event] = await world.events.read("pipeline:p1")
    assert event.type == "model_refused" and event.data["version"] == 2 and event.data["serving"] == 1


async def test_saving_a_pipeline_whose_features_do_not_match_the_model_is_refused() -> None:
    world = await inference_world()
    service = PipelineService(InMemoryPipelineStore(), world.registry, world.aliases, world.signals, world.streams,
                              world.dlq)
    with pytest.raises(InvalidSpec, match="do not match"):
        await service.save(pipeline_config(features=["x", "y"]))
    saved = await service.save(pipeline_config())
    assert (await service.get("p1"))["name"] == saved.name


async def test_a_signals_table_already_recording_another_pipeline_is_refused() -> None:
    world = await inference_world()
    service = PipelineService(InMemoryPipelineStore(), world.registry, world.aliases, world.signals, world.streams,
                              world.dlq)
    await service.save(pipeline_config(signals_table="scores"))
    await service.save(pipeline_config(signals_table="scores"))  # the same pipeline saved again keeps its table
    with pytest.raises(InvalidSpec, match="'scores' already records pipeline 'p1'"):
        await service.save(pipeline_config(name="p2", signals_table="scores"))
    assert (await service.save(pipeline_config(name="p2", signals_table="p2_scores"))).signals_table == "p2_scores"
