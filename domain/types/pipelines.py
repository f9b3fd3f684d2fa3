"""Pipeline configuration: stream, entity key, window, features, model, batching, rules, actions.

A pipeline is data. `from_dict` validates everything a user can get wrong and raises InvalidSpec
naming the field; `to_dict` is its exact inverse, so configs round-trip through any store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.types import config_fields as fields
from domain.types.errors import InvalidSpec
from domain.types.identifiers import model_name, sql_identifier, stream_name
from domain.types.rules import ActionSpec, RuleSpec

AGGREGATIONS = frozenset(
    {"last", "mean", "std", "min", "max", "sum", "count", "slope", "skew", "kurtosis", "percentile"}
)
_KEYS = frozenset({"name", "stream", "entity_key", "model", "alias", "features", "window", "batch_size",
                   "max_wait_ms", "max_deliveries", "rules", "actions", "signals_table"})


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
        seconds_ok = self.seconds is None or (fields.finite(self.seconds) and self.seconds > 0)
        if type(self.events) is not int or not 1 <= self.events <= 10_000 or not seconds_ok:
            raise InvalidSpec("window: events an integer in 1..10000, seconds a finite number > 0 (or null)",
                              {"field": "window"})


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
        model_name(self.name, "pipeline name")
        model_name(self.model)
        model_name(self.alias, "alias")
        sql_identifier(self.entity_key, "entity key")
        stream_name(self.stream)
        if not self.features:
            raise InvalidSpec("a pipeline needs at least one feature", {"field": "features"})
        if len({f.name for f in self.features}) != len(self.features):
            raise InvalidSpec("two features share a name", {"field": "features"})
        if not 1 <= self.batch_size <= 10_000:
            raise InvalidSpec(f"batch_size must be in 1..10000, got {self.batch_size}", {"field": "batch_size"})
        if not 1 <= self.max_wait_ms <= 60_000:
            raise InvalidSpec(f"max_wait_ms must be in 1..60000, got {self.max_wait_ms}", {"field": "max_wait_ms"})
        if self.signals_table is not None:
            sql_identifier(self.signals_table, "signals_table")
        if not 1 <= self.max_deliveries <= 100:
            raise InvalidSpec("max_deliveries in 1..100", {"field": "max_deliveries"})
        _check_references(self.rules, self.actions, self.feature_names)

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
        raw = fields.mapping(raw, "pipeline")
        fields.known_keys(raw, _KEYS, "pipeline")
        name, model = fields.required(raw, "name", "pipeline"), fields.required(raw, "model", "pipeline")
        window = fields.mapping({} if raw.get("window") is None else raw["window"], "window")
        fields.known_keys(window, ("events", "seconds"), "window")
        listed = {key: fields.array(raw, key, "pipeline") for key in ("features", "rules", "actions")}
        try:
            return cls(
                name=name, stream=name if raw.get("stream") is None else raw["stream"],
                entity_key=raw.get("entity_key", "entity_id"), model=model, alias=raw.get("alias", "production"),
                features=tuple(_feature(f, f"features[{i}]") for i, f in enumerate(listed["features"])),
                window=WindowSpec(fields.integer(window, "events", 20, "window"),
                                  fields.number(window, "seconds", None, "window")),
                batch_size=fields.integer(raw, "batch_size", 256, "pipeline"),
                max_wait_ms=fields.integer(raw, "max_wait_ms", 20, "pipeline"),
                max_deliveries=fields.integer(raw, "max_deliveries", 5, "pipeline"),
                rules=tuple(RuleSpec.from_dict(r, f"rules[{i}]") for i, r in enumerate(listed["rules"])),
                actions=tuple(ActionSpec.from_dict(a, f"actions[{i}]") for i, a in enumerate(listed["actions"])),
                signals_table=raw.get("signals_table") or None,
            )
        except InvalidSpec:
            raise
        except (TypeError, ValueError, AttributeError) as exc:  # a shape the checks above did not foresee
            raise InvalidSpec(f"invalid pipeline: {type(exc).__name__}: {exc}", {"field": str(exc)}) from exc


def _feature(raw: Any, where: str) -> FeatureSpec:
    """`"f0"` means the last value of f0; an object names field, agg, q and optionally the name."""
    if isinstance(raw, str):
        return FeatureSpec(raw, raw)
    if not isinstance(raw, Mapping):
        raise InvalidSpec(f"{where} must be a field name or an object with field, agg, q, name; got "
                          f"{fields.kind(raw)}", {"field": where})
    fields.known_keys(raw, ("name", "field", "agg", "q"), where)
    column, agg = fields.required(raw, "field", where), raw.get("agg", "last")
    if not isinstance(column, str) or not isinstance(agg, str):
        raise InvalidSpec(f"{where}: 'field' and 'agg' are strings", {"field": where})
    default = column if agg == "last" else f"{column}_{agg}"
    return FeatureSpec(raw.get("name") or default, column, agg, fields.number(raw, "q", None, where))


def _check_references(rules: Sequence[RuleSpec], actions: Sequence[ActionSpec], features: Sequence[str]) -> None:
    """What a pipeline's rules and actions must agree on: one name each (a second action of the same
    name was silently ignored, two rules of one name shared a cooldown), and rules that name only
    actions and features the pipeline has."""
    _unique("actions", [a.name for a in actions])
    _unique("rules", [r.name for r in rules])
    known = {a.name for a in actions}
    for i, rule in enumerate(rules):
        if missing := set(rule.actions) - known:
            raise InvalidSpec(f"rule {rule.name!r} names unknown actions {sorted(missing)}",
                              {"field": f"rules[{i}].actions"})
        for j, condition in enumerate(rule.when):
            if condition.on.startswith("feature:") and condition.on.removeprefix("feature:") not in features:
                raise InvalidSpec(f"rule {rule.name!r} (rules[{i}].when[{j}]): {condition.on!r} is no feature of "
                                  f"the pipeline; use feature:<name> with one of: {', '.join(features)}",
                                  {"field": f"rules[{i}].when[{j}].on"})


def _unique(kind: str, names: list[str]) -> None:
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in first:
            raise InvalidSpec(f"{kind}[{index}].name {name!r} is already the name of {kind}[{first[name]}]: "
                              f"give each of the {kind} its own name", {"field": f"{kind}[{index}].name"})
        first[name] = index
