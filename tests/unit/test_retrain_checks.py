"""Retrain inputs that can be judged before training are: a metric the model's task does not report
is refused at submit, and a job that still carries one fails before fitting anything."""

from __future__ import annotations

import pytest

from domain.services.retrain_policy import RetrainRequest
from domain.types.errors import InvalidSpec
from domain.types.jobs import JobState
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions

pytestmark = pytest.mark.unit
MODEL = "people-model"  # a classification model


async def promoted(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move(MODEL, "production", 1, reason="launch", by="a")


async def test_an_unknown_metric_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(InvalidSpec, match="unknown metric 'bogus': use one of accuracy") as refused:
        RetrainRequest(MODEL, metric="bogus")
    assert refused.value.details["field"] == "metric" and "rmse" in refused.value.details["allowed"]


async def test_a_metric_of_another_task_is_refused_naming_the_tasks_metrics(world: World) -> None:
    await promoted(world)
    versions = await world.registry.list_versions(MODEL)
    with pytest.raises(InvalidSpec, match="'rmse' is not reported for classification models") as refused:
        await world.retrains.check(RetrainRequest(MODEL, metric="rmse"), versions)
    assert refused.value.details["allowed"] == ["accuracy", "precision", "recall", "f1", "log_loss", "roc_auc"]
    assert await world.retrains.check(RetrainRequest(MODEL, metric="f1"), versions) == []


async def test_no_alias_yet_is_a_warning_and_the_metric_is_still_checked(world: World) -> None:
    await trained_versions(world, 1)
    versions = await world.registry.list_versions(MODEL)
    [warning] = await world.retrains.check(RetrainRequest(MODEL, metric="accuracy"), versions)
    assert "no alias 'production' yet" in warning
    with pytest.raises(InvalidSpec, match="not reported for classification"):
        await world.retrains.check(RetrainRequest(MODEL, metric="r2"), versions)


async def test_a_queued_retrain_with_a_wrong_metric_fails_before_training(world: World) -> None:
    await promoted(world)
    job = await world.retrains.request(RetrainRequest(MODEL, metric="mae"))  # e.g. from an older schedule
    fits = world.backend.fits
    await world.retrain_runner.run(job.id)
    record = await world.jobs.get(job.id)
    assert record.state is JobState.FAILED and "'mae' is not reported" in (record.error or "")
    assert world.backend.fits == fits  # no challenger was trained
