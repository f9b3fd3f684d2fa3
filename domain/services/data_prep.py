"""Pure data preparation for training: cleaning, fingerprinting and the holdout split.

The split is decided per row by a seeded hash of its features and label, not by shuffling
positions: a row lands on the same side whatever else the table holds. So when a table grows, the
rows a model trained on stay on the training side of later splits with the same seed and fraction,
and a retrain can score the champion on rows it never trained on (see retraining.py).

CPU-bound; the training service runs these in a worker thread, never on the event loop.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from domain.services import training_data
from domain.services.row_hashes import row_hashes
from domain.types.dataset import Dataset
from domain.types.errors import UnusableTrainingData
from domain.types.training import Task, TrainingSpec

if TYPE_CHECKING:  # frames arrive from the warehouse; only the functions below need pandas itself
    import pandas as pd

MIN_ROWS_PER_SPLIT = 2
SPLIT_SCHEME = "row-hash-1"  # in manifests: a retrain trusts only a champion split this way
MAX_KEPT_LISTED = 1000  # row hashes a manifest lists (SplitRecord.kept): ~20 kB of JSON at most


@dataclass(frozen=True)
class CleaningReport:
    rows_read: int
    duplicates_dropped: int
    null_rows_dropped: int
    rows_used: int
    fingerprint: str
    # The columns two rows must agree on to be duplicates: the spec's (features and label), so copies
    # of an event that differ only in a column the model never reads (an id, a load time) count once.
    compared_on: tuple[str, ...] = ()
    # Per column of the spec, its NULLs among the de-duplicated rows: what to fix when too few rows are left.
    nulls: dict[str, int] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "duplicates_dropped": self.duplicates_dropped,
            "duplicates_compared_on": list(self.compared_on),
            "null_rows_dropped": self.null_rows_dropped,
            "rows_used": self.rows_used,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class SplitRecord:
    """How a version's rows were split, kept in its manifest for the retrains that score it later.

    `kept` lists (by row hash) the rows whose hash put them in the holdout but that trained anyway
    (the last rows of a rare class, or a holdout too big for the table); `kept_total` counts them
    all. `borrowed` counts the rows held out although their hash put them on the training side
    (too few fell below it): rows another model with this seed and fraction may have trained on."""

    holdout_rows: int
    kept: tuple[str, ...] = ()
    kept_total: int = 0
    borrowed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": SPLIT_SCHEME, "holdout_rows": self.holdout_rows, "kept": list(self.kept),
                "kept_total": self.kept_total, "borrowed": self.borrowed}

    @classmethod
    def from_manifest(cls, data: Mapping[str, Any]) -> SplitRecord | None:
        """The record in a manifest's `data`; None for a version split another way (before row hashes)."""
        raw = data.get("split")
        if not isinstance(raw, Mapping) or raw.get("scheme") != SPLIT_SCHEME:
            return None
        return cls(int(raw["holdout_rows"]), tuple(raw["kept"]), int(raw["kept_total"]), int(raw["borrowed"]))


@dataclass(frozen=True)
class Split:
    train: Dataset
    holdout: Dataset
    record: SplitRecord


def clean(frame: pd.DataFrame, spec: TrainingSpec) -> tuple[pd.DataFrame, CleaningReport]:
    """Keep the spec's columns, drop rows repeating another in all of them, then rows with a null."""
    rows_read = len(frame)
    columns = list(spec.source.columns)
    deduplicated = frame.loc[:, columns].drop_duplicates(ignore_index=True)
    nulls = {str(c): int(n) for c, n in deduplicated.isna().sum().items() if n}
    used = deduplicated.dropna(ignore_index=True)
    report = CleaningReport(
        rows_read=rows_read,
        duplicates_dropped=rows_read - len(deduplicated),
        null_rows_dropped=len(deduplicated) - len(used),
        rows_used=len(used),
        fingerprint=_fingerprint(used),
        compared_on=tuple(columns),
        nulls=nulls,
    )
    return used, report


