"""SklearnModelBackend: fits in a process pool so the daemon's event loop never stalls."""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from collections.abc import Mapping
from concurrent.futures import Executor
from importlib.metadata import version
from typing import Any

import anyio
import numpy as np
import skops.io as sio
from pydantic import BaseModel, ValidationError

from adapters.sklearn import estimators
from adapters.sklearn.hyperparameters import DecisionTreeClassifierParams, DecisionTreeRegressorParams
from domain.types.dataset import Dataset
from domain.types.errors import InvalidSpec, PermanentError
from domain.types.models import AlgorithmInfo, SerializedModel
from domain.types.training import Task, TrainingSpec
from ports.model_backend import ProgressCallback

MODEL_FILE = "model.skops"
PARAMS: dict[tuple[str, Task], type[BaseModel]] = {
    ("decision_tree", Task.CLASSIFICATION): DecisionTreeClassifierParams,
    ("decision_tree", Task.REGRESSION): DecisionTreeRegressorParams,
}
# skops refuses to load any type outside this list: a tampered file cannot run code.
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]


class SklearnModelBackend:
    def __init__(self, executor: Executor | None = None) -> None:
        self._executor = executor  # None: the default thread pool (tests, small jobs)

    def algorithms(self) -> list[AlgorithmInfo]:
        names = sorted({name for name, _ in PARAMS})
        return [self._info(name) for name in names]

    def validate(self, algorithm: str, task: Task, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        model = PARAMS.get((algorithm, task))
        if model is None:
            known = sorted({f"{a} ({t.value})" for a, t in PARAMS})
            raise InvalidSpec(
                f"unknown algorithm {algorithm!r} for task {task.value!r}; known: {', '.join(known)}",
                {"field": "algorithm", "known": known},
            )
        try:
            return model.model_validate(dict(hyperparameters)).model_dump()
        except ValidationError as exc:
            errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
            summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            raise InvalidSpec(f"invalid hyperparameters: {summary}", {"errors": errors}) from exc

    async def fit(self, spec: TrainingSpec, train: Dataset, progress: ProgressCallback) -> object:
        params = self.validate(spec.algorithm, spec.task, spec.hyperparameters)
        return await self._offload(
            estimators.fit_estimator, spec.algorithm, spec.task.value, params, train.features, train.labels
        )

    async def evaluate(self, model: object, spec: TrainingSpec, holdout: Dataset) -> dict[str, float]:
        return await self._offload(
            estimators.evaluate_estimator, model, spec.task.value, holdout.features, holdout.labels
        )

    async def predict(self, model: object, features: np.ndarray) -> np.ndarray:
        return await anyio.to_thread.run_sync(model.predict, features)  # type: ignore[attr-defined]

    async def serialize(self, model: object, sample: np.ndarray | None = None) -> SerializedModel:
        data = await anyio.to_thread.run_sync(lambda: _reproducible(sio.dumps(model)))
        return SerializedModel({MODEL_FILE: data})

    async def deserialize(self, algorithm: str, files: Mapping[str, bytes]) -> object:
        data = files[MODEL_FILE]
        untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in TRUSTED_TYPES]
        if untrusted:
            raise PermanentError(f"refusing to load untrusted types: {', '.join(untrusted)}", {"types": untrusted})
        return await anyio.to_thread.run_sync(lambda: sio.loads(data, trusted=TRUSTED_TYPES))

    def library_versions(self) -> dict[str, str]:
        return {name: version(name) for name in ("scikit-learn", "skops", "numpy", "scipy")}

    async def _offload(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    @staticmethod
    def _info(name: str) -> AlgorithmInfo:
        tasks = tuple(t for a, t in PARAMS if a == name)
        schemas = {t.value: PARAMS[(name, t)].model_json_schema() for t in tasks}
        return AlgorithmInfo(name=name, family="scikit-learn", tasks=tasks, hyperparameters_schema=schemas)


def _reproducible(archive: bytes) -> bytes:
    """Equal models give equal bytes, so a re-run (or a run under injected faults) yields a
    byte-identical artifact. skops names array files after object ids and stamps entries with the
    current time: renumber arrays and memo ids in order of first mention and fix the stamps."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    schema = source.read("schema.json").decode()
    arrays = list(dict.fromkeys(re.findall(r'"(\d+\.npy)"', schema)))
    renamed = {name: f"array{index}.npy" for index, name in enumerate(arrays)}
    schema = re.sub(r'"(\d+\.npy)"', lambda m: f'"{renamed.get(m.group(1), m.group(1))}"', schema)
    ids = {old: str(new) for new, old in enumerate(dict.fromkeys(re.findall(r'"__id__": (\d+)', schema)))}
    schema = re.sub(r'"__id__": (\d+)', lambda m: f'"__id__": {ids[m.group(1)]}', schema)
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in sorted(source.infolist(), key=lambda i: renamed.get(i.filename, i.filename)):
            name = renamed.get(info.filename, info.filename)
            data = schema.encode() if name == "schema.json" else source.read(info)
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return output.getvalue()
