"""A retrain whose challenger is deleted, or being deleted, just before the alias moves onto it: the
move is refused (404, or 409 `version_being_deleted`), so the job completes `not promoted` with the
reason, and the alias stays on the champion; the job does not fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from domain.services.deletion_marks import DeletionMarks
from domain.services.retrain_policy import RetrainRequest
from domain.types.jobs import JobState
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions

pytestmark = pytest.mark.unit
MODEL = "people-model"
CHALLENGER = 2


async def deleted(world: World) -> None:
    await world.retention.delete_version(MODEL, CHALLENGER)  # e.g. DELETE /v1/models/.../versions/2


async def being_deleted(world: World) -> None:
    await DeletionMarks(world.artifacts, world.clock).mark(MODEL, CHALLENGER)  # a delete still under way


def delete_before_the_move(world: World, delete: Callable[[World], Awaitable[None]]) -> None:
    """The delete lands between the challenger's store and the promotion; the move itself is the real one."""
    real_move = world.aliases.move

    async def move(*args, **kwargs):  # type: ignore[no-untyped-def]
        await delete(world)
        return await real_move(*args, **kwargs)

    world.aliases.move = move  # type: ignore[method-assign]


@pytest.mark.parametrize(("delete", "reason"), [
    (deleted, f"has no complete version {CHALLENGER}"),
    (being_deleted, f"version {CHALLENGER} of {MODEL!r} is being deleted")])
async def test_a_challenger_deleted_while_promoting_is_not_promoted_and_the_job_completes(
        world: World, delete: Callable[[World], Awaitable[None]], reason: str) -> None:
    await trained_versions(world, 1)
    await world.aliases.move(MODEL, "production", 1, reason="launch", by="a")
    delete_before_the_move(world, delete)
    job = await world.retrains.request(RetrainRequest(MODEL, tolerance=0.01))  # better within the tolerance
    await world.retrain_runner.run(job.id)
    record = await world.jobs.get(job.id)
    assert record.state is JobState.COMPLETED, record.error
    assert record.result["decision"].startswith("not promoted: ") and reason in record.result["decision"]
    assert record.result["version"] == CHALLENGER and record.result["champion_version"] == 1
    assert await world.aliases.current(MODEL, "production") == 1
    assert [m.to_version for m in await world.aliases.history(MODEL, "production")] == [1]
