"""How many dedupe shards an ingestion's commit works in, and which column puts a row in its shard.

De-duplicating all staged rows in one statement makes the warehouse hold every row in one hash
table: DuckDB's DISTINCT over 5M rows peaked near 900 MiB in the daemon, or spilled to disk and
ran ~20% slower under a memory limit. Split into shards of about `shard_rows` rows, the table
holds one shard at a time. Rows that must meet (equal rows, or rows with equal keys) have equal
values in every column, or in the first key, so hashing that one column is enough to send them to
the same shard. The column is one whose type the plan fixes (every partition casts to it, so a
value is hashed in the same form everywhere); numbers and times hash best, text next, and a column
known to hold only a few values (a year, a flag: from the CSV sample or a Parquet integer's range)
is passed over, since its rows could fill only a few shards.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from domain.types.ingestion import Dedupe, IngestionSpec, WriteMode
from domain.types.sharding import Sharding

DEFAULT_SHARD_ROWS = 500_000
MAX_SHARDS = 64  # beyond this many files per partition, listing and opening them costs more than it saves
MIN_VALUES_PER_SHARD = 8  # fewer distinct values than this per shard, and some shards get several times their share

# Type aliases the staging hash handles, best spread first (bool has two values: no spread at all).
_KINDS = (re.compile(r"^u?int(8|16|32|64)$"), re.compile(r"^(timestamp|date|time|duration)"),
          re.compile(r"^(large_)?(string|utf8)$"), re.compile(r"^(double|float|halffloat)$"))


def plan_sharding(spec: IngestionSpec, columns: Sequence[str], types: Mapping[str, str], rows: int,
                  shard_rows: int = DEFAULT_SHARD_ROWS, spread: Mapping[str, int] | None = None) -> Sharding:
    """One shard unless there is something to de-duplicate, more than `shard_rows` rows and a column to hash.
    `spread`: distinct values per column where known (a sample's count, an integer's range)."""
    dedupe = Dedupe.KEYS if spec.mode is WriteMode.UPSERT else spec.cleaning.dedupe
    if dedupe is Dedupe.NONE or shard_rows <= 0 or rows <= shard_rows:
        return Sharding()
    count = min(MAX_SHARDS, math.ceil(rows / shard_rows))
    column = shard_column(spec.keys[:1] if dedupe is Dedupe.KEYS else columns, types, spread or {}, count)
    return Sharding(count, column) if column else Sharding()


def shard_column(candidates: Sequence[str], types: Mapping[str, str], spread: Mapping[str, int],
                 count: int) -> str | None:
    """The candidate of the best-spreading kind (first in column order within a kind), among those not
    known to hold too few values to fill `count` shards evenly (a year, a 0/1 flag); failing that, the one
    known to hold the most. None if no candidate has a fixed, hashable type."""
    hashable = [c for kind in _KINDS for c in candidates if kind.match(types.get(c, ""))]
    wide = [c for c in hashable if spread.get(c, MIN_VALUES_PER_SHARD * count) >= MIN_VALUES_PER_SHARD * count]
    if wide or not hashable:
        return wide[0] if wide else None
    return max(hashable, key=lambda c: spread.get(c, 0))
