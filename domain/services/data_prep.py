"""Pure data preparation for training: cleaning, fingerprinting and the holdout split.

CPU-bound; the training service runs these in a worker thread, never on the event loop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from domain.services import training_data
from domain.types.dataset import Dataset
from domain.types.errors import UnusableTrainingData
from domain.types.training import Task, TrainingSpec

if TYPE_CHECKING:  # frames arrive from the warehouse; only the functions below need pandas itself
    import pandas as pd

MIN_ROWS_PER_SPLIT = 2


@dataclass(frozen=True)
class CleaningReport:
    rows_read: int
    duplicates_dropped: int
    null_rows_dropped: int
    rows_used: int
    fingerprint: str
    # Per column of the spec, its NULLs among the de-duplicated rows: what to fix when too few rows are left.
    nulls: dict[str, int] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "duplicates_dropped": self.duplicates_dropped,
            "null_rows_dropped": self.null_rows_dropped,
            "rows_used": self.rows_used,
            "fingerprint": self.fingerprint,
        }


def clean(frame: pd.DataFrame, spec: TrainingSpec) -> tuple[pd.DataFrame, CleaningReport]:
    """Drop exact duplicate rows (all columns) then rows with a null in a feature or the label."""
    rows_read = len(frame)
    deduplicated = frame.drop_duplicates(ignore_index=True)
    columns = list(spec.source.columns)
    nulls = {str(c): int(n) for c, n in deduplicated.loc[:, columns].isna().sum().items() if n}
    used = deduplicated.dropna(subset=columns, ignore_index=True)
    used = used.loc[:, columns]
    report = CleaningReport(
        rows_read=rows_read,
        duplicates_dropped=rows_read - len(deduplicated),
        null_rows_dropped=len(deduplicated) - len(used),
        rows_used=len(used),
        fingerprint=_fingerprint(used),
        nulls=nulls,
    )
    return used, report


def split(frame: pd.DataFrame, spec: TrainingSpec, report: CleaningReport | None = None) -> tuple[Dataset, Dataset]:
    """Seeded shuffle split into (train, holdout); refuses data that cannot train the model."""
    _require_rows(frame, spec, report)
    frame = training_data.usable(frame, spec)
    rng = np.random.default_rng(spec.validation.seed)
    order = rng.permutation(len(frame))
    # At least MIN_ROWS_PER_SPLIT on each side, whatever the fraction: a fit on no rows has no model.
    wanted = min(max(MIN_ROWS_PER_SPLIT, round(len(frame) * spec.validation.fraction)), len(frame) - MIN_ROWS_PER_SPLIT)
    features = frame.loc[:, list(spec.source.features)].to_numpy(dtype=np.float64)
    labels = frame[spec.source.label].to_numpy()
    holdout_idx = order[:wanted] if spec.task is Task.REGRESSION else _holdout_keeping_classes(order, labels, wanted)
    held = np.zeros(len(frame), dtype=bool)
    held[holdout_idx] = True
    if held.sum() < MIN_ROWS_PER_SPLIT:
        raise UnusableTrainingData(
            f"label {spec.source.label!r} has too few rows per class to hold any out for validation "
            f"({frame[spec.source.label].nunique()} classes in {len(frame)} rows): is it an identifier? "
            "Add rows or use a label with fewer classes", {"label": spec.source.label})
    train_idx = order[~held[order]]  # the rest, in shuffled order
    names = spec.source.features
    return (
        Dataset(features[train_idx], labels[train_idx], names),
        Dataset(features[holdout_idx], labels[holdout_idx], names),
    )


def _holdout_keeping_classes(order: npt.NDArray[np.int64], labels: npt.NDArray[Any], wanted: int) -> npt.NDArray[Any]:
    """The first `wanted` rows of `order`, skipping any that would take the last row of its class from
    the fit: a model cannot be scored on a class it never saw (and a fit needs two classes). The
    holdout comes out smaller only when classes are that rare; usually it is just order[:wanted]."""
    import pandas as pd

    codes = pd.factorize(labels)[0]  # hashing: np.unique sorts, ~1 s per million strings
    counts = np.bincount(codes)
    first = order[:wanted]
    if (np.bincount(codes[first], minlength=len(counts)) < counts).all():
        return first
    left, chosen = counts.copy(), list[int]()
    for row in order:
        if len(chosen) == wanted:
            break
        if left[codes[row]] > 1:
            left[codes[row]] -= 1
            chosen.append(row)
    return np.asarray(chosen, dtype=order.dtype)


def _require_rows(frame: pd.DataFrame, spec: TrainingSpec, report: CleaningReport | None) -> None:
    needed = 2 * MIN_ROWS_PER_SPLIT
    if len(frame) >= needed:
        return
    nulls = report.nulls if report else {}
    cause = ""
    if report and nulls:  # which columns emptied the table: what to fill or leave out
        listed = "; ".join(f"{column} is NULL in {count} of them" for column, count in nulls.items())
        cause = f" ({report.rows_read - report.duplicates_dropped} distinct rows; {listed})"
    raise UnusableTrainingData(
        f"only {len(frame)} rows left after dropping duplicates and nulls in "
        f"{spec.source.table!r}; at least {needed} are needed{cause}",
        {"rows_used": len(frame), "nulls": nulls},
    )


def _fingerprint(frame: pd.DataFrame) -> str:
    """Order-sensitive content hash of the rows used, so two versions can be compared."""
    import pandas as pd

    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return "sha256:" + hashlib.sha256(hashed.tobytes()).hexdigest()
