"""Aliases move by compare-and-swap and every move is in a gap-free audit trail."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import timedelta

import pytest

from domain.services.aliases import AliasConflict
from domain.types.errors import ModelNotFound
from domain.types.training import SourceSpec, Task, TrainingSpec
from tests.unit.conftest import World

pytestmark = pytest.mark.unit


async def trained_versions(world: World, count: int, model: str = "people-model") -> list[int]:
    for _ in range(count):
        job = await world.service.submit(TrainingSpec(model, "majority", Task.CLASSIFICATION,
                                                      SourceSpec("people", ("x0", "x1"), "y")))
        await world.runner.run(job.id)
        await world.clock.sleep(60)
    return [m.version for m in await world.registry.list_versions(model)]


async def test_a_move_records_who_when_from_to_why_and_metrics(world: World) -> None:
    await trained_versions(world, 2)
    first = await world.aliases.move("people-model", "production", 1, reason="launch", by="ana")
    second = await world.aliases.move("people-model", "production", 2, reason="better", by="bo", expected_version=1)
    assert (first.seq, first.from_version, first.to_version) == (1, None, 1)
    assert (second.seq, second.from_version, second.to_version, second.by) == (2, 1, 2, "bo")
    assert "accuracy" in second.metrics
    assert await world.aliases.current("people-model", "production") == 2
    assert [m.seq for m in await world.aliases.history("people-model", "production")] == [1, 2]


async def test_a_stale_expected_version_is_a_conflict(world: World) -> None:
    await trained_versions(world, 2)
    await world.aliases.move("people-model", "production", 1, reason="", by="a", expected_version=None)
    with pytest.raises(AliasConflict) as error:
        await world.aliases.move("people-model", "production", 2, reason="", by="b", expected_version=None)
    assert error.value.details["current_version"] == 1


async def test_only_complete_versions_can_be_aliased(world: World) -> None:
    await trained_versions(world, 1)
    with pytest.raises(ModelNotFound):
        await world.aliases.move("people-model", "production", 7, reason="", by="a")


async def test_20_concurrent_movers_one_wins_each_round_and_history_has_no_gaps(world: World) -> None:
    versions = await trained_versions(world, 3)
    for round_number in range(1, 6):
        current = await world.aliases.current("people-model", "production")
        target = versions[round_number % len(versions)]
        results = await asyncio.gather(
            *(world.aliases.move("people-model", "production", target, reason=f"mover {i}", by=f"m{i}",
                                 expected_version=current) for i in range(20)),
            return_exceptions=True)
        assert sum(not isinstance(r, Exception) for r in results) == 1, round_number
        assert all(isinstance(r, AliasConflict) for r in results if isinstance(r, Exception))
    history = await world.aliases.history("people-model", "production")
    assert [m.seq for m in history] == [1, 2, 3, 4, 5]
    assert all(a.to_version == b.from_version for a, b in itertools.pairwise(history))


async def test_a_mover_that_crashed_after_claiming_history_is_rolled_forward(world: World) -> None:
    await trained_versions(world, 2)
    await world.aliases.move("people-model", "production", 1, reason="", by="a")
    # simulate a crash between the history entry and the alias swap: write only the entry
    orphan = (await world.aliases.history("people-model", "production"))[0]
    entry = orphan.__class__(orphan.alias, 2, 1, 2, world.clock.now(), "crashed", "half done", {})
    key = "models/people-model/aliases/production/history/0000000002.json"
    await world.artifacts.put(key, json.dumps(entry.to_dict()).encode())
    move = await world.aliases.move("people-model", "production", 1, reason="rollback", by="b")
    assert [m.seq for m in await world.aliases.history("people-model", "production")] == [1, 2, 3]
    assert move.from_version == 2 and await world.aliases.current("people-model", "production") == 1


async def test_history_answers_what_was_serving_at_a_time(world: World) -> None:
    await trained_versions(world, 2)
    start = world.clock.now()
    await world.aliases.move("people-model", "production", 1, reason="", by="a")
    await world.clock.sleep(3600)
    await world.aliases.move("people-model", "production", 2, reason="", by="a")
    assert await world.aliases.serving_at("people-model", "production", start - timedelta(seconds=1)) is None
    serving = await world.aliases.serving_at("people-model", "production", start + timedelta(minutes=30))
    assert serving is not None and serving.to_version == 1
