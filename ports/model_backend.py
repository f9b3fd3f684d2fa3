"""ModelBackend port: HOW models are fitted, evaluated and serialized (the domain decides WHAT)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from domain.types.dataset import Dataset
from domain.types.models import AlgorithmInfo, SerializedModel
from domain.types.training import Task, TrainingSpec

# Called with (stage, fraction in [0, 1], extra data such as epoch metrics).
ProgressCallback = Callable[[str, float, Mapping[str, Any]], Awaitable[None]]


class ModelBackend(Protocol):
    """Fitting runs off the event loop (process or thread pool) so the daemon stays responsive.

    A fitted model is an opaque handle owned by the backend. `serialize` never uses pickle;
    `deserialize` refuses types it does not trust. Progress callbacks may raise (JobCancelled):
    the backend then stops the fit at its next epoch or stage and lets the error propagate.
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

    async def serialize(self, model: object, sample: npt.NDArray[np.float64] | None = None) -> SerializedModel:
        """Files for the model. With `sample` (holdout features) every export that needs checking
        (ONNX) is verified to agree with the native model on it; one that does not convert or does
        not agree is left out and the reason recorded in `notes` — never a silently wrong file."""
        ...

    async def deserialize(self, algorithm: str, files: Mapping[str, bytes]) -> object: ...

    def library_versions(self) -> dict[str, str]: ...
