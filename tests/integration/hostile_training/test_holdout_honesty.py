"""Holdout metrics are measured on rows the model never trained on, through the real stack (DuckDB,
Redis, arq, a fit process): copies of a row that differ only in a column the spec does not read
are one row, and a retrain scores its champion on rows the champion did not train on.

A fully grown tree memorises its training rows, and the labels here are coin flips: any training
row in a holdout shows as accuracy above the honest 0.5."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from domain.services.retrain_policy import RetrainRequest
from tests.support.hostile_training import expect_completed, finished, new_table, train, train_on

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
GROWN = {"max_depth": None}


def coin_flips(rows: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"f0": rng.normal(size=rows), "f1": rng.normal(size=rows), "y": rng.integers(0, 2, size=rows)}


async def test_copies_differing_only_in_unused_columns_are_dropped_before_the_split(container) -> None:
    once = coin_flips(1000, seed=11)
    twice = {name: np.concatenate([values, values]) for name, values in once.items()}
    twice |= {"id": np.arange(2000), "loaded_at": np.repeat([1, 2], 1000)}  # what a reload adds
    outcome = await train(container, pa.table(twice), hyperparameters=GROWN)
    metrics = await expect_completed(container, outcome)
    loaded = outcome.data("data_loaded")
    assert (loaded["duplicates_dropped"], loaded["rows_used"]) == (1000, 1000)
    assert loaded["duplicates_compared_on"] == ["f0", "f1", "y"]
    assert metrics["accuracy"] < 0.6, metrics  # copies on both sides of the split read about 0.93


async def test_a_retrain_scores_the_champion_on_rows_it_never_trained_on(container) -> None:
    table = await new_table(container, pa.table(coin_flips(2000, seed=21)))
    first = await train_on(container, table, model_name="honest", hyperparameters=GROWN)
    await expect_completed(container, first)
    await container.aliases().move("honest", "production", first.last.data["version"], reason="test", by="test")
    await container.warehouse().append(table, pa.table(coin_flips(2000, seed=22)))  # the same distribution
    record = await container.retrain_jobs().request(RetrainRequest("honest", metric="accuracy"))
    outcome = await finished(container, record.id)
    result = outcome.last.data
    assert outcome.last.type == "completed", outcome.describe()
    # Scored on its own training rows the champion read about 0.7, and no challenger could win.
    assert abs(result["champion"] - 0.5) < 0.07 and abs(result["challenger"] - 0.5) < 0.07, result
    assert result["fair"] is True