def split(frame: pd.DataFrame, spec: TrainingSpec, report: CleaningReport | None = None,
          keep_for_training: Sequence[str] = ()) -> Split:
    """Split by row hash into train and holdout; refuses data that cannot train the model.

    `keep_for_training`: row hashes (a retrain's champion's SplitRecord.kept) that stay on the
    training side where their hash would hold them out, as they did for the champion."""
    _require_rows(frame, spec, report)
    frame = training_data.usable(frame, spec)
    features = frame.loc[:, list(spec.source.features)].to_numpy(dtype=np.float64)
    labels = frame[spec.source.label].to_numpy()
    hashes = row_hashes(features, labels, spec.validation.seed)
    order = np.argsort(hashes, kind="stable")  # a fixed pseudo-random order of the rows, by their content
    # A share `fraction` of all possible hashes: each row's side depends on that row alone.
    below = hashes < np.uint64(min(int(spec.validation.fraction * 2.0**64), 2**64 - 1))
    eligible = below & ~np.isin(hashes, np.asarray([int(h, 16) for h in keep_for_training], dtype=np.uint64))
    held = _bounded(eligible, below, order, _class_codes(labels) if spec.task is Task.CLASSIFICATION else None)
    if held.sum() < MIN_ROWS_PER_SPLIT:
        raise UnusableTrainingData(
            f"label {spec.source.label!r} has too few rows per class to hold any out for validation "
            f"({frame[spec.source.label].nunique()} classes in {len(frame)} rows): is it an identifier? "
            "Add rows or use a label with fewer classes", {"label": spec.source.label})
    train_idx, holdout_idx = order[~held[order]], order[held[order]]  # each in hash order
    training_data.check_fit_labels(labels[train_idx], spec)
    kept = hashes[order][(below & ~held)[order]]
    record = SplitRecord(len(holdout_idx), tuple(f"{h:016x}" for h in kept[:MAX_KEPT_LISTED]), len(kept),
                         int((held & ~eligible).sum()))
    names = spec.source.features
    return Split(Dataset(features[train_idx], labels[train_idx], names),
                 Dataset(features[holdout_idx], labels[holdout_idx], names), record)


def _bounded(eligible: npt.NDArray[np.bool_], below: npt.NDArray[np.bool_], order: npt.NDArray[np.intp],
             codes: npt.NDArray[np.intp] | None) -> npt.NDArray[np.bool_]:
    """The holdout adjusted so the fit has every class (a model cannot be scored on a class it never
    saw) and each side at least MIN_ROWS_PER_SPLIT rows. Usually nothing moves: only rare classes and
    tiny tables or fractions need it, and the moves follow the hash order, so they are reproducible."""
    held = eligible.copy()
    if codes is not None:  # the held row with the largest hash of each class left with no row to fit
        lacking = np.bincount(codes[~held], minlength=int(codes.max()) + 1) == 0
        rows = order[held[order] & lacking[codes[order]]][::-1]
        held[rows[np.unique(codes[rows], return_index=True)[1]]] = False
    excess = int(held.sum()) - (len(held) - MIN_ROWS_PER_SPLIT)
    if excess > 0:  # the fit needs rows too: the held rows with the largest hashes go back
        held[order[held[order]][-excess:]] = False
    if held.sum() < MIN_ROWS_PER_SPLIT:
        _borrow(held, below, order, codes)
    return held


def _borrow(held: npt.NDArray[np.bool_], below: npt.NDArray[np.bool_], order: npt.NDArray[np.intp],
            codes: npt.NDArray[np.intp] | None) -> None:
    """Hold out training rows until MIN_ROWS_PER_SPLIT are held, smallest hash first, rows above the
    threshold before those kept below it on purpose, never the last row of a class in the fit (then
    fewer are held, and split() says why)."""
    left = np.bincount(codes[~held]) if codes is not None else None
    count = int(held.sum())
    training = order[~held[order]]
    for row in np.concatenate([training[~below[training]], training[below[training]]]):
        if count >= MIN_ROWS_PER_SPLIT:
            return
        if codes is not None and left is not None:
            if left[codes[row]] <= 1:
                continue
            left[codes[row]] -= 1
        held[row] = True
        count += 1


def _class_codes(labels: npt.NDArray[Any]) -> npt.NDArray[np.intp]:
    import pandas as pd

    return np.asarray(pd.factorize(labels)[0])  # hashing: np.unique sorts, ~1 s per million strings


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
