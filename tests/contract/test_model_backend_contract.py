"""ModelBackend contract: fit, evaluate, serialize without pickle, load back, predict the same."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from adapters.sklearn.backend import SklearnModelBackend
from domain.types.dataset import Dataset
from domain.types.errors import InvalidSpec, PermanentError
from domain.types.training import SourceSpec, Task, TrainingSpec
from ports.model_backend import ModelBackend
from tests.fakes.model_backend import MajorityModelBackend

pytestmark = pytest.mark.contract
ALGORITHM = {"sklearn": "decision_tree", "fake": "majority"}


@pytest.fixture(params=["sklearn", "fake"])
def backend(request: pytest.FixtureRequest) -> tuple[ModelBackend, str]:
    instance = SklearnModelBackend() if request.param == "sklearn" else MajorityModelBackend()
    return instance, ALGORITHM[request.param]


def data(task: Task, rows: int = 400) -> Dataset:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(rows, 3))
    y = (x[:, 0] > 0).astype(np.int64) if task is Task.CLASSIFICATION else x[:, 0] * 2 + 1
    return Dataset(x, y, ("a", "b", "c"))


def spec(algorithm: str, task: Task) -> TrainingSpec:
    return TrainingSpec("m", algorithm, task, SourceSpec("t", ("a", "b", "c"), "y"))


async def no_progress(stage: str, fraction: float, extra: object) -> None:
    return None


@pytest.mark.parametrize("task", [Task.CLASSIFICATION, Task.REGRESSION])
async def test_a_saved_model_loads_and_predicts_the_same(backend, task: Task) -> None:
    implementation, algorithm = backend
    training = data(task)
    model = await implementation.fit(spec(algorithm, task), training, no_progress)
    serialized = await implementation.serialize(model, training.features[:100])
    loaded = await implementation.deserialize(algorithm, serialized.files)
    expected = await implementation.predict(model, training.features)
    assert np.array_equal(await implementation.predict(loaded, training.features), expected)
    metrics = await implementation.evaluate(model, spec(algorithm, task), training)
    assert metrics and all(isinstance(v, float) for v in metrics.values())


async def test_equal_models_serialize_to_equal_bytes(backend) -> None:
    implementation, algorithm = backend
    first = await implementation.fit(spec(algorithm, Task.CLASSIFICATION), data(Task.CLASSIFICATION), no_progress)
    second = await implementation.fit(spec(algorithm, Task.CLASSIFICATION), data(Task.CLASSIFICATION), no_progress)
    assert (await implementation.serialize(first)).files == (await implementation.serialize(second)).files


def test_unknown_algorithms_and_hyperparameters_are_spec_errors(backend) -> None:
    implementation, algorithm = backend
    with pytest.raises(InvalidSpec):
        implementation.validate("no_such_algorithm", Task.CLASSIFICATION, {})
    with pytest.raises(InvalidSpec):
        implementation.validate(algorithm, Task.CLASSIFICATION, {"no_such_knob": 1})


def test_sklearn_hyperparameters_get_defaults_and_ranges() -> None:
    backend = SklearnModelBackend()
    assert backend.validate("decision_tree", Task.CLASSIFICATION, {})["max_depth"] == 12
    with pytest.raises(InvalidSpec, match="max_depth"):
        backend.validate("decision_tree", Task.REGRESSION, {"max_depth": 0})


async def test_sklearn_refuses_to_load_untrusted_types() -> None:
    backend = SklearnModelBackend()
    model = await backend.fit(spec("decision_tree", Task.CLASSIFICATION), data(Task.CLASSIFICATION), no_progress)
    archive = (await backend.serialize(model)).files["model.skops"]
    tampered = _replace_in_schema(archive, "sklearn.tree._classes", "os.system_module")
    with pytest.raises(PermanentError, match=r"untrusted types: os\.system_module"):
        await backend.deserialize("decision_tree", {"model.skops": tampered})


def _replace_in_schema(archive: bytes, old: str, new: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(archive))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(info.filename, content.replace(old.encode(), new.encode()) if info.filename ==
                            "schema.json" else content)
    return output.getvalue()
