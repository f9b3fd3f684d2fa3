"""Runs inside a pool worker: build and fit a Keras MLP, reporting each epoch and stopping on cancel.

TensorFlow is imported here, lazily, on the first fit or load in the worker: importing this module
costs nothing. Functions take and return plain picklable values (numpy arrays, KerasBundle).
"""

from __future__ import annotations

import functools
import importlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import numpy as np

from adapters._shared.process_jobs import Reporter
from adapters.keras.bundle import KerasBundle, reproducible_archive

OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW"}
CHECK_ROWS = 1024  # fit rows whose outputs must be finite after the fit
Result = TypeVar("Result")


def portable_errors(function: Callable[..., Result]) -> Callable[..., Result]:
    """Re-raise vendor exceptions as RuntimeError: the parent may not be able to unpickle a
    TensorFlow error class (that would break the whole pool), and it must not import TF to try."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Result:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            if type(exc).__module__ == "builtins":
                raise
            raise RuntimeError(f"{type(exc).__name__}: {exc}") from None

    return wrapper


def load_keras() -> ModuleType:
    """Import Keras (and TensorFlow under it): ~3 s and ~640 MiB, paid once per worker process."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TF's C++ start-up chatter out of the logs
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    return importlib.import_module("keras")


@portable_errors
def fit_bundle(reporter: Reporter, task: str, params: dict[str, Any], x: np.ndarray, y: np.ndarray) -> KerasBundle:
    keras = load_keras()
    _seed(keras, params["seed"])
    classes, targets = encode_targets(task, y)
    x_fit, y_fit, validation = _split(x.astype(np.float32), targets, params)
    model = _build(keras, task, params, x_fit, len(classes))
    history = model.fit(
        x_fit,
        y_fit,
        validation_data=validation,
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        shuffle=True,
        verbose=0,
        callbacks=_callbacks(keras, reporter, model, params),
    )
    keras_file, h5_file = _save(model, "h5" in params["export"])
    summary = {**_summary(len(history.history["loss"]), params["epochs"], reporter.cancelled()),
               "diverged": _diverged(model, x_fit)}
    return KerasBundle(task, tuple(classes.tolist()), x.shape[1], keras_file, h5_file, summary)


def encode_targets(task: str, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Classification: label values -> class indices (the class list maps them back). Regression: floats."""
    if task == "regression":
        return np.asarray([]), y.astype(np.float32)
    classes, indices = np.unique(y, return_inverse=True)
    return classes, indices.astype(np.int32)


def _seed(keras: ModuleType, seed: int) -> None:
    # Same data + seed -> same weights on CPU: fresh layer names, seeded RNGs, deterministic kernels.
    import tensorflow as tf

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _split(x: np.ndarray, y: np.ndarray, params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, Any]:
    """A seeded shuffle before the split: Keras' own validation_split takes the LAST rows, which
    are one class or one period when the data arrive sorted."""
    order = np.random.default_rng(params["seed"]).permutation(len(x))
    held = max(1, round(len(x) * params["validation_fraction"]))
    fit, val = order[held:], order[:held]
    return x[fit], y[fit], (x[val], y[val])


def _build(keras: ModuleType, task: str, params: dict[str, Any], x: np.ndarray, classes: int) -> Any:
    # Standardizing inside the model (adapted on the fit rows) ships the preprocessing with it.
    standardize = keras.layers.Normalization(name="standardize")
    # float64 statistics: adapt() sums squares in the data's dtype, and in float32 a column spread
    # like epoch nanoseconds overflows to an infinite variance that zeroes the feature, silently.
    standardize.adapt(x.astype(np.float64))
    inputs = keras.Input(shape=(x.shape[1],), name="features")
    hidden = standardize(inputs)
    for index, units in enumerate(params["hidden_layers"], start=1):
        hidden = keras.layers.Dense(units, activation=params["activation"], name=f"hidden_{index}")(hidden)
        if params["dropout"] > 0:
            hidden = keras.layers.Dropout(params["dropout"], name=f"dropout_{index}")(hidden)
    units, activation, loss, metric = _head(task, classes)
    outputs = keras.layers.Dense(units, activation=activation, name="output")(hidden)
    model = keras.Model(inputs, outputs, name="keras_mlp")
    optimizer = getattr(keras.optimizers, OPTIMIZERS[params["optimizer"]])(learning_rate=params["learning_rate"])
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric])
    return model


def _head(task: str, classes: int) -> tuple[int, str | None, str, str]:
    """Output units, activation, loss and the metric logged per epoch."""
    if task == "regression":
        return 1, None, "mean_squared_error", "mae"
    if classes == 2:
        return 1, "sigmoid", "binary_crossentropy", "accuracy"
    return classes, "softmax", "sparse_categorical_crossentropy", "accuracy"


def _callbacks(keras: ModuleType, reporter: Reporter, model: Any, params: dict[str, Any]) -> list[Any]:
    callbacks = [_epoch_reporter(keras, reporter, model, params["epochs"])]
    if params["early_stopping"]:
        callbacks.append(keras.callbacks.EarlyStopping(**params["early_stopping"]))
    return callbacks


def _summary(epochs_run: int, epochs: int, cancelled: bool) -> dict[str, Any]:
    stopped = "cancelled" if cancelled else "early_stopping" if epochs_run < epochs else "completed"
    return {"epochs_run": epochs_run, "stopped": stopped}


def _diverged(model: Any, x: np.ndarray) -> bool:
    """NaN or infinite outputs: the fit blew up (a learning rate too high, labels too large)."""
    return not bool(np.isfinite(np.asarray(model(x[:CHECK_ROWS], training=False))).all())


def _epoch_reporter(keras: ModuleType, reporter: Reporter, model: Any, epochs: int) -> Any:
    def on_epoch_end(epoch: int, logs: dict[str, Any] | None) -> None:
        metrics = {name: float(value) for name, value in (logs or {}).items()}
        reporter.report("fit", (epoch + 1) / epochs, {"epoch": epoch + 1, "epochs": epochs, **metrics})
        if reporter.cancelled():  # checked per epoch: a manager round trip per batch would cost more
            model.stop_training = True

    return keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)


def _save(model: Any, with_h5: bool) -> tuple[bytes, bytes | None]:
    with tempfile.TemporaryDirectory() as folder:
        native = Path(folder, "model.keras")
        model.save(native)
        keras_file = reproducible_archive(native.read_bytes())
        if not with_h5:
            return keras_file, None
        legacy = Path(folder, "model.h5")
        model.save(legacy)
        return keras_file, legacy.read_bytes()
