"""Runs inside a pool worker: load a bundle's .keras file (safe mode, cached) to predict and evaluate."""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from adapters._shared.metrics import classification_metrics, regression_metrics
from adapters.keras.bundle import KerasBundle
from adapters.keras.training import load_keras, portable_errors

BATCH_ROWS = 65_536  # bounds memory; model.predict() would add ~50 ms of overhead per call
CACHED_MODELS = 4
# per worker: sha256 of the .keras file -> (live model, its forward pass as one traced tf.function)
_models: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_models_lock = threading.Lock()  # without a pool (tests) several threads share this cache


def load_model(keras_file: bytes) -> Any:
    """The live model for these bytes; a worker that predicts repeatedly loads each model once."""
    return _loaded(keras_file)[0]


def _loaded(keras_file: bytes) -> tuple[Any, Any]:
    with _models_lock:
        return _load_into_cache(keras_file)


def _load_into_cache(keras_file: bytes) -> tuple[Any, Any]:
    digest = hashlib.sha256(keras_file).hexdigest()
    if digest in _models:
        _models.move_to_end(digest)
        return _models[digest]
    keras = load_keras()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "model.keras")
        path.write_bytes(keras_file)
        # safe_mode refuses Lambda layers and other config that could run arbitrary code
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    _models[digest] = (model, _forward(model))
    while len(_models) > CACHED_MODELS:
        _models.popitem(last=False)
    return _models[digest]


def _forward(model: Any) -> Any:
    """One trace for every batch size: predict_on_batch retraces on each new shape (~50 ms each),
    which micro-batches of varying size would pay again and again."""
    import tensorflow as tf

    signature = [tf.TensorSpec((None, model.input_shape[-1]), tf.float32)]
    return tf.function(lambda x: model(x, training=False), input_signature=signature)


def raw_outputs(bundle: KerasBundle, x: np.ndarray) -> np.ndarray:
    """What the network returns (probabilities or values), float32, in chunks."""
    model, forward = _loaded(bundle.keras_file)
    x = np.asarray(x, dtype=np.float32)
    chunks = [np.asarray(forward(x[start : start + BATCH_ROWS])) for start in range(0, len(x), BATCH_ROWS)]
    return np.concatenate(chunks) if chunks else np.zeros((0, model.output_shape[-1]), dtype=np.float32)


def probabilities(bundle: KerasBundle, outputs: np.ndarray) -> np.ndarray:
    """One column per class: a binary model has a single sigmoid unit for the second class."""
    if len(bundle.classes) == 2:
        return np.hstack([1.0 - outputs, outputs])
    return outputs


@portable_errors
def predict(bundle: KerasBundle, x: np.ndarray) -> np.ndarray:
    outputs = raw_outputs(bundle, x).astype(np.float64)
    if bundle.task == "regression":
        return outputs[:, 0]
    labels: np.ndarray = bundle.class_array()[np.argmax(probabilities(bundle, outputs), axis=1)]
    return labels


@portable_errors
def evaluate(bundle: KerasBundle, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    outputs = raw_outputs(bundle, x).astype(np.float64)
    if bundle.task == "regression":
        return regression_metrics(y, outputs[:, 0])
    return classification_metrics(y, probabilities(bundle, outputs), bundle.class_array())


@portable_errors
def open_files(files: Mapping[str, bytes]) -> KerasBundle:
    """Check that the files load (safe mode) and agree with their metadata; ValueError if not."""
    bundle = KerasBundle.from_files(files)
    model = load_model(bundle.keras_file)
    expected = 1 if len(bundle.classes) <= 2 else len(bundle.classes)
    if model.input_shape[-1] != bundle.features or model.output_shape[-1] != expected:
        raise ValueError(
            f"model shape {model.input_shape} -> {model.output_shape} does not match model.json "
            f"({bundle.features} features, {len(bundle.classes)} classes)"
        )
    return bundle
