"""Row cleaning shared by every partition, whichever process runs it: pure functions on Arrow batches.

Exact and key de-duplication is not done here: a partition sees only its own rows, so duplicates
across partitions can only be removed by the commit, which sees them all (the warehouse does it
in the same statement that loads the staged files).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc


def drop_null_rows(batch: pa.RecordBatch, columns: Sequence[str]) -> tuple[pa.RecordBatch, int]:
    """The batch without rows that have a null (or a float NaN) in any of `columns`; and how many went."""
    if not columns or batch.num_rows == 0:
        return batch, 0
    keep = None
    for name in columns:
        column = batch.column(name)
        present = pc.is_valid(column)
        if pa.types.is_floating(column.type):
            present = pc.and_(present, pc.invert(pc.is_nan(column)))
        keep = present if keep is None else pc.and_(keep, present)
    kept = batch.filter(pc.fill_null(keep, False))
    return kept, batch.num_rows - kept.num_rows
