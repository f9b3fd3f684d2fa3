"""ModelBackend port: HOW models are fitted, evaluated and serialized (the domain decides WHAT)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from domain.types.dataset import Dataset
from domain.types.models import AlgorithmInfo
from domain.types.training import Task, TrainingSpec

# Called with (stage, fraction in [0, 1], extra data such as epoch metrics).
ProgressCallback = Callable[[str, float, Mapping[str, Any]], Awaitable[None]]


class ModelBackend(Protocol):
    """Fitting runs off the event loop (process or thread pool) so the daemon stays responsive.

    A fitted model is an opaque handle owned by the backend. `serialize` returns file name ->
    bytes and never uses pickle; `deserialize` refuses types it does not trust.
    Errors: InvalidSpec for bad hyperparameters; UnusableTrainingData when the data cannot be
    fitted; PermanentError for corrupt files.
    """

    def algorithms(self) -> Sequence[AlgorithmInfo]: ...

    def validate(self, algorithm: str, task: Task, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        """Hyperparameters with defaults filled in, or InvalidSpec naming what to fix."""
        ...

    async def fit(self, spec: TrainingSpec, train: Dataset, progress: ProgressCallback) -> object: ...

    async def evaluate(self, model: object, spec: TrainingSpec, holdout: Dataset) -> dict[str, float]: ...

    async def predict(self, model: object, features: npt.NDArray[np.float64]) -> npt.NDArray[Any]: ...

    async def serialize(self, model: object) -> dict[str, bytes]: ...

    async def deserialize(self, algorithm: str, files: Mapping[str, bytes]) -> object: ...

    def library_versions(self) -> dict[str, str]: ...
