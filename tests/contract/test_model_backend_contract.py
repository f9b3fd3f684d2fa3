"""ModelBackend contract: fit, evaluate, serialize without pickle, load back, predict the same."""

from __future__ import annotations

import importlib.util
import io
import zipfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import pytest

from adapters.keras.backend import KerasModelBackend
from adapters.sklearn.backend import SklearnModelBackend
from domain.types.dataset import Dataset
from domain.types.errors import InvalidSpec, PermanentError
from domain.types.training import SourceSpec, Task, TrainingSpec
from ports.model_backend import ModelBackend
from tests.fakes.model_backend import MajorityModelBackend

pytestmark = pytest.mark.contract
ALGORITHM = {"sklearn": "decision_tree", "fake": "majority", "keras": "keras_mlp"}
# Small networks keep the suite fast on two cores; the defaults train 20 epochs of [64, 64].
HYPERPARAMETERS = {"keras_mlp": {"epochs": 3, "hidden_layers": [8], "batch_size": 64}}


@pytest.fixture(scope="module")
def keras_backend() -> Iterator[KerasModelBackend]:
    """One pool worker for the module: it imports TensorFlow once; this process never does."""
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed (pip install -e '.[keras]')")
    pool = ProcessPoolExecutor(1, mp_context=get_context("forkserver"))
    backend = KerasModelBackend(pool)
    yield backend
    backend.close()
    pool.shutdown(cancel_futures=True)


@pytest.fixture(params=["sklearn", "fake", "keras"])
def backend(request: pytest.FixtureRequest) -> tuple[ModelBackend, str]:
    if request.param == "keras":
        return request.getfixturevalue("keras_backend"), ALGORITHM["keras"]
    instance = SklearnModelBackend() if request.param == "sklearn" else MajorityModelBackend()
    return instance, ALGORITHM[request.param]


def data(task: Task, rows: int = 400) -> Dataset:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(rows, 3))
    y = (x[:, 0] > 0).astype(np.int64) if task is Task.CLASSIFICATION else x[:, 0] * 2 + 1
    return Dataset(x, y, ("a", "b", "c"))


def spec(algorithm: str, task: Task) -> TrainingSpec:
    source = SourceSpec("t", ("a", "b", "c"), "y")
    return TrainingSpec("m", algorithm, task, source, HYPERPARAMETERS.get(algorithm, {}))


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


# Every scikit-learn algorithm x task: files round-trip, ONNX agrees with the native model (or says why not).
SKLEARN_SMALL = {"decision_tree": {}, "random_forest": {"n_estimators": 12}, "gradient_boosting": {"max_iter": 12}}
SKLEARN_CASES = [(a, t) for a in SKLEARN_SMALL for t in (Task.CLASSIFICATION, Task.REGRESSION)]


async def _fit_sklearn(algorithm: str, task: Task) -> tuple[SklearnModelBackend, object, Dataset]:
    backend, training = SklearnModelBackend(), data(task)
    fitted = TrainingSpec("m", algorithm, task, spec(algorithm, task).source, SKLEARN_SMALL[algorithm])
    return backend, await backend.fit(fitted, training, no_progress), training


@pytest.mark.parametrize(("algorithm", "task"), SKLEARN_CASES)
async def test_every_sklearn_algorithm_round_trips_and_exports_verified_onnx(algorithm: str, task: Task) -> None:
    import onnxruntime as ort

    backend, model, training = await _fit_sklearn(algorithm, task)
    serialized = await backend.serialize(model, training.features[:100])
    loaded = await backend.deserialize(algorithm, serialized.files)
    expected = await backend.predict(model, training.features)
    assert np.array_equal(await backend.predict(loaded, training.features), expected)
    note = serialized.notes["onnx"]
    if "model.onnx" not in serialized.files:
        pytest.fail(f"no ONNX export for {algorithm}: {note['skipped']}")  # all six convert today
    session = ort.InferenceSession(serialized.files["model.onnx"], providers=["CPUExecutionProvider"])
    outputs = session.run(None, {"float_input": training.features.astype(np.float32)})
    native = model.predict_proba(training.features) if task is Task.CLASSIFICATION else model.predict(training.features)
    assert np.abs(outputs[-1].reshape(native.shape) - native).max() <= 1e-5
    assert note["rows"] == 100 and note["max_abs_diff"] <= 1e-5 and note["opset"] >= 13


@pytest.mark.parametrize("algorithm", list(SKLEARN_SMALL))
async def test_equal_sklearn_models_export_equal_onnx_bytes(algorithm: str) -> None:
    (backend, first, training), (_, second, _) = [await _fit_sklearn(algorithm, Task.CLASSIFICATION) for _ in "ab"]
    files = [(await backend.serialize(m, training.features[:50])).files for m in (first, second)]
    assert files[0] == files[1] and "model.onnx" in files[0]


async def test_an_onnx_export_that_disagrees_is_left_out_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.sklearn import onnx_export

    backend, model, training = await _fit_sklearn("random_forest", Task.REGRESSION)
    monkeypatch.setattr(onnx_export, "TOLERANCE", -1.0)  # no difference can be this small
    serialized = await backend.serialize(model, training.features[:20])
    assert "model.onnx" not in serialized.files and "model.skops" in serialized.files
    assert "disagrees" in serialized.notes["onnx"]["skipped"] and serialized.notes["onnx"]["max_abs_diff"] >= 0
    unchecked = await backend.serialize(model)  # no sample: nothing to verify against, so no file
    assert "model.onnx" not in unchecked.files and "no sample" in unchecked.notes["onnx"]["skipped"]


@pytest.mark.parametrize("algorithm", list(SKLEARN_SMALL))
async def test_a_tampered_sklearn_archive_is_refused(algorithm: str) -> None:
    backend, model, _ = await _fit_sklearn(algorithm, Task.CLASSIFICATION)
    archive = (await backend.serialize(model)).files["model.skops"]
    name = type(model).__name__
    renamed = _replace_in_schema(archive, name, chr(ord(name[0]) ^ 1) + name[1:])  # one bit: an unknown type
    with pytest.raises(PermanentError, match="untrusted types"):
        await backend.deserialize(algorithm, {"model.skops": renamed})
    broken = _replace_in_schema(archive, '"__class__"', '#__class__"')  # one bit per key: the JSON breaks
    with pytest.raises(PermanentError, match="corrupt"):
        await backend.deserialize(algorithm, {"model.skops": broken})
    other = "decision_tree" if algorithm != "decision_tree" else "random_forest"
    with pytest.raises(PermanentError, match=f"not a {other}"):
        await backend.deserialize(other, {"model.skops": archive})


def test_sklearn_ensembles_get_bounded_defaults() -> None:
    backend = SklearnModelBackend()
    forest = backend.validate("random_forest", Task.REGRESSION, {})
    assert [forest[k] for k in ("max_depth", "n_estimators", "min_samples_leaf", "n_jobs")] == [16, 100, 2, 1]
    assert backend.validate("gradient_boosting", Task.CLASSIFICATION, {})["max_iter"] == 100
    with pytest.raises(InvalidSpec, match="bootstrap"):
        backend.validate("random_forest", Task.CLASSIFICATION, {"bootstrap": False, "max_samples": 0.5})
