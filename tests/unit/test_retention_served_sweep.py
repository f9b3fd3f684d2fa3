"""The sweep after a retrain goes through retention's apply: it never deletes the version a pipeline is
serving right now (an older one, after it refused its alias's newer version), and says why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import pytest

from domain.services.job_lifecycle import JobLifecycle
from domain.services.retention import RetentionService
from domain.services.retrain_policy import RetrainRequest
from domain.services.retraining import RetrainRunner
from domain.services.trainer import Trainer
from domain.types.jobs import JobState
from domain.types.lifecycle import RetentionPolicy
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions

pytestmark = pytest.mark.unit
MODEL = "people-model"


class PipelinesServing:
    """The ServedVersions port: what the pipelines' stats say they serve."""

    def __init__(self, served: Mapping[int, Sequence[str]]) -> None:
        self.now = dict(served)

    async def served(self, model: str) -> Mapping[int, Sequence[str]]:
        return self.now


async def test_the_sweep_after_a_retrain_keeps_the_version_a_pipeline_serves(world: World) -> None:
    await trained_versions(world, 2)
    await world.aliases.move(MODEL, "production", 1, reason="launch", by="a")
    await world.aliases.move(MODEL, "production", 2, reason="new features", by="a")  # the pipeline refused v2
    await world.clock.sleep(60)
    serving = PipelinesServing({1: ["scoring"]})
    retention = RetentionService(world.artifacts, world.registry, world.aliases, world.clock,
                                 RetentionPolicy(keep_last=1, keep_days=0, alias_days=0), timedelta(hours=1),
                                 served=serving)
    trainer = Trainer(warehouse=world.warehouse, backend=world.backend, registry=world.registry, clock=world.clock)
    runner = RetrainRunner(trainer=trainer, lifecycle=JobLifecycle(world.jobs, world.events, world.clock),
                           aliases=world.aliases, retention=retention)

    job = await world.retrains.request(RetrainRequest(MODEL, tolerance=1.0))  # promote whatever it scores
    await runner.run(job.id)
    assert (await world.jobs.get(job.id)).state is JobState.COMPLETED
    assert await world.aliases.current(MODEL, "production") == 3
    assert [m.version for m in await world.registry.list_versions(MODEL)] == [1, 2, 3]  # v2: aliased a moment ago
    assert (await retention.plan(MODEL)).reasons[1] == "served by pipeline scoring"

    serving.now = {3: ["scoring"]}  # it serves the new version now: v1 may go
    await world.clock.sleep(60)
    plan, _orphans = await retention.apply(MODEL)
    assert plan.delete == (1, 2) and [m.version for m in await world.registry.list_versions(MODEL)] == [3]
