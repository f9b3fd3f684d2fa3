"""Hyperparameters are validated strictly by every model backend: a boolean, a numeric string or a
whole float for an integer is refused naming the field (it used to train a depth-1 stump for
`max_depth: true`); what JSON can only say one way (an integer for a number, an object for a
nested setting) still passes, and a validated set validates again unchanged (a retrain or a fit
re-validates what was stored)."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.keras.backend import KerasModelBackend
from adapters.sklearn.backend import SklearnModelBackend
from domain.types.errors import InvalidSpec
from domain.types.training import Task

pytestmark = pytest.mark.unit
BACKENDS = {"decision_tree": SklearnModelBackend(), "random_forest": SklearnModelBackend(),
            "gradient_boosting": SklearnModelBackend(), "keras_mlp": KerasModelBackend()}


@pytest.mark.parametrize(("algorithm", "name", "value"), [
    ("decision_tree", "max_depth", True), ("decision_tree", "max_depth", "3"), ("decision_tree", "max_depth", 3.0),
    ("random_forest", "bootstrap", "true"), ("random_forest", "n_estimators", True),
    ("gradient_boosting", "early_stopping", 1), ("keras_mlp", "epochs", "5"), ("keras_mlp", "hidden_layers", [True]),
    ("keras_mlp", "early_stopping", {"patience": "3"})])
def test_a_value_of_the_wrong_type_is_refused_naming_the_field(algorithm: str, name: str, value: Any) -> None:
    with pytest.raises(InvalidSpec, match=f"invalid hyperparameters: {name}") as refused:
        BACKENDS[algorithm].validate(algorithm, Task.CLASSIFICATION, {name: value})
    assert any(e["field"].startswith(name) for e in refused.value.details["errors"])


@pytest.mark.parametrize(("algorithm", "hyperparameters", "expected"), [
    ("random_forest", {"max_features": 1, "max_samples": 1}, {"max_features": 1.0, "max_samples": 1.0}),
    ("gradient_boosting", {"learning_rate": 1, "early_stopping": False}, {"learning_rate": 1.0}),
    ("keras_mlp", {"learning_rate": 1, "early_stopping": {"patience": 3}, "hidden_layers": [8]},
     {"early_stopping": {"patience": 3, "monitor": "val_loss", "restore_best_weights": True}})])
def test_what_json_says_one_way_passes_and_validates_again(algorithm: str, hyperparameters: dict[str, Any],
                                                            expected: dict[str, Any]) -> None:
    backend = BACKENDS[algorithm]
    validated = backend.validate(algorithm, Task.CLASSIFICATION, hyperparameters)
    assert expected.items() <= validated.items()
    assert backend.validate(algorithm, Task.CLASSIFICATION, validated) == validated
