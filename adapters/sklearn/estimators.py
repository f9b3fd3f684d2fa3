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
    binary = len(estimator.classes_) == 2
    average = "binary" if binary else "macro"
    pos_label = estimator.classes_[1] if binary else 1
    result = {
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "precision": float(skm.precision_score(y, predicted, average=average, pos_label=pos_label, zero_division=0)),
        "recall": float(skm.recall_score(y, predicted, average=average, pos_label=pos_label, zero_division=0)),
        "f1": float(skm.f1_score(y, predicted, average=average, pos_label=pos_label, zero_division=0)),
    }
    probabilities = estimator.predict_proba(x)
    result["log_loss"] = float(skm.log_loss(y, probabilities, labels=estimator.classes_))
    if len(np.unique(y)) > 1:  # ROC AUC is undefined on a single-class holdout
        scores = probabilities[:, 1] if binary else probabilities
        result["roc_auc"] = float(skm.roc_auc_score(y, scores, multi_class="ovr", labels=estimator.classes_))
    return result
