"""Hostile TABLE DATA, known only after the 202: every training job ends `completed` with a sensible
model (finite metrics wherever they are published) or `failed` with a cause that names the problem
and what to fix, never "internal error" or a library's own text, and never hangs (each job is
bounded by JOB_TIMEOUT_S). What the schema already shows is a 422 at submit.

One in-process container (DuckDB, real Redis, arq, one fit process) serves the whole module."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from tests.support.hostile_training import (
    data,
    expect_completed,
    expect_failed,
    expect_refused,
    new_table,
    spec,
    train,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
KERAS = {"epochs": 10, "hidden_layers": [8], "batch_size": 32}
needs_tensorflow = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="no tensorflow")


# --- feature values -------------------------------------------------------------------------------

@pytest.mark.parametrize(("algorithm", "value"), [
    ("decision_tree", np.inf), ("random_forest", -np.inf), ("gradient_boosting", 1e308), ("decision_tree", -1e39)])
async def test_infinite_or_float32_overflowing_features_fail_naming_the_column(container, algorithm, value) -> None:
    columns = data()
    columns["f1"][[3, 9]] = value
    expect_failed(await train(container, pa.table(columns), algorithm=algorithm), "f1 (2 rows)", "infinite", "3.4e38")


async def test_a_constant_feature_still_trains_on_the_others(container) -> None:
    metrics = await expect_completed(container, await train(container, pa.table({**data(), "f1": np.full(60, 3.0)})))
    assert metrics["accuracy"] >= 0.75


async def test_an_all_null_feature_fails_naming_the_column(container) -> None:
    outcome = await train(container, pa.table({**data(), "f1": pa.nulls(60, pa.float64())}))
    expect_failed(outcome, "only 0 rows left", "f1 is NULL in 60")


@pytest.mark.parametrize("column", [pa.array([f"x{i}" for i in range(60)]),
                                    pa.array([datetime(2024, 1, 1)] * 60, pa.timestamp("us"))])
async def test_text_or_timestamp_features_are_a_422_at_submit(container, column) -> None:
    table = await new_table(container, pa.table({**data(), "f1": column}))
    await expect_refused(container, spec(table), "f1", "not numeric")


async def test_boolean_and_decimal_features_train(container) -> None:
    columns = data()
    flags: list[bool | None] = [bool(v > 0) for v in columns["f1"]]
    flags[5] = None  # booleans with a NULL arrive as Python objects
    columns["f1"] = pa.array(flags, pa.bool_())
    columns["f0"] = pa.array([Decimal(f"{v:.4f}") for v in columns["f0"]], pa.decimal128(10, 4))
    outcome = await train(container, pa.table(columns))
    assert (await expect_completed(container, outcome))["accuracy"] >= 0.75
    assert outcome.data("data_loaded")["null_rows_dropped"] == 1


async def test_a_list_feature_is_a_422_at_submit(container) -> None:
    # DuckDB names the type DOUBLE[]: numeric by its prefix, yet a list.
    lists = pa.array([[float(i), 1.0] for i in range(60)], pa.list_(pa.float64()))
    table = await new_table(container, pa.table({**data(), "f1": lists}))
    await expect_refused(container, spec(table), "f1", "not numeric")


async def test_nested_and_oddly_named_columns_the_spec_does_not_use_take_no_part(container) -> None:
    columns = {name: np.append(values, [values[0], values[0]]) for name, values in data().items()}
    columns["tags"] = pa.array([[i, 1] for i in range(60)] + [[0, 1], [99]], pa.list_(pa.int64()))
    columns["info"] = pa.array([{"k": i} for i in range(60)] + [{"k": 0}, {"k": 0}])
    columns["attrs"] = pa.array([[("a", i)] for i in range(60)] + [[("a", 0)]] * 2, pa.map_(pa.string(), pa.int64()))
    columns |= {"a b": np.zeros(62), "é": np.ones(62), 'q"x': np.ones(62)}
    outcome = await train(container, pa.table(columns))
    await expect_completed(container, outcome)
    loaded = outcome.data("data_loaded")  # rows 60 and 61 repeat row 0 in f0, f1 and y (61 has other tags)
    assert (loaded["duplicates_dropped"], loaded["rows_used"]) == (2, 60)


# --- specs: a 422 at submit -----------------------------------------------------------------------

@pytest.mark.parametrize(("source", "hint"), [
    ({"features": ["f0", "f0"]}, "twice"), ({"features": ["f0", "y"]}, "also listed as a feature"),
    ({"features": ["f0", "a b"]}, "a b"), ({"features": ["f0", "é"]}, "é"), ({"features": ["f0", 'q"x']}, 'q"x'),
    ({"label": "nope"}, "nope")])
async def test_bad_column_lists_are_a_422_naming_the_column(container, source, hint) -> None:
    table = await new_table(container, pa.table({**data(), "a b": np.zeros(60), "é": np.ones(60), 'q"x': np.ones(60)}))
    await expect_refused(container, spec(table, **source), hint)


# --- hyperparameters at their bounds, on tiny data ------------------------------------------------

@pytest.mark.parametrize(("algorithm", "hyperparameters"), [
    ("decision_tree", {"max_depth": 128, "min_samples_leaf": 1}),
    ("random_forest", {"n_estimators": 2000, "max_depth": 128, "min_samples_leaf": 1}),
    ("gradient_boosting", {"max_iter": 2000, "min_samples_leaf": 1, "max_leaf_nodes": 65_536})])
async def test_extreme_hyperparameters_on_tiny_data_finish(container, algorithm, hyperparameters) -> None:
    outcome = await train(container, pa.table(data(10)), algorithm=algorithm, hyperparameters=hyperparameters)
    await expect_completed(container, outcome)
    if algorithm == "gradient_boosting":  # warm-started boosting re-predicts every tree per step: few steps
        assert len(outcome.fit_reports()) <= 21, len(outcome.fit_reports())


# --- keras_mlp ------------------------------------------------------------------------------------

async def test_keras_refuses_infinite_features_and_a_single_class_before_fitting(container) -> None:
    columns = data()
    columns["f1"][4] = np.inf
    expect_failed(await train(container, pa.table(columns), algorithm="keras_mlp", hyperparameters=KERAS), "f1")
    one_class = {**data(), "y": np.zeros(60, dtype="int64")}
    outcome = await train(container, pa.table(one_class), algorithm="keras_mlp", hyperparameters=KERAS)
    expect_failed(outcome, "'y'", "single class")


async def test_keras_refuses_a_feature_too_wide_for_float32_standardization(container) -> None:
    columns = {**data(), "f1": np.where(np.arange(60) % 2 == 0, 1e25, -1e25)}
    outcome = await train(container, pa.table(columns), algorithm="keras_mlp", hyperparameters=KERAS)
    expect_failed(outcome, "f1", "spread too widely", "rescale")


@needs_tensorflow
async def test_keras_learns_from_a_feature_with_a_wide_spread(container) -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, size=400)
    columns = {"f0": rng.normal(size=400), "f1": np.where(y == 1, 3e18, -3e18), "y": y}  # like epoch nanoseconds
    outcome = await train(container, pa.table(columns), algorithm="keras_mlp",
                          hyperparameters={**KERAS, "learning_rate": 0.01})
    assert (await expect_completed(container, outcome))["accuracy"] >= 0.9  # f1 alone separates the classes


@needs_tensorflow
async def test_a_keras_fit_that_diverges_fails_saying_what_to_change(container) -> None:
    columns = data()
    columns["y"] = columns["f0"] * 1e30
    outcome = await train(container, pa.table(columns), algorithm="keras_mlp", task="regression",
                          hyperparameters={**KERAS, "epochs": 2})
    expect_failed(outcome, "diverged", "learning_rate", "rescale the label")
