"""A retrain promotes only a better challenger (within the tolerance), says when its comparison may
favour the champion, and never records `promote: true` for a champion the alias has left."""

from __future__ import annotations

import json

import pytest

from domain.services.retrain_policy import RetrainRequest, decide
from domain.types.jobs import JobState
from domain.types.training import Task
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions

pytestmark = pytest.mark.unit
MODEL = "people-model"


def promoted(metric: str, challenger: float, champion: float, tolerance: float = 0.0) -> bool:
    task = Task.REGRESSION if metric == "rmse" else Task.CLASSIFICATION
    request = RetrainRequest(MODEL, metric=metric, tolerance=tolerance)
    return bool(decide(request, task, {metric: challenger}, {metric: champion}, 1)["promote"])


@pytest.mark.parametrize(("challenger", "champion", "tolerance", "expected"), [
    (0.80, 0.80, 0.0, False), (0.81, 0.80, 0.0, True), (0.79, 0.80, 0.0, False),
    (0.795, 0.80, 0.01, True), (0.80, 0.80, 0.01, True), (0.785, 0.80, 0.01, False)])
def test_only_a_better_challenger_is_promoted(challenger, champion, tolerance, expected) -> None:
    assert promoted("accuracy", challenger, champion, tolerance) is expected
    # rmse: lower is better, the same rule mirrored
    assert promoted("rmse", 2 - challenger, 2 - champion, tolerance) is expected


async def retrain(world: World, **options: object) -> dict:
    job = await world.retrains.request(RetrainRequest(MODEL, **options))  # type: ignore[arg-type]
    await world.retrain_runner.run(job.id)
    record = await world.jobs.get(job.id)
    assert record.state is JobState.COMPLETED, record.error
    return dict(record.result)


async def test_a_champion_split_by_row_hash_is_compared_fairly(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move(MODEL, "production", 1, reason="launch", by="a")
    result = await retrain(world, tolerance=0.01)
    assert result["fair"] is True and "bias" not in result
    split = (await world.registry.get_version(MODEL, 2)).data["split"]
    assert split["scheme"] == "row-hash-1" and split["holdout_rows"] > 0


async def test_a_champion_split_the_older_way_is_said_to_be_favoured(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move(MODEL, "production", 1, reason="launch", by="a")
    key = f"models/{MODEL}/versions/1/manifest.json"  # as a version trained before row-hash splits reads
    manifest = json.loads(world.artifacts.blobs[key])
    del manifest["data"]["split"]
    world.artifacts.blobs[key] = json.dumps(manifest).encode()
    result = await retrain(world)
    assert result["fair"] is False and "v1 was trained before rows were split by their content" in result["bias"]
    decision = (await world.registry.get_version(MODEL, 2)).extra["retrain"]
    assert decision["fair"] is False and "the comparison favours the champion" in decision["summary"]


async def test_a_challenger_whose_champion_lost_the_alias_meanwhile_is_not_recorded_as_promoted(world: World) -> None:
    await trained_versions(world, 2)
    await world.aliases.move(MODEL, "production", 1, reason="launch", by="a")
    # Another retrain (or a person) moves the alias while this one trains.
    world.backend.on_fit = lambda: world.aliases.move(MODEL, "production", 2, reason="other", by="b",
                                                      expected_version=1)
    result = await retrain(world, tolerance=0.01)  # better within the tolerance than v1
    assert result["decision"] == "not promoted: the alias moved while retraining"
    decision = (await world.registry.get_version(MODEL, result["version"])).extra["retrain"]
    assert decision["promote"] is False and decision["alias_moved_to"] == 2
    assert "'production' moved to v2 while retraining" in decision["summary"]
    assert await world.aliases.current(MODEL, "production") == 2


async def test_a_promotion_is_recorded_as_conditional_on_the_alias(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move(MODEL, "production", 1, reason="launch", by="a")
    result = await retrain(world, tolerance=0.01)
    decision = (await world.registry.get_version(MODEL, result["version"])).extra["retrain"]
    assert decision["promote"] is True and "moving 'production' from v1 if it still points there" in decision["summary"]
