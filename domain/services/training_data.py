"""What only the rows can tell about training data (the schema was checked at submit, and may have
changed since: retrains run later). Each check names the column and what to fix, so bad values
end the job with that cause instead of a library error from deep inside a fit.

CPU-bound, like data_prep: the trainer runs these in a worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from domain.types.errors import UnusableTrainingData
from domain.types.training import Task, TrainingSpec

if TYPE_CHECKING:  # only the functions below need pandas and pyarrow themselves
    import pandas as pd
    import pyarrow as pa

# Models compute in float32 (scikit-learn trees, Keras, the ONNX files served for inference): a
# larger value is infinite there, which trees refuse and networks turn into NaN weights.
FLOAT32_MAX = float(np.finfo(np.float32).max)
CLASS_KINDS = frozenset({"string", "integer", "boolean", "categorical"})  # and whole-number floats
POISSON_SETTINGS = ("criterion", "loss")


def to_frame(table: pa.Table, spec: TrainingSpec) -> pd.DataFrame:
    """The spec's columns as pandas: the others take no part in training, not even in dropping
    duplicates (data_prep.clean), and converting them would only cost time and memory."""
    _require_columns(table, spec)
    return table.select(list(spec.source.columns)).to_pandas()


def usable(frame: pd.DataFrame, spec: TrainingSpec) -> pd.DataFrame:
    """The spec's columns (nulls already dropped) as plain numpy values, once they can train the model."""
    frame = frame.assign(**{column: _plain(frame[column]) for column in spec.source.columns})
    _check_features(frame, spec)
    if spec.task is Task.REGRESSION:
        _check_regression_label(frame[spec.source.label], spec.source.label)
        _check_poisson_label(frame[spec.source.label], spec)
    else:
        _check_classes(frame[spec.source.label], spec.source.label)
    return frame


def _require_columns(table: pa.Table, spec: TrainingSpec) -> None:
    import pyarrow as pa

    missing = [c for c in spec.source.columns if c not in table.column_names]
    if missing:
        raise UnusableTrainingData(
            f"table {spec.source.table!r} no longer has column(s) {', '.join(missing)}; "
            "submit a spec with the columns it has", {"missing": missing})
    nested = [c for c in spec.source.columns if pa.types.is_nested(table.schema.field(c).type)]
    if nested:
        raise UnusableTrainingData(
            f"column(s) {', '.join(nested)} hold lists or records; features and the label need one value per row",
            {"columns": nested})


def _plain(column: pd.Series) -> pd.Series:
    """DECIMAL (and HUGEINT) values arrive as Python Decimals, and booleans with nulls as objects."""
    import pandas as pd

    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind == "decimal":
        return column.astype("float64")
    if kind == "boolean" and column.dtype == object:
        return column.astype(bool)
    return column


def _check_features(frame: pd.DataFrame, spec: TrainingSpec) -> None:
    import pandas as pd

    for name in spec.source.features:
        if not pd.api.types.is_numeric_dtype(frame[name]):
            kind = pd.api.types.infer_dtype(frame[name], skipna=True)
            raise UnusableTrainingData(f"feature {name!r} holds {kind} values, not numbers; "
                                       "features must be numeric columns", {"column": name})
    beyond = {name: _out_of_range(frame[name]) for name in spec.source.features}
    beyond = {name: rows for name, rows in beyond.items() if rows}
    if beyond:
        listed = ", ".join(f"{name} ({rows} rows)" for name, rows in beyond.items())
        raise UnusableTrainingData(
            f"feature column(s) {listed} hold infinite values or values beyond ±3.4e38, which models compute "
            "in float32 as infinite; filter those rows or rescale the column(s)", {"columns": beyond})


def _check_regression_label(label: pd.Series, name: str) -> None:
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(label):
        kind = pd.api.types.infer_dtype(label, skipna=True)
        raise UnusableTrainingData(f"label {name!r} is not numeric ({kind} values); regression needs a numeric "
                                   "label", {"label": name})
    rows = _out_of_range(label)
    if rows:
        raise UnusableTrainingData(
            f"label {name!r} has {rows} rows with infinite values or values beyond ±3.4e38, which models "
            "compute in float32 as infinite; filter those rows or rescale the label", {"label": name})


def check_fit_labels(labels: npt.NDArray[Any], spec: TrainingSpec) -> None:
    """What the training rows alone can break: a Poisson fit needs their labels to sum above 0."""
    asked = _poisson_setting(spec)
    if asked and not float(np.sum(labels, dtype=np.float64)) > 0:
        raise UnusableTrainingData(
            f"label {spec.source.label!r} is 0 in every training row, and {asked} needs labels that sum to more "
            "than 0: use rows with positive labels or another " + asked.split("=")[0], {"label": spec.source.label})


def _check_poisson_label(label: pd.Series, spec: TrainingSpec) -> None:
    asked = _poisson_setting(spec)
    if asked is None:
        return
    values = label.to_numpy(dtype=np.float64)
    negative = values[values < 0]
    if len(negative):
        raise UnusableTrainingData(
            f"label {spec.source.label!r} has {len(negative)} negative values (e.g. {negative[0]:g}), and {asked} "
            "needs labels >= 0 (counts, rates): filter those rows, shift the label, or use another "
            + asked.split("=")[0], {"label": spec.source.label})


def _poisson_setting(spec: TrainingSpec) -> str | None:
    """The hyperparameter asking for a Poisson fit (scikit-learn's trees and forests: criterion,
    gradient boosting: loss), which takes only labels >= 0 summing to more than 0."""
    for name in POISSON_SETTINGS:
        if spec.hyperparameters.get(name) == "poisson":
            return f"{name}='poisson'"
    return None


def _check_classes(label: pd.Series, name: str) -> None:
    import pandas as pd

    kind = pd.api.types.infer_dtype(label, skipna=True)
    if kind == "floating":  # 0.0/1.0 are classes; 0.37 is a measurement
        values = label.to_numpy(dtype=np.float64)
        fractional = values[~(np.isfinite(values) & (values == np.trunc(values)))]
        if len(fractional):
            raise UnusableTrainingData(
                f"label {name!r} holds continuous values (e.g. {fractional[0]:g}), not classes; use the task "
                "'regression', or an integer, string or boolean label", {"label": name})
    elif kind not in CLASS_KINDS:
        raise UnusableTrainingData(f"label {name!r} holds {kind} values; classification needs string, integer "
                                   "or boolean classes: cast the column", {"label": name})
    if label.nunique() < 2:
        raise UnusableTrainingData(f"label {name!r} has a single class after cleaning; classification needs two",
                                   {"label": name})


def _out_of_range(column: pd.Series) -> int:
    """Rows whose value float32 cannot hold (NaN was dropped with the nulls)."""
    return int(np.count_nonzero(~(np.abs(column.to_numpy(dtype=np.float64)) <= FLOAT32_MAX)))
