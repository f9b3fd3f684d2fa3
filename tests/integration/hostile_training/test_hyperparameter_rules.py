"""Hyperparameters through the real stack: a value of the wrong JSON type is a 422 naming the field
(never silently converted), and a Poisson fit on labels it cannot take fails naming the label,
not with scikit-learn's ValueError as an "internal error"."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from tests.support.hostile_training import data, expect_completed, expect_failed, expect_refused, new_table, spec, train

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
POISSON = [("decision_tree", {"criterion": "poisson"}), ("random_forest", {"criterion": "poisson", "n_estimators": 5}),
           ("gradient_boosting", {"loss": "poisson", "max_iter": 5})]


@pytest.mark.parametrize(("name", "value"), [("max_depth", True), ("max_depth", "3"), ("max_depth", 3.0),
                                             ("min_samples_leaf", True), ("random_state", "0")])
async def test_a_hyperparameter_of_the_wrong_type_is_a_422_naming_it(container, name, value) -> None:
    table = await new_table(container, pa.table(data()))
    await expect_refused(container, spec(table, hyperparameters={name: value}), "invalid hyperparameters", name)


@pytest.mark.parametrize(("algorithm", "hyperparameters"), POISSON, ids=[a for a, _ in POISSON])
async def test_a_poisson_fit_on_negative_labels_fails_naming_the_label(container, algorithm, hyperparameters) -> None:
    columns = data()
    columns["y"] = columns["f0"] * 3  # about half negative
    outcome = await train(container, pa.table(columns), algorithm=algorithm, task="regression",
                          hyperparameters=hyperparameters)
    expect_failed(outcome, "label 'y'", "negative values", "poisson", ">= 0")


async def test_a_poisson_fit_on_labels_all_zero_fails_naming_the_label(container) -> None:
    columns = {**data(), "y": np.zeros(60)}
    outcome = await train(container, pa.table(columns), task="regression", hyperparameters={"criterion": "poisson"})
    expect_failed(outcome, "label 'y'", "0 in every training row", "poisson")


async def test_a_poisson_fit_on_counts_trains(container) -> None:
    columns = data()
    columns["y"] = np.round(np.exp(columns["f0"]))  # counts: >= 0, mostly positive
    outcome = await train(container, pa.table(columns), task="regression", hyperparameters={"criterion": "poisson"})
    assert (await expect_completed(container, outcome))["rmse"] >= 0
