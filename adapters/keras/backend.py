"""KerasModelBackend: Keras MLPs fitted, evaluated and converted in a process pool.

This process never imports TensorFlow (~3 s, ~640 MiB): listing and validating algorithms is
pure pydantic, and every step that needs Keras runs in a pool worker, which imports it once.
The fitted-model handle is a picklable `KerasBundle` of bytes, never a live Keras object.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from pydantic import BaseModel

from adapters._shared.hyperparameters import validate_hyperparameters
from adapters._shared.process_jobs import ProcessJobs
from adapters.keras import inference, onnx_export, training
from adapters.keras.bundle import KERAS_FILE, METADATA_FILE, KerasBundle
from adapters.keras.hyperparameters import KerasMlpParams
from domain.types.dataset import Dataset
from domain.types.errors import InvalidSpec, PermanentError, UnusableTrainingData
from domain.types.models import AlgorithmInfo, SerializedModel
from domain.types.training import Task, TrainingSpec
from ports.model_backend import ProgressCallback

ALGORITHM = "keras_mlp"
PARAMS: dict[tuple[str, Task], type[BaseModel]] = {
    (ALGORITHM, Task.CLASSIFICATION): KerasMlpParams,
    (ALGORITHM, Task.REGRESSION): KerasMlpParams,
}
FLOAT32_MAX = float(np.finfo(np.float32).max)
LIBRARIES = ("keras", "tensorflow-cpu", "tensorflow", "h5py", "numpy", "tf2onnx", "onnx", "onnxruntime")


class KerasModelBackend:
    def __init__(self, executor: Executor | None = None) -> None:
        # None runs the work in a thread of THIS process (tests): TensorFlow then loads here.
        self._executor = executor
        self._jobs = ProcessJobs(executor)

    def close(self) -> None:
        """Stops the manager process that carries fit progress (started on the first fit)."""
        self._jobs.close()

    def algorithms(self) -> list[AlgorithmInfo]:
        tasks = tuple(task for name, task in PARAMS if name == ALGORITHM)
        schemas = {task.value: PARAMS[(ALGORITHM, task)].model_json_schema() for task in tasks}
        return [AlgorithmInfo(name=ALGORITHM, family="keras", tasks=tasks, hyperparameters_schema=schemas)]

    def validate(self, algorithm: str, task: Task, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        return validate_hyperparameters(PARAMS, algorithm, task, hyperparameters)

    async def fit(self, spec: TrainingSpec, train: Dataset, progress: ProgressCallback) -> object:
        params = self.validate(spec.algorithm, spec.task, spec.hyperparameters)
        _check_trainable(spec.task, train)
        return await self._jobs.run(
            training.fit_bundle, spec.task.value, params, train.features, train.labels, progress=progress
        )

    async def evaluate(self, model: object, spec: TrainingSpec, holdout: Dataset) -> dict[str, float]:
        bundle = _bundle(model)
        if bundle.history.get("diverged"):  # NaN outputs: every metric would be a library error instead
            raise UnusableTrainingData(
                "keras_mlp training diverged (the model outputs NaN or infinite values): lower "
                f"hyperparameters.learning_rate{_label_scale(spec.task, holdout)}", {"algorithm": ALGORITHM})
        result: dict[str, float] = await self._offload(inference.evaluate, bundle, holdout.features, holdout.labels)
        return result

    async def predict(self, model: object, features: np.ndarray) -> np.ndarray:
        result: np.ndarray = await self._offload(inference.predict, _bundle(model), features)
        return result

    async def serialize(self, model: object, sample: np.ndarray | None = None) -> SerializedModel:
        bundle = _bundle(model)
        if sample is None or len(sample) == 0:  # an unverified ONNX file could be silently wrong: leave it out
            return SerializedModel(bundle.files(), {"onnx": {"skipped": "no sample to verify the export against"}})
        files, notes = await self._offload(onnx_export.files_with_onnx, bundle, sample)
        return SerializedModel(files, notes)

    async def deserialize(self, algorithm: str, files: Mapping[str, bytes]) -> object:
        if algorithm != ALGORITHM:
            raise InvalidSpec(f"unknown algorithm {algorithm!r}; known: {ALGORITHM}", {"field": "algorithm"})
        missing = sorted({KERAS_FILE, METADATA_FILE} - set(files))
        if missing:
            raise PermanentError(f"keras model files missing: {', '.join(missing)}", {"missing": missing})
        try:
            return await self._offload(inference.open_files, dict(files))
        except Exception as exc:  # corrupt, tampered (safe mode) or inconsistent files: do not retry
            raise PermanentError(f"cannot load keras model: {exc}", {"algorithm": algorithm}) from exc

    def library_versions(self) -> dict[str, str]:
        versions = {}
        for name in LIBRARIES:
            try:
                versions[name] = version(name)
            except PackageNotFoundError:  # tensorflow-cpu and tensorflow are alternatives
                continue
        return versions

    async def _offload(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)


def _bundle(model: object) -> KerasBundle:
    if not isinstance(model, KerasBundle):
        raise TypeError(f"not a keras model handle: {type(model).__name__}")
    return model


def _check_trainable(task: Task, train: Dataset) -> None:
    """Fail fast, in this process, on data no network can fit (rather than after a TF start-up)."""
    features = np.asarray(train.features)
    if features.ndim != 2 or features.shape[1] == 0 or train.rows < 2:
        raise UnusableTrainingData(f"need at least 2 rows and 1 feature column, got shape {features.shape}")
    if not np.isfinite(features).all():
        raise UnusableTrainingData("features contain NaN or infinite values")
    with np.errstate(over="ignore"):  # an overflow here is what the check is looking for
        variances = np.var(features, axis=0)
    spread = [name for name, v in zip(train.feature_names, variances, strict=True) if not v <= FLOAT32_MAX]
    if spread:  # the Normalization layer keeps its variance in float32: infinite, it zeroes the feature
        raise UnusableTrainingData(f"feature(s) {', '.join(spread)} spread too widely for keras_mlp (standard "
                                   "deviation above 1.8e19): rescale them", {"columns": spread})
    if task is Task.CLASSIFICATION and len(np.unique(train.labels)) < 2:
        raise UnusableTrainingData("classification needs at least 2 distinct labels")
    if task is Task.REGRESSION and not np.isfinite(np.asarray(train.labels, dtype=np.float64)).all():
        raise UnusableTrainingData("regression labels contain NaN or infinite values")


def _label_scale(task: Task, data: Dataset) -> str:
    """For regression, the label's size: the loss squares it in float32, so a huge label overflows."""
    if task is not Task.REGRESSION:
        return ""
    largest = float(np.max(np.abs(np.asarray(data.labels, dtype=np.float64))))
    return f", or rescale the label (largest |value| {largest:.3g})"
