"""KerasModelBackend in a real process pool: epoch progress, cancellation, files that reload in a
fresh process, verified ONNX, and a parent process that never imports TensorFlow."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters._shared.process_jobs import ProcessJobs, Reporter
from adapters.keras import training
from adapters.keras.backend import KerasModelBackend
from adapters.keras.bundle import KerasBundle
from domain.types.dataset import Dataset
from domain.types.errors import InvalidSpec, JobCancelled, PermanentError, UnusableTrainingData
from domain.types.training import SourceSpec, Task, TrainingSpec

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="tensorflow is not installed"),
]
SMALL = {"epochs": 3, "hidden_layers": [8], "batch_size": 32}
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """One worker for the module: it imports TensorFlow once (~3 s); this process never does."""
    executor = ProcessPoolExecutor(1, mp_context=get_context("forkserver"))
    yield executor
    executor.shutdown(cancel_futures=True)


@pytest.fixture(scope="module")
def backend(pool: ProcessPoolExecutor) -> Iterator[KerasModelBackend]:
    instance = KerasModelBackend(pool)
    yield instance
    instance.close()


def dataset(task: Task, rows: int = 240) -> Dataset:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(rows, 3))
    if task is Task.CLASSIFICATION:  # string labels: the backend maps them to class indices and back
        return Dataset(x, np.where(x[:, 0] + 0.5 * x[:, 1] > 0, "yes", "no"), ("a", "b", "c"))
    return Dataset(x, x @ np.array([2.0, -1.0, 0.5]) + 1.0, ("a", "b", "c"))


def spec(task: Task, **hyperparameters: Any) -> TrainingSpec:
    source = SourceSpec("t", ("a", "b", "c"), "y")
    return TrainingSpec("m", "keras_mlp", task, source, {**SMALL, **hyperparameters})


def fit_and_record(reporter: Reporter, ledger: str, *args: Any) -> None:
    """Runs in the pool worker: fit, then write down how many epochs the child itself ran."""
    bundle = training.fit_bundle(reporter, *args)
    Path(ledger).write_text(json.dumps(dict(bundle.history)))


async def test_each_epoch_reports_its_number_and_losses(backend: KerasModelBackend) -> None:
    events: list[tuple[str, float, Mapping[str, Any]]] = []

    async def progress(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
        events.append((stage, fraction, extra))

    model = await backend.fit(spec(Task.CLASSIFICATION, epochs=4), dataset(Task.CLASSIFICATION), progress)
    assert [extra["epoch"] for _, _, extra in events] == [1, 2, 3, 4]
    assert [fraction for _, fraction, _ in events] == [0.25, 0.5, 0.75, 1.0]
    assert {stage for stage, _, _ in events} == {"fit"}
    for _, _, extra in events:
        assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(extra)
        assert np.isfinite([extra["loss"], extra["val_loss"]]).all()
    metrics = await backend.evaluate(model, spec(Task.CLASSIFICATION), dataset(Task.CLASSIFICATION))
    assert set(metrics) == {"accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"}


async def test_a_cancelled_fit_raises_and_reports_no_further_epochs(backend: KerasModelBackend) -> None:
    seen: list[int] = []

    async def cancel_at_two(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
        seen.append(extra["epoch"])
        if extra["epoch"] == 2:
            raise JobCancelled("cancel requested")

    slow = spec(Task.CLASSIFICATION, epochs=50, batch_size=8)  # ~0.1 s per epoch: the stop lands early
    with pytest.raises(JobCancelled):
        await backend.fit(slow, dataset(Task.CLASSIFICATION, rows=800), cancel_at_two)
    assert seen == [1, 2]


async def test_the_child_stops_fitting_soon_after_a_cancel(
    backend: KerasModelBackend, pool: ProcessPoolExecutor, tmp_path: Path
) -> None:
    async def cancel_at_two(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
        if extra["epoch"] == 2:
            raise JobCancelled("cancel requested")

    params = backend.validate("keras_mlp", Task.CLASSIFICATION, {**SMALL, "epochs": 50, "batch_size": 8})
    data, ledger = dataset(Task.CLASSIFICATION, rows=800), tmp_path / "ledger.json"
    jobs = ProcessJobs(pool)
    try:
        with pytest.raises(JobCancelled):
            args = ("classification", params, data.features, data.labels)
            await jobs.run(fit_and_record, str(ledger), *args, progress=cancel_at_two)
    finally:
        jobs.close()
    history = json.loads(ledger.read_text())  # ProcessJobs waits for the child before re-raising
    assert history["stopped"] == "cancelled"
    assert 2 <= history["epochs_run"] < 50


FRESH_PROCESS = """
import asyncio, sys
from pathlib import Path
import numpy as np
from adapters.keras.backend import KerasModelBackend
from adapters.keras.bundle import KerasBundle

