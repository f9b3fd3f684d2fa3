"""Rule state over fakes: what fired is recorded before the actions are enqueued, so a batch that fails
in between is redone at its redelivery with the same actions, and a cooldown is not lost or doubled."""

from __future__ import annotations

import json

import pytest

from domain.types.errors import TransientError
from tests.support.inference_world import inference_world, pipeline_config

pytestmark = pytest.mark.unit
RULE = {"name": "high", "when": [{"on": "score", "op": ">", "value": 0.5}], "actions": ["hook"], "cooldown_s": 3600}


async def test_actions_lost_with_a_failed_batch_are_enqueued_at_its_redelivery_once() -> None:
    world = await inference_world()
    config = pipeline_config(rules=[RULE])
    ids = await world.streams.append("events", [json.dumps({"entity_id": "a", "x": 0.9})])
    world.queue.unreachable = True
    failed = world.service(config, "c1")
    with pytest.raises(TransientError):
        await failed.process(await failed.collect())
    world.queue.unreachable = False
    survivor = world.service(config, "c2")
    await survivor.process(await survivor.source_claim())
    await world.streams.append("events", [json.dumps({"entity_id": "a", "x": 0.9})])  # inside the cooldown
    await survivor.process(await survivor.collect())
    assert [t.job_id for t in world.queue.tasks] == [f"p1:{ids[0]}:hook"]
