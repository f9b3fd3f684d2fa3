"""KerasModelBackend fitting in a real process pool: a progress report per epoch with its losses,
cancellation that stops the child soon after, string labels for more than two classes, early
stopping, data refused before any worker starts, and hyperparameter defaults and bounds."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters._shared.process_jobs import ProcessJobs, Reporter
from adapters.keras import training
from adapters.keras.backend import KerasModelBackend
from adapters.keras.bundle import KerasBundle
from domain.types.dataset import Dataset
from domain.types.errors import InvalidSpec, JobCancelled, UnusableTrainingData
from domain.types.training import Task
from tests.integration.keras.keras_support import SMALL, dataset, ignore_progress, spec

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="tensorflow is not installed"),
]


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


async def test_many_classes_get_a_softmax_and_come_back_as_labels(backend: KerasModelBackend) -> None:
    x = np.random.default_rng(5).normal(size=(240, 3))
    labels = np.array(["low", "mid", "high"])[np.digitize(x[:, 0], [-0.5, 0.5])]
    data = Dataset(x, labels, ("a", "b", "c"))
    model = await backend.fit(spec(Task.CLASSIFICATION), data, ignore_progress)
    assert set(np.unique(await backend.predict(model, x))) <= {"low", "mid", "high"}
    metrics = await backend.evaluate(model, spec(Task.CLASSIFICATION), data)
    assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["log_loss"] > 0


async def test_early_stopping_ends_a_diverging_fit(backend: KerasModelBackend) -> None:
    diverging = spec(Task.REGRESSION, epochs=40, optimizer="sgd", learning_rate=5.0, early_stopping={"patience": 1})
    model = await backend.fit(diverging, dataset(Task.REGRESSION), ignore_progress)
    assert isinstance(model, KerasBundle)
    assert model.history["stopped"] == "early_stopping" and model.history["epochs_run"] < 40


async def test_unusable_data_is_refused_before_any_worker_starts() -> None:
    backend = KerasModelBackend(None)
    one_class = Dataset(np.zeros((10, 2)), np.ones(10), ("a", "b"))
    with pytest.raises(UnusableTrainingData, match="2 distinct labels"):
        await backend.fit(spec(Task.CLASSIFICATION), one_class, ignore_progress)
    with pytest.raises(UnusableTrainingData, match="NaN"):
        await backend.fit(
            spec(Task.REGRESSION), Dataset(np.full((10, 2), np.nan), np.ones(10), ("a", "b")), ignore_progress
        )


def test_hyperparameters_get_defaults_and_bounds(backend: KerasModelBackend) -> None:
    params = backend.validate("keras_mlp", Task.CLASSIFICATION, {"early_stopping": {"patience": 2}})
    assert params["epochs"] == 20 and params["batch_size"] == 256 and params["export"] == []
    assert params["early_stopping"] == {"patience": 2, "monitor": "val_loss", "restore_best_weights": True}
    for wrong in ({"dropout": 0.95}, {"activation": "swish"}, {"export": ["onnx"]}, {"hidden_layers": [0]}):
        with pytest.raises(InvalidSpec):
            backend.validate("keras_mlp", Task.REGRESSION, wrong)
