"""How many dedupe shards an ingestion's commit works in, and which column puts a row in its shard.

De-duplicating all staged rows in one statement makes the warehouse hold every row in one hash
table: DuckDB's DISTINCT over 5M rows peaked near 900 MiB in the daemon, or spilled to disk and
ran ~20% slower under a memory limit. Split into shards of about `shard_rows` rows, the table
holds one shard at a time. Rows that must meet (equal rows, or rows with equal keys) have equal
values in every column, or in the first key, so hashing that one column is enough to send them to
the same shard. The column is one whose type the plan fixes (every partition casts to it, so a
value is hashed in the same form everywhere); numbers and times hash best, text next.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from domain.types.ingestion import Dedupe, IngestionSpec, WriteMode
from domain.types.sharding import Sharding

DEFAULT_SHARD_ROWS = 500_000
MAX_SHARDS = 64  # beyond this many files per partition, listing and opening them costs more than it saves

# Type aliases the staging hash handles, best spread first (bool has two values: no spread at all).
_KINDS = (re.compile(r"^u?int(8|16|32|64)$"), re.compile(r"^(timestamp|date|time|duration)"),
          re.compile(r"^(large_)?(string|utf8)$"), re.compile(r"^(double|float|halffloat)$"))


def plan_sharding(spec: IngestionSpec, columns: Sequence[str], types: Mapping[str, str], rows: int,
                  shard_rows: int = DEFAULT_SHARD_ROWS) -> Sharding:
    """One shard unless there is something to de-duplicate, more than `shard_rows` rows and a column to hash."""
    dedupe = Dedupe.KEYS if spec.mode is WriteMode.UPSERT else spec.cleaning.dedupe
    if dedupe is Dedupe.NONE or shard_rows <= 0 or rows <= shard_rows:
        return Sharding()
    column = shard_column(spec.keys[:1] if dedupe is Dedupe.KEYS else columns, types)
    if column is None:
        return Sharding()
    return Sharding(min(MAX_SHARDS, math.ceil(rows / shard_rows)), column)


def shard_column(candidates: Sequence[str], types: Mapping[str, str]) -> str | None:
    """The candidate of the best-spreading kind (first in column order within a kind); None if none has a
    fixed, hashable type."""
    for kind in _KINDS:
        for column in candidates:
            if kind.match(types.get(column, "")):
                return column
    return None
