"""Holdout metrics shared by model backends, so every backend reports the same names and meaning.

Classification: accuracy, precision, recall, f1 (binary for two classes, macro-averaged above),
log_loss and roc_auc (left out on a single-class holdout, where it is undefined).
Regression: rmse, mae, r2.
"""

from __future__ import annotations

import numpy as np


def regression_metrics(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn import metrics as skm  # here: a daemon that never evaluates never pays ~150 MiB for sklearn

    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y, predicted))),
        "mae": float(skm.mean_absolute_error(y, predicted)),
        "r2": float(skm.r2_score(y, predicted)),
    }


def classification_metrics(y: np.ndarray, probabilities: np.ndarray, classes: np.ndarray) -> dict[str, float]:
    """`probabilities[:, i]` is the probability of `classes[i]`; predictions are the most likely class."""
    from sklearn import metrics as skm

    # float32 outputs can miss a sum of 1 by an ulp, which log_loss warns about: renormalize in float64
    probabilities = np.asarray(probabilities, dtype=np.float64)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    classes, probabilities = _with_unseen_classes(np.asarray(classes), probabilities, y)
    predicted = classes[np.argmax(probabilities, axis=1)]
    binary = len(classes) == 2
    averaging = {"average": "binary" if binary else "macro", "pos_label": classes[1] if binary else 1}
    result = {
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "precision": float(skm.precision_score(y, predicted, zero_division=0, **averaging)),
        "recall": float(skm.recall_score(y, predicted, zero_division=0, **averaging)),
        "f1": float(skm.f1_score(y, predicted, zero_division=0, **averaging)),
        "log_loss": float(skm.log_loss(y, probabilities, labels=classes)),
    }
    present = np.isin(classes, y)
    if present.sum() > 1:  # ROC AUC is undefined on a single-class holdout
        result["roc_auc"] = _roc_auc(y, probabilities, classes, present)
    return result


def _with_unseen_classes(classes: np.ndarray, probabilities: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """Labels the model never saw (a class new in a retrain's fresh holdout) join its classes with
    probability 0, so they score as errors instead of failing scikit-learn's label checks."""
    every = np.union1d(classes, y)  # sorted, as scikit-learn wants `labels`
    if len(every) == len(classes):
        return classes, probabilities
    widened = np.zeros((len(probabilities), len(every)))
    widened[:, np.searchsorted(every, classes)] = probabilities
    return every, widened


def _roc_auc(y: np.ndarray, probabilities: np.ndarray, classes: np.ndarray, present: np.ndarray) -> float:
    """One-vs-rest, averaged over the classes the holdout has: scikit-learn's own average is NaN
    (non-strict JSON, and a retrain that never promotes) when a rare class is missing from it."""
    from sklearn import metrics as skm

    if len(classes) == 2 or present.all():
        scores = probabilities[:, 1] if len(classes) == 2 else probabilities
        return float(skm.roc_auc_score(y, scores, multi_class="ovr", labels=classes))
    return float(np.mean([skm.roc_auc_score(y == c, probabilities[:, i]) for i, c in enumerate(classes) if present[i]]))