folder = Path(sys.argv[1])
files = {p.name: p.read_bytes() for p in folder.glob("model.*")}
x = np.load(folder / "x.npy")

async def main():
    model = await KerasModelBackend().deserialize("keras_mlp", files)  # no pool: loads in this process
    np.save(folder / "predicted.npy", await KerasModelBackend().predict(model, x))

asyncio.run(main())
import keras
native = keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False)
legacy = keras.saving.load_model(folder / "model.h5", compile=False)
np.save(folder / "h5_gap.npy", np.abs(native.predict_on_batch(x) - legacy.predict_on_batch(x)).max())
"""


async def test_saved_files_predict_the_same_in_a_fresh_process(backend: KerasModelBackend, tmp_path: Path) -> None:
    data = dataset(Task.CLASSIFICATION)
    model = await backend.fit(spec(Task.CLASSIFICATION, export=["h5"]), data, _ignore)
    serialized = await backend.serialize(model, data.features[:50])
    assert {"model.keras", "model.json", "model.h5", "model.onnx"} <= set(serialized.files)
    for name, content in serialized.files.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "x.npy", data.features)
    script = textwrap.dedent(FRESH_PROCESS)
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, check=True, timeout=120)
    predicted = np.load(tmp_path / "predicted.npy")
    assert np.array_equal(predicted, await backend.predict(model, data.features))
    assert set(np.unique(predicted)) <= {"yes", "no"}
    assert float(np.load(tmp_path / "h5_gap.npy")) == 0.0  # the .h5 export is the same network


async def test_the_onnx_export_agrees_with_keras_and_loads_in_onnxruntime(backend: KerasModelBackend) -> None:
    import onnxruntime

    data = dataset(Task.REGRESSION)
    model = await backend.fit(spec(Task.REGRESSION), data, _ignore)
    serialized = await backend.serialize(model, data.features[:64])
    note = serialized.notes["onnx"]
    assert note["rows"] == 64 and note["max_abs_diff"] <= 1e-5
    session = onnxruntime.InferenceSession(serialized.files["model.onnx"], providers=["CPUExecutionProvider"])
    (outputs,) = session.run(None, {"features": data.features.astype(np.float32)})
    assert np.abs(outputs[:, 0] - await backend.predict(model, data.features)).max() <= 1e-5
    again = await backend.serialize(model, data.features[:64])
    assert again.files == serialized.files  # equal models, equal bytes: .keras and .onnx alike
    unverified = await backend.serialize(model)
    assert "model.onnx" not in unverified.files and "no sample" in unverified.notes["onnx"]["skipped"]


NO_TENSORFLOW = """
import asyncio, sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
import numpy as np
from adapters.keras.backend import KerasModelBackend
from adapters.keras.bundle import KerasBundle
from domain.types.dataset import Dataset
from domain.types.training import SourceSpec, Task, TrainingSpec

backend = KerasModelBackend()
assert backend.algorithms()[0].name == "keras_mlp"
assert backend.validate("keras_mlp", Task.REGRESSION, {})["hidden_layers"] == [64, 64]
backend.library_versions()
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "imported at start"

async def progress(stage, fraction, extra):
    pass

async def main():
    pool = ProcessPoolExecutor(1, mp_context=get_context("forkserver"))
    backend = KerasModelBackend(pool)
    x = np.random.default_rng(0).normal(size=(64, 2))
    spec = TrainingSpec("m", "keras_mlp", Task.REGRESSION, SourceSpec("t", ("a", "b"), "y"), {"epochs": 1})
    model = await backend.fit(spec, Dataset(x, x[:, 0], ("a", "b")), progress)
    await backend.predict(model, x)
    await backend.deserialize("keras_mlp", (await backend.serialize(model, x)).files)
    backend.close()
    pool.shutdown()

