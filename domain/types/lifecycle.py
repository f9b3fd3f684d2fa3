"""Model lifecycle values: alias moves (the audit trail) and retention policies and plans."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from domain.types.config_fields import finite
from domain.types.errors import InvalidSpec

# Retention looks back `now - days`: past about 739,000 days that is before year 1, an OverflowError
# in every plan, sweep and retrain of the model. 700,000 still takes "99999 days: forever".
MAX_RETENTION_DAYS = 700_000


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class AliasMove:
    """One entry of an alias's history: seq 1, 2, 3... with no gaps."""

    alias: str
    seq: int
    from_version: int | None
    to_version: int
    at: datetime
    by: str
    reason: str
    metrics: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "at": iso(self.at), "metrics": dict(self.metrics)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> AliasMove:
        return cls(raw["alias"], int(raw["seq"]), raw["from_version"], int(raw["to_version"]),
                   parse_iso(raw["at"]), raw["by"], raw["reason"], raw.get("metrics", {}))


@dataclass(frozen=True)
class RetentionPolicy:
    """Keep the newest `keep_last` versions, anything younger than `keep_days`, and every version
    an alias points to or pointed to within the last `alias_days`."""

    keep_last: int = 5
    keep_days: float = 30.0
    alias_days: float = 30.0

    def __post_init__(self) -> None:
        days = (self.keep_days, self.alias_days)
        if self.keep_last < 1 or not all(finite(d) and 0 <= d <= MAX_RETENTION_DAYS for d in days):
            raise InvalidSpec(f"retention policy: keep_last >= 1; keep_days and alias_days in 0..{MAX_RETENTION_DAYS}")


@dataclass(frozen=True)
class VersionFacts:
    version: int
    created_at: datetime
    bytes: int


@dataclass(frozen=True)
class RetentionPlan:
    model: str
    keep: tuple[int, ...]
    delete: tuple[int, ...]
    reasons: Mapping[int, str]
    bytes_reclaimed: int

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "keep": list(self.keep), "delete": list(self.delete),
                "reasons": {str(k): v for k, v in self.reasons.items()}, "bytes_reclaimed": self.bytes_reclaimed}
