"""Pure data preparation for training: cleaning, fingerprinting and the holdout split.

CPU-bound; the training service runs these in a worker thread, never on the event loop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

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
    used = deduplicated.dropna(subset=list(spec.source.columns), ignore_index=True)
    used = used.loc[:, list(spec.source.columns)]
    report = CleaningReport(
        rows_read=rows_read,
        duplicates_dropped=rows_read - len(deduplicated),
        null_rows_dropped=len(deduplicated) - len(used),
        rows_used=len(used),
        fingerprint=_fingerprint(used),
    )
    return used, report


def split(frame: pd.DataFrame, spec: TrainingSpec) -> tuple[Dataset, Dataset]:
    """Seeded shuffle split into (train, holdout); refuses data that cannot train the model."""
    _require_usable(frame, spec)
    rng = np.random.default_rng(spec.validation.seed)
    order = rng.permutation(len(frame))
    holdout_rows = max(MIN_ROWS_PER_SPLIT, round(len(frame) * spec.validation.fraction))
    holdout_idx, train_idx = order[:holdout_rows], order[holdout_rows:]
    features = frame.loc[:, list(spec.source.features)].to_numpy(dtype=np.float64)
    labels = frame[spec.source.label].to_numpy()
    names = spec.source.features
    return (
        Dataset(features[train_idx], labels[train_idx], names),
        Dataset(features[holdout_idx], labels[holdout_idx], names),
    )


def _require_usable(frame: pd.DataFrame, spec: TrainingSpec) -> None:
    # Imported here: processes that never train (ingestion and action workers) never load pandas.
    import pandas as pd

    needed = 2 * MIN_ROWS_PER_SPLIT
    if len(frame) < needed:
        raise UnusableTrainingData(
            f"only {len(frame)} rows left after dropping duplicates and nulls in "
            f"{spec.source.table!r}; at least {needed} are needed",
            {"rows_used": len(frame)},
        )
    if spec.task is Task.CLASSIFICATION and frame[spec.source.label].nunique() < 2:
        raise UnusableTrainingData(
            f"label {spec.source.label!r} has a single class after cleaning; classification needs two",
            {"label": spec.source.label},
        )
    if spec.task is Task.REGRESSION and not pd.api.types.is_numeric_dtype(frame[spec.source.label]):
        raise UnusableTrainingData(
            f"label {spec.source.label!r} is not numeric; regression needs a numeric label",
            {"label": spec.source.label},
        )


def _fingerprint(frame: pd.DataFrame) -> str:
    """Order-sensitive content hash of the rows used, so two versions can be compared."""
    import pandas as pd

    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return "sha256:" + hashlib.sha256(hashed.tobytes()).hexdigest()
