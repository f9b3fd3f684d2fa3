"""Submitting training jobs: everything knowable up front is checked before anything is queued."""

from __future__ import annotations

import pyarrow as pa
import pytest

from domain.types.errors import InvalidIdentifier, InvalidSpec, TransientError
from domain.types.jobs import JobState
from domain.types.training import SourceSpec, Task, TrainingSpec
from tests.unit.conftest import World

pytestmark = pytest.mark.unit


def spec(**changes: object) -> TrainingSpec:
    source = changes.pop("source", SourceSpec("people", ("x0", "x1"), "y"))
    values = {"model_name": "people-model", "algorithm": "majority", "task": Task.CLASSIFICATION, **changes}
    return TrainingSpec(source=source, **values)  # type: ignore[arg-type]


async def test_submit_records_announces_and_enqueues_the_job(world: World) -> None:
    record = await world.service.submit(spec())

    assert record.state is JobState.QUEUED
    assert (await world.jobs.get(record.id)).spec["hyperparameters"] == {"bias": 0.0}
    assert [e.type for e in await world.events.read(f"job:{record.id}")] == ["queued"]
    assert [(t.name, t.job_id, t.queue) for t in world.queue.tasks] == [("train", record.id, "training")]


async def test_submit_names_the_missing_columns(world: World) -> None:
    with pytest.raises(InvalidSpec) as error:
        await world.service.submit(spec(source=SourceSpec("people", ("x0", "nope"), "missing_label")))
    assert error.value.details["missing"] == ["nope", "missing_label"]
    assert world.queue.tasks == []


async def test_submit_refuses_non_numeric_features(world: World) -> None:
    with pytest.raises(InvalidSpec, match="not numeric") as error:
        await world.service.submit(spec(source=SourceSpec("people", ("x0", "name"), "y")))
    assert error.value.details["non_numeric"] == ["name"]


async def test_submit_refuses_an_unknown_table_as_a_spec_error(world: World) -> None:
    with pytest.raises(InvalidSpec, match="no table named 'ghost'"):
        await world.service.submit(spec(source=SourceSpec("ghost", ("x0",), "y")))


async def test_submit_refuses_unknown_algorithms_and_hyperparameters(world: World) -> None:
    with pytest.raises(InvalidSpec, match="unknown algorithm"):
        await world.service.submit(spec(algorithm="deep_magic"))
    with pytest.raises(InvalidSpec, match="hyperparameter"):
        await world.service.submit(spec(hyperparameters={"depth": 3}))


def test_model_names_with_path_characters_are_refused() -> None:
    for bad in ("../etc", "a/b", "with space", "", ".hidden"):
        with pytest.raises(InvalidIdentifier):
            spec(model_name=bad)


async def test_regression_needs_a_numeric_label(world: World) -> None:
    await world.warehouse.append("texts", pa.table({"x0": [1.0, 2.0], "y": ["a", "b"]}))
    with pytest.raises(InvalidSpec, match="regression needs a numeric label"):
        await world.service.submit(spec(task=Task.REGRESSION, source=SourceSpec("texts", ("x0",), "y")))


async def test_an_unreachable_queue_fails_the_job_with_the_cause(world: World) -> None:
    world.queue.unreachable = True
    with pytest.raises(TransientError):
        await world.service.submit(spec())
    record = await world.jobs.get("job_0001")  # ids are sequential in unit tests
    assert record.state is JobState.FAILED
    events = await world.events.read(f"job:{record.id}")
    assert [e.type for e in events] == ["queued", "failed"]
    assert "could not enqueue" in events[-1].data["message"]
