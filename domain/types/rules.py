"""Rules and actions as data: conditions on a prediction, never code to evaluate.

A condition reads one value: `score`, `label`, `feature:<name>`, or a change since the entity's
previous signal (`score_change`: absolute difference, `label_changed`: 1.0 or 0.0), and compares
it with `op` (`>`, `>=`, `<`, `<=`, `==`, `!=`, `in`). A rule fires when all its conditions hold
and its per-entity cooldown has passed; it then runs its actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.types.errors import InvalidSpec
from domain.types.identifiers import model_name, sql_identifier

OPS = frozenset({">", ">=", "<", "<=", "==", "!=", "in"})
SUBJECTS = frozenset({"score", "label", "score_change", "label_changed"})
ACTION_TYPES = frozenset({"webhook", "publish", "record"})


@dataclass(frozen=True)
class Condition:
    on: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if self.on not in SUBJECTS and not self.on.startswith("feature:"):
            raise InvalidSpec(f"condition on {self.on!r}: use score, label, score_change, label_changed "
                              "or feature:<name>", {"field": "rules.when.on"})
        if self.op not in OPS:
            raise InvalidSpec(f"unknown operator {self.op!r}; known: {' '.join(sorted(OPS))}",
                              {"field": "rules.when.op"})
        if self.op == "in" and not isinstance(self.value, list | tuple):
            raise InvalidSpec("operator 'in' takes a list", {"field": "rules.when.value"})


@dataclass(frozen=True)
class RuleSpec:
    name: str
    when: tuple[Condition, ...]
    actions: tuple[str, ...]
    cooldown_s: float = 0.0

    def __post_init__(self) -> None:
        model_name(self.name)
        if self.cooldown_s < 0:
            raise InvalidSpec("cooldown_s must be >= 0", {"field": "rules.cooldown_s"})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "actions": list(self.actions), "cooldown_s": self.cooldown_s,
                "when": [{"on": c.on, "op": c.op, "value": c.value} for c in self.when]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RuleSpec:
        when = tuple(Condition(c["on"], c["op"], list(c["value"]) if isinstance(c["value"], list | tuple)
                               else c["value"]) for c in raw.get("when") or ())
        return cls(raw["name"], when, tuple(raw.get("actions") or ()), float(raw.get("cooldown_s", 0.0)))


@dataclass(frozen=True)
class ActionSpec:
    """`webhook`: url, secret (name for the HMAC key), timeout_s; `publish`: stream; `record`: table."""

    name: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        model_name(self.name)
        if self.type not in ACTION_TYPES:
            raise InvalidSpec(f"action {self.name!r}: unknown type {self.type!r}", {"field": "actions.type"})
        required = {"webhook": "url", "publish": "stream", "record": "table"}[self.type]
        if not isinstance(self.params.get(required), str):
            raise InvalidSpec(f"action {self.name!r} ({self.type}) needs {required!r}",
                              {"field": f"actions.{required}"})
        if self.type == "record":
            sql_identifier(self.params["table"], "table")
        if self.type == "webhook" and not str(self.params["url"]).startswith(("http://", "https://")):
            raise InvalidSpec("webhook url must be http(s)", {"field": "actions.url"})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, **dict(self.params)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> ActionSpec:
        params = {k: v for k, v in raw.items() if k not in ("name", "type")}
        return cls(raw["name"], raw["type"], params)
