"""The holdout split is decided per row by a seeded hash of its features and label: a row keeps its
side whatever else the table holds (so a grown table's holdout holds no row an earlier model with the
same seed and fraction trained on), and duplicates are judged on the spec's columns only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domain.services import data_prep
from domain.services.retrain_policy import holdout_bias
from domain.types.training import SourceSpec, Task, TrainingSpec, ValidationSpec

pytestmark = pytest.mark.unit


def spec(seed: int = 7, fraction: float = 0.2, task: Task = Task.CLASSIFICATION) -> TrainingSpec:
    return TrainingSpec("m", "decision_tree", task, SourceSpec("t", ("row", "x"), "y"), {},
                        ValidationSpec(fraction, seed))


def table(rows: int, start: int = 0, seed: int = 1) -> pd.DataFrame:
    """`row` numbers each row (a feature, so it takes part in the hash like any other value)."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"row": np.arange(start, start + rows, dtype=np.float64), "x": rng.normal(size=rows),
                         "y": rng.integers(0, 2, size=rows)})


def sides(frame: pd.DataFrame, training: TrainingSpec | None = None, keep: tuple[str, ...] = ()
          ) -> tuple[set[int], set[int], data_prep.SplitRecord]:
    """(training rows, holdout rows, record) by their `row` number."""
    result = data_prep.split(frame, training or spec(), keep_for_training=keep)
    return ({int(r) for r in result.train.features[:, 0]}, {int(r) for r in result.holdout.features[:, 0]},
            result.record)


def test_a_row_keeps_its_side_whatever_the_order_of_the_table() -> None:
    frame = table(2000)
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert sides(frame)[:2] == sides(shuffled)[:2]


@pytest.mark.parametrize("label", [[True, False], [1, 0]])
def test_a_label_column_that_held_a_null_once_splits_as_it_does_without(label: list[object]) -> None:
    """A NULL makes the column objects; its row is dropped by cleaning, and the rest must keep their sides."""
    frame = table(2000)
    frame["y"] = np.where(frame["y"] == 1, label[0], label[1])
    held_a_null = frame.assign(y=frame["y"].astype(object))
    assert sides(frame)[:2] == sides(held_a_null)[:2]


def test_rows_trained_on_stay_on_the_training_side_when_the_table_grows() -> None:
    first_train, first_holdout, _ = sides(table(2000))
    _grown_train, grown_holdout, record = sides(pd.concat([table(2000), table(2000, start=2000, seed=2)]))
    assert not first_train & grown_holdout  # the retrain's holdout holds no row the champion trained on
    assert first_holdout <= grown_holdout and len(grown_holdout) == record.holdout_rows
    assert 0.17 < len(grown_holdout) / 4000 < 0.23 and record.borrowed == 0


def test_the_same_data_and_seed_give_the_same_split_and_another_seed_another() -> None:
    assert sides(table(500)) == sides(table(500))
    assert sides(table(500))[1] != sides(table(500), spec(seed=8))[1]


def test_a_row_a_champion_kept_for_training_stays_there_in_a_retrain() -> None:
    base = table(200)
    # One row of a rare class 'c' whose hash holds it out: the fit keeps it, and the record lists it.
    frame, record = next((f, r) for f in (_with_class_c(base, value) for value in range(100))
                         if (r := sides(f)[2]).kept_total == 1)
    c_row = 10_000
    assert c_row in sides(frame)[0] and len(record.kept) == 1
    grown = pd.concat([frame, _class_c_rows(20)], ignore_index=True)  # now 'c' can spare it
    assert c_row in sides(grown)[1]  # without the champion's record it would be held out...
    kept_train, kept_holdout, kept_record = sides(grown, keep=record.kept)
    assert c_row in kept_train and c_row not in kept_holdout  # ...with it, it stays in the fit
    assert record.kept[0] in kept_record.kept  # and the challenger's record carries it on


def test_a_holdout_that_borrows_rows_past_the_fraction_is_said_to_favour_the_champion() -> None:
    _train, holdout, record = sides(table(40), spec(fraction=1e-9, task=Task.REGRESSION))
    assert len(holdout) == data_prep.MIN_ROWS_PER_SPLIT and record.borrowed == 2
    assert "took 2 rows beyond the validation fraction" in str(holdout_bias(1, record, record))
    assert holdout_bias(1, None, record) is not None and holdout_bias(1, _fair(), _fair()) is None


def test_duplicates_are_judged_on_the_features_and_label_only() -> None:
    frame = table(100)
    copies = pd.concat([frame.assign(id=np.arange(100), loaded_at=1),
                        frame.assign(id=np.arange(100, 200), loaded_at=2)], ignore_index=True)
    used, report = data_prep.clean(copies, spec())
    assert (report.rows_read, report.duplicates_dropped, report.rows_used) == (200, 100, 100)
    assert report.to_dict()["duplicates_compared_on"] == ["row", "x", "y"] and list(used.columns) == ["row", "x", "y"]


def _with_class_c(frame: pd.DataFrame, value: int) -> pd.DataFrame:
    return pd.concat([frame, pd.DataFrame({"row": [10_000.0], "x": [float(value)], "y": [2]})], ignore_index=True)


def _class_c_rows(rows: int) -> pd.DataFrame:
    return pd.DataFrame({"row": np.arange(20_000, 20_000 + rows, dtype=np.float64), "x": np.arange(rows) + 0.5,
                         "y": np.full(rows, 2)})


def _fair() -> data_prep.SplitRecord:
    return data_prep.SplitRecord(holdout_rows=10)