if __name__ == "__main__":
    asyncio.run(main())
    assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "imported by the parent"
    print("no tensorflow here")
"""


def test_the_parent_process_never_imports_tensorflow(tmp_path: Path) -> None:
    script = tmp_path / "no_tensorflow.py"  # a file, so the forkserver can re-import its __main__
    script.write_text(textwrap.dedent(NO_TENSORFLOW))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no tensorflow here" in result.stdout


async def test_many_classes_get_a_softmax_and_come_back_as_labels(backend: KerasModelBackend) -> None:
    x = np.random.default_rng(5).normal(size=(240, 3))
    labels = np.array(["low", "mid", "high"])[np.digitize(x[:, 0], [-0.5, 0.5])]
    data = Dataset(x, labels, ("a", "b", "c"))
    model = await backend.fit(spec(Task.CLASSIFICATION), data, _ignore)
    assert set(np.unique(await backend.predict(model, x))) <= {"low", "mid", "high"}
    metrics = await backend.evaluate(model, spec(Task.CLASSIFICATION), data)
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["log_loss"] > 0


async def test_early_stopping_ends_a_diverging_fit(backend: KerasModelBackend) -> None:
    diverging = spec(Task.REGRESSION, epochs=40, optimizer="sgd", learning_rate=5.0, early_stopping={"patience": 1})
    model = await backend.fit(diverging, dataset(Task.REGRESSION), _ignore)
    assert isinstance(model, KerasBundle)
    assert model.history["stopped"] == "early_stopping" and model.history["epochs_run"] < 40


async def test_unusable_data_is_refused_before_any_worker_starts() -> None:
    backend = KerasModelBackend(None)
    one_class = Dataset(np.zeros((10, 2)), np.ones(10), ("a", "b"))
    with pytest.raises(UnusableTrainingData, match="2 distinct labels"):
        await backend.fit(spec(Task.CLASSIFICATION), one_class, _ignore)
    with pytest.raises(UnusableTrainingData, match="NaN"):
        await backend.fit(spec(Task.REGRESSION), Dataset(np.full((10, 2), np.nan), np.ones(10), ("a", "b")), _ignore)


async def test_corrupt_or_unsafe_files_are_refused(backend: KerasModelBackend) -> None:
    model = await backend.fit(spec(Task.REGRESSION, epochs=1), dataset(Task.REGRESSION), _ignore)
    files = dict((await backend.serialize(model)).files)
    with pytest.raises(PermanentError, match=r"missing: model\.json"):
        await backend.deserialize("keras_mlp", {"model.keras": files["model.keras"]})
    with pytest.raises(PermanentError, match="cannot load"):
        await backend.deserialize("keras_mlp", {**files, "model.keras": files["model.keras"][:500]})
    lambda_activation = '{"module": null, "class_name": "__lambda__", "config": {"value": ["AA==", null, null]}}'
    unsafe = _edit_config(files["model.keras"], '"activation": "relu"', f'"activation": {lambda_activation}')
    # safe mode: a model file cannot make this process run code it carries
    with pytest.raises(PermanentError, match="deserialization of a Python lambda"):
        await backend.deserialize("keras_mlp", {**files, "model.keras": unsafe})


def test_hyperparameters_get_defaults_and_bounds(backend: KerasModelBackend) -> None:
    params = backend.validate("keras_mlp", Task.CLASSIFICATION, {"early_stopping": {"patience": 2}})
    assert params["epochs"] == 20 and params["batch_size"] == 256 and params["export"] == []
    assert params["early_stopping"] == {"patience": 2, "monitor": "val_loss", "restore_best_weights": True}
    for wrong in ({"dropout": 0.95}, {"activation": "swish"}, {"export": ["onnx"]}, {"hidden_layers": [0]}):
        with pytest.raises(InvalidSpec):
            backend.validate("keras_mlp", Task.REGRESSION, wrong)


def _edit_config(archive: bytes, old: str, new: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(archive))
    assert old.encode() in source.read("config.json")
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(
                info.filename,
                content.replace(old.encode(), new.encode(), 1) if info.filename == "config.json" else content,
            )
    return output.getvalue()


async def _ignore(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
    return None
