"""SklearnModelBackend: fits in a process pool so the daemon's event loop never stalls.

Fits run through `ProcessJobs`, which streams each step's progress back to the job and stops
the child at its next step when the job's progress callback raises (JobCancelled). Evaluation
and export run in the pool too; prediction runs in a thread (sklearn releases the GIL in the
tree traversal, and a pickled round trip would cost more than it saves).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from concurrent.futures import Executor
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import anyio
import numpy as np
from pydantic import BaseModel

from adapters._shared.hyperparameters import validate_hyperparameters
from adapters._shared.process_jobs import ProcessJobs
from adapters.sklearn import hyperparameters as hp
from adapters.sklearn import model_files
from domain.types.dataset import Dataset
from domain.types.models import AlgorithmInfo, SerializedModel
from domain.types.training import Task, TrainingSpec
from ports.model_backend import ProgressCallback

MODEL_FILE = model_files.MODEL_FILE
PARAMS: dict[tuple[str, Task], type[BaseModel]] = {
    ("decision_tree", Task.CLASSIFICATION): hp.DecisionTreeClassifierParams,
    ("decision_tree", Task.REGRESSION): hp.DecisionTreeRegressorParams,
    ("random_forest", Task.CLASSIFICATION): hp.RandomForestClassifierParams,
    ("random_forest", Task.REGRESSION): hp.RandomForestRegressorParams,
    ("gradient_boosting", Task.CLASSIFICATION): hp.HistGradientBoostingClassifierParams,
    ("gradient_boosting", Task.REGRESSION): hp.HistGradientBoostingRegressorParams,
}


def _fit_in_steps(*args: Any, **kwargs: Any) -> Any:
    # Pool-side trampolines: the daemon imports this module for validation and listing, and only
    # the processes that fit or evaluate import scikit-learn (~150 MiB, ~1 s).
    from adapters.sklearn import fitting

    return fitting.fit_in_steps(*args, **kwargs)


def _evaluate(*args: Any) -> dict[str, float]:
    from adapters.sklearn import estimators

    return estimators.evaluate_estimator(*args)


class SklearnModelBackend:
    def __init__(self, executor: Executor | None = None) -> None:
        self._executor = executor  # None: the default thread pool (tests, small jobs)
        self._jobs = ProcessJobs(executor)

    def algorithms(self) -> list[AlgorithmInfo]:
        names = sorted({name for name, _ in PARAMS})
        return [self._info(name) for name in names]

    def validate(self, algorithm: str, task: Task, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        return validate_hyperparameters(PARAMS, algorithm, task, hyperparameters)

    async def fit(self, spec: TrainingSpec, train: Dataset, progress: ProgressCallback) -> object:
        params = self.validate(spec.algorithm, spec.task, spec.hyperparameters)
        return await self._jobs.run(
            _fit_in_steps, spec.algorithm, spec.task.value, params, train.features, train.labels,
            progress=progress,
        )

    async def evaluate(self, model: object, spec: TrainingSpec, holdout: Dataset) -> dict[str, float]:
        return await self._offload(
            _evaluate, model, spec.task.value, holdout.features, holdout.labels
        )

    async def predict(self, model: object, features: np.ndarray) -> np.ndarray:
        return await anyio.to_thread.run_sync(model.predict, features)  # type: ignore[attr-defined]

    async def serialize(self, model: object, sample: np.ndarray | None = None) -> SerializedModel:
        files, notes = await self._offload(model_files.write_files, model, sample)
        return SerializedModel(files, notes)

    async def deserialize(self, algorithm: str, files: Mapping[str, bytes]) -> object:
        return await anyio.to_thread.run_sync(model_files.read_skops, algorithm, files[MODEL_FILE])

    def library_versions(self) -> dict[str, str]:
        versions = {name: version(name) for name in ("scikit-learn", "skops", "numpy", "scipy")}
        for name in ("skl2onnx", "onnx", "onnxruntime"):  # optional: without them no model.onnx is written
            with contextlib.suppress(PackageNotFoundError):
                versions[name] = version(name)
        return versions

    def close(self) -> None:
        """Stops the progress channel's manager process, if a fit ever started one."""
        self._jobs.close()

    async def _offload(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    @staticmethod
    def _info(name: str) -> AlgorithmInfo:
        tasks = tuple(t for a, t in PARAMS if a == name)
        schemas = {t.value: PARAMS[(name, t)].model_json_schema() for t in tasks}
        return AlgorithmInfo(name=name, family="scikit-learn", tasks=tasks, hyperparameters_schema=schemas)
