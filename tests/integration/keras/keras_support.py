"""Helpers shared by the KerasModelBackend suites: small, fast hyperparameters, seeded datasets for
classification (string labels) and regression, a training spec for either, and a progress
callback that ignores its reports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from domain.types.dataset import Dataset
from domain.types.training import SourceSpec, Task, TrainingSpec

SMALL = {"epochs": 3, "hidden_layers": [8], "batch_size": 32}


def dataset(task: Task, rows: int = 240) -> Dataset:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(rows, 3))
    if task is Task.CLASSIFICATION:  # string labels: the backend maps them to class indices and back
        return Dataset(x, np.where(x[:, 0] + 0.5 * x[:, 1] > 0, "yes", "no"), ("a", "b", "c"))
    return Dataset(x, x @ np.array([2.0, -1.0, 0.5]) + 1.0, ("a", "b", "c"))


def spec(task: Task, **hyperparameters: Any) -> TrainingSpec:
    source = SourceSpec("t", ("a", "b", "c"), "y")
    return TrainingSpec("m", "keras_mlp", task, source, {**SMALL, **hyperparameters})


async def ignore_progress(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
    return None
