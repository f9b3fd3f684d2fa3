"""RoutingModelBackend: one ModelBackend over several (scikit-learn, Keras...), chosen by algorithm.

Fitted models are wrapped with their algorithm so later calls reach the backend that made them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.types.dataset import Dataset
from domain.types.errors import InvalidSpec
from domain.types.models import AlgorithmInfo, SerializedModel
from domain.types.training import Task, TrainingSpec
from ports.model_backend import ModelBackend, ProgressCallback


@dataclass(frozen=True)
class RoutedModel:
    algorithm: str
    inner: object


class RoutingModelBackend:
    def __init__(self, backends: Sequence[ModelBackend]) -> None:
        self._backends = backends
        self._by_algorithm = {a.name: b for b in backends for a in b.algorithms()}

    def algorithms(self) -> list[AlgorithmInfo]:
        return sorted((a for b in self._backends for a in b.algorithms()), key=lambda a: a.name)

    def validate(self, algorithm: str, task: Task, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        return self._backend(algorithm).validate(algorithm, task, hyperparameters)

    async def fit(self, spec: TrainingSpec, train: Dataset, progress: ProgressCallback) -> object:
        return RoutedModel(spec.algorithm, await self._backend(spec.algorithm).fit(spec, train, progress))

    async def evaluate(self, model: object, spec: TrainingSpec, holdout: Dataset) -> dict[str, float]:
        routed = _routed(model)
        return await self._backend(routed.algorithm).evaluate(routed.inner, spec, holdout)

    async def predict(self, model: object, features: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
        routed = _routed(model)
        return await self._backend(routed.algorithm).predict(routed.inner, features)

    async def serialize(self, model: object, sample: npt.NDArray[np.float64] | None = None) -> SerializedModel:
        routed = _routed(model)
        return await self._backend(routed.algorithm).serialize(routed.inner, sample)

    async def deserialize(self, algorithm: str, files: Mapping[str, bytes]) -> object:
        return RoutedModel(algorithm, await self._backend(algorithm).deserialize(algorithm, files))

    def library_versions(self) -> dict[str, str]:
        return {k: v for b in self._backends for k, v in b.library_versions().items()}

    def _backend(self, algorithm: str) -> ModelBackend:
        backend = self._by_algorithm.get(algorithm)
        if backend is None:
            known = ", ".join(sorted(self._by_algorithm))
            raise InvalidSpec(f"unknown algorithm {algorithm!r}; known: {known}", {"field": "algorithm"})
        return backend


def _routed(model: object) -> RoutedModel:
    if not isinstance(model, RoutedModel):
        raise TypeError("model was not produced by RoutingModelBackend")
    return model
