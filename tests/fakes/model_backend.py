"""MajorityModelBackend: a tiny but real ModelBackend (predicts the majority class or the mean).

It lets unit tests exercise the training service without scikit-learn, and can be told to
raise at a given step to test failure handling.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from domain.types.dataset import Dataset
from domain.types.errors import InvalidSpec
from domain.types.models import AlgorithmInfo, SerializedModel
from domain.types.training import Task, TrainingSpec
from ports.model_backend import ProgressCallback


class MajorityModelBackend:
    def __init__(self) -> None:
        self.on_fit: Callable[[], Any] | None = None
        self.fits = 0
        self.predict_minority = False  # makes the next fits deliberately worse (retraining tests)

    def algorithms(self) -> list[AlgorithmInfo]:
        return [AlgorithmInfo("majority", "fake", (Task.CLASSIFICATION, Task.REGRESSION), {"type": "object"})]

    def validate(self, algorithm: str, task: Task, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        if algorithm != "majority":
            raise InvalidSpec(f"unknown algorithm {algorithm!r}", {"field": "algorithm"})
        if set(hyperparameters) - {"bias"}:
            raise InvalidSpec("unknown hyperparameter", {"field": "hyperparameters"})
        return {"bias": 0.0, **hyperparameters}

    async def fit(self, spec: TrainingSpec, train: Dataset, progress: ProgressCallback) -> object:
        self.fits += 1
        await progress("fit", 0.5, {"epoch": 1})
        if self.on_fit is not None:
            result = self.on_fit()
            if hasattr(result, "__await__"):
                await result
        if spec.task is Task.CLASSIFICATION:
            values, counts = np.unique(train.labels, return_counts=True)
            pick = np.argmin(counts) if self.predict_minority else np.argmax(counts)
            return {"task": "classification", "value": values[pick].item()}
        return {"task": "regression", "value": float(np.mean(train.labels))}

    async def evaluate(self, model: object, spec: TrainingSpec, holdout: Dataset) -> dict[str, float]:
        predicted = await self.predict(model, holdout.features)
        if spec.task is Task.CLASSIFICATION:
            return {"accuracy": float(np.mean(predicted == holdout.labels))}
        return {"rmse": float(np.sqrt(np.mean((predicted - holdout.labels) ** 2)))}

    async def predict(self, model: object, features: np.ndarray) -> np.ndarray:
        assert isinstance(model, dict)
        return np.full(features.shape[0], model["value"])

    async def serialize(self, model: object, sample: np.ndarray | None = None) -> SerializedModel:
        return SerializedModel({"model.json": json.dumps(model).encode()})

    async def deserialize(self, algorithm: str, files: Mapping[str, bytes]) -> object:
        return json.loads(files["model.json"])

    def library_versions(self) -> dict[str, str]:
        return {"numpy": np.__version__}
