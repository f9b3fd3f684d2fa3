"""Functions that run inside the fitting process pool: build and evaluate estimators.

They take and return plain picklable values, so a ProcessPoolExecutor can run them. Fitting in
steps with progress lives in `fitting`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from adapters._shared.metrics import classification_metrics, regression_metrics

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
    """The same metrics, computed the same way, as every other backend (adapters/_shared/metrics.py)."""
    if task == "regression":
        return regression_metrics(y, estimator.predict(x))
    return classification_metrics(y, estimator.predict_proba(x), estimator.classes_)
