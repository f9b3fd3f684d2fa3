"""Row cleaning shared by every partition, whichever process runs it: pure functions on Arrow batches.

Exact and key de-duplication is not done here: a partition sees only its own rows, so duplicates
across partitions can only be removed by the commit, which sees them all (the warehouse does it
in the same statement that loads the staged files).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

Rows = TypeVar("Rows", pa.RecordBatch, pa.Table)


def drop_null_rows(batch: Rows, columns: Sequence[str]) -> tuple[Rows, int]:
    """The rows without those that have a null (or a float NaN) in any of `columns`; and how many went.

    A handful of compute calls per column whatever the size: call it on large tables, not small batches.
    """
    if not columns or batch.num_rows == 0:
        return batch, 0
    keep = None
    for name in columns:
        column = batch.column(name)
        present = pc.is_valid(column)
        if pa.types.is_floating(column.type):
            present = pc.and_(present, pc.invert(pc.is_nan(column)))
        keep = present if keep is None else pc.and_(keep, present)
    # A null mask entry (a null that is_nan saw) drops the row: filter's default. No fill_null:
    # its scalar conversion imports pandas, ~60 MiB in every staging process.
    kept = batch.filter(keep)
    return kept, batch.num_rows - kept.num_rows
