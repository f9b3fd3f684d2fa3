"""Hostile labels and splits, known only after the 202: a job ends `completed` with a model that knows
every class (finite metrics wherever published) or `failed` with a cause naming the label and what to
fix, never "internal error"; what the schema shows is a 422 at submit. Each job is bounded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from domain.services import data_prep
from domain.types.training import SourceSpec, Task, TrainingSpec
from tests.support.hostile_training import (
    classes_learned,
    data,
    expect_completed,
    expect_failed,
    expect_refused,
    new_table,
    retrain,
    spec,
    train,
    train_on,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
SPLIT_SPEC = TrainingSpec("m", "decision_tree", Task.CLASSIFICATION, SourceSpec("t", ("f0", "f1"), "y"))


def relabelled(columns: dict[str, Any], rows: list[int], label: str) -> list[Any]:
    labels = np.where(columns["y"] == 1, "b", "a").astype(object)
    labels[rows] = label
    return labels.tolist()


def split_of(columns: dict[str, Any], rows: list[int], label: str) -> data_prep.Split:
    """The holdout split (default seed and fraction) of `columns` with `rows` relabelled `label`."""
    return data_prep.split(pd.DataFrame({**columns, "y": relabelled(columns, rows, label)}), SPLIT_SPEC)


# --- labels ---------------------------------------------------------------------------------------

async def test_a_single_class_fails_naming_the_label(container) -> None:
    expect_failed(await train(container, pa.table({**data(), "y": np.ones(60, dtype="int64")})), "'y'", "single class")


@pytest.mark.parametrize("label", [lambda v: v * 0.37, lambda v: pa.array([Decimal(f"{x:.3f}") for x in v],
                                                                          pa.decimal128(10, 3))])
async def test_a_continuous_label_fails_classification_suggesting_regression(container, label) -> None:
    columns = data()
    outcome = await train(container, pa.table({**columns, "y": label(columns["f0"])}))
    expect_failed(outcome, "'y'", "continuous", "regression")


@pytest.mark.parametrize("label", [lambda y: y.astype("float64"), lambda y: pa.array([Decimal(int(v)) for v in y],
                                                                                    pa.decimal128(4, 1))])
async def test_whole_number_float_and_decimal_labels_are_classes(container, label) -> None:
    columns = data()
    outcome = await train(container, pa.table({**columns, "y": label(columns["y"])}))
    assert (await expect_completed(container, outcome))["accuracy"] >= 0.75


@pytest.mark.parametrize("label", [[datetime(2024, 1, 1 + v) for v in range(2)], [date(2024, 1, 1 + v) for v in
                                                                                 range(2)], [b"a", b"b"]])
async def test_a_label_of_an_unsupported_type_fails_naming_it(container, label) -> None:
    columns = data()
    outcome = await train(container, pa.table({**columns, "y": pa.array([label[v] for v in columns["y"]])}))
    expect_failed(outcome, "'y'", "cast the column")


async def test_a_decimal_label_trains_a_regression(container) -> None:
    columns = data(200)
    values = pa.array([Decimal(f"{2 * a + b:.3f}") for a, b in zip(columns["f0"], columns["f1"], strict=True)],
                      pa.decimal128(12, 3))
    outcome = await train(container, pa.table({**columns, "y": values}), task="regression")
    assert (await expect_completed(container, outcome))["r2"] > 0.3


async def test_a_text_label_for_regression_is_a_422(container) -> None:
    table = await new_table(container, pa.table({**data(), "y": [f"c{i % 3}" for i in range(60)]}))
    await expect_refused(container, spec(table, task="regression"), "'y'", "not numeric")


@pytest.mark.parametrize("value", [np.inf, 1e308])
async def test_an_infinite_or_huge_regression_label_fails_naming_it(container, value) -> None:
    columns = data()
    columns["y"] = columns["f0"] * 3
    columns["y"][7] = value
    expect_failed(await train(container, pa.table(columns), task="regression"), "label 'y'", "3.4e38")


async def test_a_class_with_one_row_is_kept_for_the_fit(container) -> None:
    columns = data(40)  # a row whose hash would hold it out once it is the only one of class 'c'
    row = next(r for r in range(40) if split_of(columns, [r], "c").record.kept_total == 1)  # kept for the fit
    outcome = await train(container, pa.table({**columns, "y": relabelled(columns, [row], "c")}))
    await expect_completed(container, outcome)
    assert await classes_learned(container, outcome) == ["a", "b", "c"]


async def test_a_rare_class_missing_from_the_holdout_leaves_roc_auc_finite(container) -> None:
    columns = data(40)  # two rows of class 'c', both on the training side
    pair = next(p for p in ([r, r + 1] for r in range(39))
                if (split := split_of(columns, p, "c")).record.kept_total == 0 and "c" not in split.holdout.labels)
    metrics = await expect_completed(container, await train(container, pa.table({**columns, "y": relabelled(
        columns, pair, "c")})))
    assert 0.0 <= metrics["roc_auc"] <= 1.0


async def test_a_label_with_a_class_per_row_fails_as_an_identifier(container) -> None:
    outcome = await train(container, pa.table({**data(), "y": [f"id{i}" for i in range(60)]}))
    expect_failed(outcome, "'y'", "too few rows per class", "identifier")


async def test_a_new_class_in_fresh_rows_is_scored_against_the_champion(container) -> None:
    columns = data()
    labels = np.where(columns["y"] == 1, "b", "a")
    table = await new_table(container, pa.table({**columns, "y": labels}))
    first = await train_on(container, table, model_name="grows")
    await expect_completed(container, first)
    await container.aliases().move("grows", "production", first.last.data["version"], reason="test", by="test")
    fresh = {"f0": np.linspace(-1, 1, 40), "f1": np.full(40, 5.0), "y": ["c"] * 40}  # a class v1 never saw
    await container.warehouse().append(table, pa.table(fresh))
    outcome = await retrain(container, "grows")
    await expect_completed(container, outcome)
    assert outcome.last.data["champion_version"] == first.last.data["version"]


# --- rows and the split ---------------------------------------------------------------------------

async def test_rows_all_dropped_by_null_cleaning_fail_naming_the_columns(container) -> None:
    columns = data()
    f1 = [None if i % 2 == 0 else v for i, v in enumerate(columns["f1"])]
    y = [None if i % 2 else int(v) for i, v in enumerate(columns["y"])]
    outcome = await train(container, pa.table({**columns, "f1": pa.array(f1), "y": pa.array(y, pa.int64())}))
    expect_failed(outcome, "only 0 rows left", "f1 is NULL in 30", "y is NULL in 30")


@pytest.mark.parametrize("rows", [0, 1])
async def test_an_empty_or_one_row_table_fails_saying_how_many_are_needed(container, rows) -> None:
    outcome = await train(container, pa.table({name: values[:rows] for name, values in data().items()}))
    expect_failed(outcome, f"only {rows} rows left", "at least 4 are needed")


@pytest.mark.parametrize(("task", "labels", "fraction"), [
    ("regression", None, 0.99), ("classification", None, 0.9), ("classification", [0, 1, 0, 1, 0, 1], 0.7)])
async def test_a_holdout_fraction_too_big_for_the_rows_leaves_a_fit_of_every_class(container, task, labels,
                                                                                  fraction) -> None:
    columns = data(6) if labels is None else {**data(6), "y": np.asarray(labels)}
    outcome = await train(container, pa.table(columns), task=task, validation={"fraction": fraction, "seed": 7})
    await expect_completed(container, outcome)
    assert outcome.fit_reports()[0]["train_rows"] >= 2 and outcome.data("evaluated")["holdout_rows"] >= 2
    if task == "classification":
        assert await classes_learned(container, outcome) == [0, 1]


