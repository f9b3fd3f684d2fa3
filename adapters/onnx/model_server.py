"""OnnxModelServer: serves a version's model.onnx with ONNX Runtime, one session run per batch.

Never imports TensorFlow or scikit-learn: the inference process stays small and starts fast.
Three output layouts are understood, as the exporters write them: scikit-learn classifiers
(`label` + `probabilities`), scikit-learn regressors (`variable`), and Keras (one output:
probabilities, a single sigmoid unit for binary models, or values for regression; the class
labels come from the version's model.json).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from domain.types.errors import PermanentError
from domain.types.models import Manifest
from domain.types.streams import Prediction

if TYPE_CHECKING:
    import onnxruntime as ort

ONNX_FILE = "model.onnx"


class OnnxPredictor:
    def __init__(self, session: ort.InferenceSession, version: int, task: str, classes: list[Any]) -> None:
        self.version, self._session, self._task, self._classes = version, session, task, classes
        self._input = session.get_inputs()[0].name
        self._outputs = [o.name for o in session.get_outputs()]

    async def predict(self, features: np.ndarray) -> list[Prediction]:
        # A batch is microseconds to milliseconds of work: cheaper inline than a thread hop.
        values = self._session.run(None, {self._input: np.ascontiguousarray(features, dtype=np.float32)})
        out = dict(zip(self._outputs, values, strict=True))
        if "probabilities" in out:
            return _classified(np.asarray(out["probabilities"]), list(np.asarray(out["label"]).tolist()))
        if "variable" in out or self._task == "regression":
            column = np.asarray(out.get("variable", values[0]), dtype=np.float64).reshape(len(features), -1)[:, 0]
            return [Prediction(v, v) for v in column.tolist()]
        return self._keras_classified(np.asarray(values[0], dtype=np.float64).reshape(len(features), -1))

    def _keras_classified(self, outputs: np.ndarray) -> list[Prediction]:
        probabilities = np.hstack([1.0 - outputs, outputs]) if outputs.shape[1] == 1 else outputs
        classes = self._classes or list(range(probabilities.shape[1]))
        labels = [classes[i] for i in np.argmax(probabilities, axis=1).tolist()]
        return _classified(probabilities, labels)


def _classified(probabilities: np.ndarray, labels: list[Any]) -> list[Prediction]:
    """Score: the positive class's probability for binary models, else the top probability."""
    scores = probabilities[:, 1] if probabilities.shape[1] == 2 else probabilities.max(axis=1)
    return [Prediction(s, label) for s, label in zip(scores.astype(np.float64).tolist(), labels, strict=True)]


class OnnxModelServer:
    def __init__(self, threads: int = 1) -> None:
        self._threads = threads  # one consumer per process: more threads only contend with the loop

    async def load(self, manifest: Manifest, files: Mapping[str, bytes]) -> OnnxPredictor | None:
        if ONNX_FILE not in files:
            return None
        import onnxruntime as ort  # here: only processes that serve a model load it (~45 MiB)

        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        try:
            session = ort.InferenceSession(files[ONNX_FILE], options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise PermanentError(f"{manifest.model_name} v{manifest.version}: unusable model.onnx: {exc}") from exc
        classes = json.loads(files["model.json"]).get("classes", []) if "model.json" in files else []
        return OnnxPredictor(session, manifest.version, str(manifest.spec.get("task", "classification")), classes)
