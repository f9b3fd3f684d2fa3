"""A seeded 64-bit hash per training row, which decides the row's side of the train/holdout split.

The side depends on the row's own values only, never on what else the table holds: a row keeps its
side as the table grows, so a retrain's holdout holds no row its champion trained on (data_prep.split).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def row_hashes(features: npt.NDArray[np.float64], labels: npt.NDArray[Any], seed: int) -> npt.NDArray[np.uint64]:
    """A seeded 64-bit hash of each row's values. The label is hashed as a float when boolean or numeric, as
    text otherwise, so a column read as int64 one day and float64 (or objects) the next (NULLs) hashes alike."""
    import pandas as pd

    columns: dict[str, Any] = {f"f{i}": features[:, i] + 0.0 for i in range(features.shape[1])}  # -0.0 -> 0.0
    numeric = _as_numbers(labels)
    if numeric is not None:
        columns["label"] = numeric + 0.0
    else:
        columns["label"] = pd.Series(labels, dtype=object).astype(str).astype(object).to_numpy()
    raw = pd.util.hash_pandas_object(pd.DataFrame(columns), index=False).to_numpy(dtype=np.uint64)
    # pandas hashes numbers without its key: the seed is mixed in here instead (folded to 64 bits).
    key = _mix(np.asarray([(seed ^ (seed >> 64)) & (2**64 - 1)], dtype=np.uint64))
    return _mix(raw ^ key)


def _as_numbers(labels: npt.NDArray[Any]) -> npt.NDArray[np.float64] | None:
    """Labels as floats when they are booleans or numbers, whatever array type holds them: a column with a
    NULL once arrives as objects (the NULL's row dropped since), and must hash as it does without."""
    import pandas as pd

    if labels.dtype.kind in "biuf":
        return labels.astype(np.float64)
    kind = pd.api.types.infer_dtype(labels, skipna=True)
    if kind in ("boolean", "integer", "floating", "mixed-integer-float", "decimal"):
        return np.asarray(labels, dtype=np.float64)
    return None


def _mix(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finalizer: a bijection that spreads every input bit over the output."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))
