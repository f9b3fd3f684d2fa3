"""Training data checks on the rows when the table changed after the spec was validated (a retrain
runs the champion's spec on today's table): the failure names the column, not a pandas KeyError."""

from __future__ import annotations

import pyarrow as pa
import pytest

from domain.services import data_prep, training_data
from domain.types.errors import UnusableTrainingData
from domain.types.training import SourceSpec, Task, TrainingSpec

pytestmark = pytest.mark.unit
SPEC = TrainingSpec("m", "decision_tree", Task.CLASSIFICATION, SourceSpec("t", ("f0", "f1"), "y"))


def test_a_column_gone_since_the_spec_was_checked_is_named() -> None:
    with pytest.raises(UnusableTrainingData, match=r"'t' no longer has column\(s\) f1"):
        training_data.to_frame(pa.table({"f0": [1.0], "y": [0]}), SPEC)


def test_a_feature_that_became_text_is_named() -> None:
    frame = training_data.to_frame(pa.table({"f0": [1.0, 2, 3, 4], "f1": ["a", "b", "c", "d"], "y": [0, 1, 0, 1]}),
                                   SPEC)
    used, report = data_prep.clean(frame, SPEC)
    with pytest.raises(UnusableTrainingData, match="feature 'f1' holds string values, not numbers"):
        data_prep.split(used, SPEC, report)
