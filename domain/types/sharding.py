"""How an ingestion's staged rows are split so the commit de-duplicates them a shard at a time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sharding:
    """How the staged rows are split for the commit's de-duplication: `count` files per partition.

    A row goes to the shard its `column` value hashes to, so rows that are equal (or share their keys,
    `column` being a key) always meet in one shard and each shard is de-duplicated on its own: the
    commit holds one shard's rows in its hash table, not all of them. One shard: no split.
    """

    count: int = 1
    column: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "column": self.column}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Sharding:
        return cls(int(raw["count"]), raw["column"]) if raw else cls()
