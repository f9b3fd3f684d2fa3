"""Functions that run inside the fitting process pool: build and evaluate estimators.

They take and return plain picklable values, so a ProcessPoolExecutor can run them. Fitting in
steps with progress lives in `fitting`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

ESTIMATORS: dict[tuple[str, str], type[Any]] = {
    ("decision_tree", "classification"): DecisionTreeClassifier,
    ("decision_tree", "regression"): DecisionTreeRegressor,
    ("random_forest", "classification"): RandomForestClassifier,
    ("random_forest", "regression"): RandomForestRegressor,
    ("gradient_boosting", "classification"): HistGradientBoostingClassifier,
    ("gradient_boosting", "regression"): HistGradientBoostingRegressor,
}


def build_estimator(algorithm: str, task: str, params: dict[str, Any]) -> Any:
    return ESTIMATORS[(algorithm, task)](**params)


def classes_of(algorithm: str) -> tuple[type[Any], ...]:
    """The estimator types an algorithm may load as (one per task)."""
    return tuple(cls for (name, _), cls in ESTIMATORS.items() if name == algorithm)


def evaluate_estimator(estimator: Any, task: str, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    predicted = estimator.predict(x)
    if task == "regression":
        return {
            "rmse": float(np.sqrt(skm.mean_squared_error(y, predicted))),
            "mae": float(skm.mean_absolute_error(y, predicted)),
            "r2": float(skm.r2_score(y, predicted)),
        }
    return _classification_metrics(estimator, x, y, predicted)


def _classification_metrics(estimator: Any, x: np.ndarray, y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    classes, probabilities = _with_unseen_classes(estimator.classes_, estimator.predict_proba(x), y)
    binary = len(classes) == 2
    average = "binary" if binary else "macro"
    pos_label = classes[1] if binary else 1
    result = {
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "precision": float(skm.precision_score(y, predicted, average=average, pos_label=pos_label, zero_division=0)),
        "recall": float(skm.recall_score(y, predicted, average=average, pos_label=pos_label, zero_division=0)),
        "f1": float(skm.f1_score(y, predicted, average=average, pos_label=pos_label, zero_division=0)),
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
    if len(classes) == 2 or present.all():
        scores = probabilities[:, 1] if len(classes) == 2 else probabilities
        return float(skm.roc_auc_score(y, scores, multi_class="ovr", labels=classes))
    return float(np.mean([skm.roc_auc_score(y == c, probabilities[:, i]) for i, c in enumerate(classes) if present[i]]))
