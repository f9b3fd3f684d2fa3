"""Pipeline configuration: stream, entity key, window, features, model, batching, rules, actions.

A pipeline is data. `from_dict` validates everything a user can get wrong and raises InvalidSpec
naming the field; `to_dict` is its exact inverse, so configs round-trip through any store.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.types.errors import InvalidSpec
from domain.types.identifiers import model_name, sql_identifier
from domain.types.rules import ActionSpec, RuleSpec

AGGREGATIONS = frozenset(
    {"last", "mean", "std", "min", "max", "sum", "count", "slope", "skew", "kurtosis", "percentile"}
)
_STREAM = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,62}")


def stream_name(value: str) -> str:
    """Stream names become Redis key segments: letters, digits, '_', '.', '-'; max 63."""
    if not isinstance(value, str) or _STREAM.fullmatch(value) is None:
        raise InvalidSpec(f"invalid stream name {value!r}: letters, digits, '_', '.', '-'; starts with a letter",
                          {"field": "stream"})
    return value


@dataclass(frozen=True)
class FeatureSpec:
    """One model input: `agg` over the window's values of `field` (`q` for percentiles)."""

    name: str
    field: str
    agg: str = "last"
    q: float | None = None

    def __post_init__(self) -> None:
        sql_identifier(self.name, "feature name")
        sql_identifier(self.field, "event field")
        if self.agg not in AGGREGATIONS:
            raise InvalidSpec(f"feature {self.name!r}: unknown aggregation {self.agg!r}; "
                              f"known: {', '.join(sorted(AGGREGATIONS))}", {"field": f"features.{self.name}.agg"})
        if (self.agg == "percentile") != (self.q is not None) or not 0 <= (self.q or 0) <= 100:
            raise InvalidSpec(f"feature {self.name!r}: 'q' (0-100) goes with agg 'percentile' only",
                              {"field": f"features.{self.name}.q"})


@dataclass(frozen=True)
class WindowSpec:
    """Last `events` events per entity, or those of the last `seconds` (capped at `events`)."""

    events: int = 20
    seconds: float | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.events <= 10_000 or (self.seconds is not None and self.seconds <= 0):
            raise InvalidSpec("window: events in 1..10000, seconds > 0", {"field": "window"})


@dataclass(frozen=True)
class PipelineConfig:
    name: str
    stream: str
    entity_key: str
    model: str
    features: tuple[FeatureSpec, ...]
    window: WindowSpec = field(default_factory=WindowSpec)
    alias: str = "production"
    batch_size: int = 256
    max_wait_ms: int = 20
    rules: tuple[RuleSpec, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    max_deliveries: int = 5
    signals_table: str | None = None  # also record every signal in this warehouse table

    def __post_init__(self) -> None:
        model_name(self.name)
        model_name(self.model)
        model_name(self.alias)
        sql_identifier(self.entity_key, "entity key")
        stream_name(self.stream)
        if not self.features:
            raise InvalidSpec("a pipeline needs at least one feature", {"field": "features"})
        if len({f.name for f in self.features}) != len(self.features):
            raise InvalidSpec("two features share a name", {"field": "features"})
        if not 1 <= self.batch_size <= 10_000 or not 1 <= self.max_wait_ms <= 60_000:
            raise InvalidSpec("batch_size in 1..10000 and max_wait_ms in 1..60000", {"field": "batch_size"})
        if self.signals_table is not None:
            sql_identifier(self.signals_table, "signals_table")
        if not 1 <= self.max_deliveries <= 100:
            raise InvalidSpec("max_deliveries in 1..100", {"field": "max_deliveries"})
        names = {a.name for a in self.actions}
        for rule in self.rules:
            if missing := set(rule.actions) - names:
                raise InvalidSpec(f"rule {rule.name!r} names unknown actions {sorted(missing)}",
                                  {"field": "rules"})

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def fields(self) -> tuple[str, ...]:
        """Event fields the windows keep, in a stable order."""
        return tuple(dict.fromkeys(f.field for f in self.features))

    def check_model_features(self, model_features: Sequence[str], version: int) -> None:
        """InvalidSpec unless the features are exactly the model's inputs (any order)."""
        if set(model_features) != set(self.feature_names) or len(model_features) != len(self.features):
            raise InvalidSpec(
                f"pipeline features {sorted(self.feature_names)} do not match {self.model} v{version}'s "
                f"features {list(model_features)}",
                {"field": "features", "model_features": list(model_features), "version": version})

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "stream": self.stream, "entity_key": self.entity_key, "model": self.model,
            "alias": self.alias, "batch_size": self.batch_size, "max_wait_ms": self.max_wait_ms,
            "max_deliveries": self.max_deliveries, "signals_table": self.signals_table,
            "window": {"events": self.window.events, "seconds": self.window.seconds},
            "features": [{"name": f.name, "field": f.field, "agg": f.agg, **({"q": f.q} if f.q is not None else {})}
                         for f in self.features],
            "rules": [r.to_dict() for r in self.rules],
            "actions": [a.to_dict() for a in self.actions],
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> PipelineConfig:
        try:
            return cls(
                name=raw["name"], stream=raw.get("stream") or raw["name"],
                entity_key=raw.get("entity_key", "entity_id"),
                model=raw["model"], alias=raw.get("alias", "production"),
                features=tuple(_feature(f) for f in raw["features"]),
                window=WindowSpec(**(raw.get("window") or {})),
                batch_size=int(raw.get("batch_size", 256)), max_wait_ms=int(raw.get("max_wait_ms", 20)),
                max_deliveries=int(raw.get("max_deliveries", 5)),
                rules=tuple(RuleSpec.from_dict(r) for r in raw.get("rules") or ()),
                actions=tuple(ActionSpec.from_dict(a) for a in raw.get("actions") or ()),
                signals_table=raw.get("signals_table") or None,
            )
        except InvalidSpec:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidSpec(f"invalid pipeline: {type(exc).__name__}: {exc}", {"field": str(exc)}) from exc


def _feature(raw: Any) -> FeatureSpec:
    """`"f0"` means the last value of f0; a dict names field, agg, q and optionally the name."""
    if isinstance(raw, str):
        return FeatureSpec(raw, raw)
    agg = raw.get("agg", "last")
    default = raw["field"] if agg == "last" else f"{raw['field']}_{agg}"
    q = None if raw.get("q") is None else float(raw["q"])
    return FeatureSpec(raw.get("name") or default, raw["field"], agg, q)
