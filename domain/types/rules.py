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

from domain.types import config_fields as fields
from domain.types.errors import InvalidSpec
from domain.types.identifiers import model_name, sql_identifier, stream_name

OPS = frozenset({">", ">=", "<", "<=", "==", "!=", "in"})
SUBJECTS = frozenset({"score", "label", "score_change", "label_changed"})
ACTION_TYPES = frozenset({"webhook", "publish", "record"})
_PARAMS = {"webhook": ("url", "secret", "timeout_s"), "publish": ("stream",), "record": ("table",)}


@dataclass(frozen=True)
class Condition:
    on: str
    op: str
    value: Any

    def __post_init__(self) -> None:
        if not isinstance(self.on, str) or (self.on not in SUBJECTS and not self.on.startswith("feature:")):
            raise InvalidSpec(f"condition on {self.on!r}: use score, label, score_change, label_changed "
                              "or feature:<name>", {"field": "rules.when.on"})
        if not isinstance(self.op, str) or self.op not in OPS:
            raise InvalidSpec(f"unknown operator {self.op!r}; known: {' '.join(sorted(OPS))}",
                              {"field": "rules.when.op"})
        if self.op == "in" and not isinstance(self.value, list | tuple):
            raise InvalidSpec("operator 'in' takes a list", {"field": "rules.when.value"})
        # NaN never compares true (the rule would silently never fire) and is not JSON when the config is read back.
        values = self.value if isinstance(self.value, list | tuple) else [self.value]
        if any(isinstance(v, float) and not fields.finite(v) for v in values):
            raise InvalidSpec(f"condition on {self.on!r}: the value must be a finite number",
                              {"field": "rules.when.value"})


@dataclass(frozen=True)
class RuleSpec:
    name: str
    when: tuple[Condition, ...]
    actions: tuple[str, ...]
    cooldown_s: float = 0.0

    def __post_init__(self) -> None:
        model_name(self.name, "rule name")
        if not fields.finite(self.cooldown_s) or self.cooldown_s < 0:
            raise InvalidSpec("cooldown_s must be a finite number >= 0", {"field": "rules.cooldown_s"})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "actions": list(self.actions), "cooldown_s": self.cooldown_s,
                "when": [{"on": c.on, "op": c.op, "value": c.value} for c in self.when]}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "rule") -> RuleSpec:
        raw = fields.mapping(raw, where)
        fields.known_keys(raw, ("name", "when", "actions", "cooldown_s"), where)
        when = tuple(_condition(c, f"{where}.when[{i}]") for i, c in enumerate(fields.array(raw, "when", where)))
        return cls(fields.required(raw, "name", where), when, tuple(fields.array(raw, "actions", where)),
                   fields.number(raw, "cooldown_s", 0.0, where) or 0.0)


def _condition(raw: Any, where: str) -> Condition:
    raw = fields.mapping(raw, where)
    fields.known_keys(raw, ("on", "op", "value"), where)
    value = fields.required(raw, "value", where)
    return Condition(fields.required(raw, "on", where), fields.required(raw, "op", where),
                     list(value) if isinstance(value, list | tuple) else value)


@dataclass(frozen=True)
class ActionSpec:
    """`webhook`: url, secret (name for the HMAC key), timeout_s; `publish`: stream; `record`: table."""

    name: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        model_name(self.name, "action name")
        if not isinstance(self.type, str) or self.type not in ACTION_TYPES:
            raise InvalidSpec(f"action {self.name!r}: unknown type {self.type!r}", {"field": "actions.type"})
        # Checked now, not when the first signal fires the action and it fails.
        fields.known_keys(self.params, _PARAMS[self.type], f"action {self.name!r} ({self.type})")
        required = _PARAMS[self.type][0]
        if not isinstance(self.params.get(required), str):
            raise InvalidSpec(f"action {self.name!r} ({self.type}) needs {required!r}",
                              {"field": f"actions.{required}"})
        if self.type == "record":
            sql_identifier(self.params["table"], "table")
        if self.type == "publish":
            stream_name(self.params["stream"])
        if self.type == "webhook":
            _check_webhook(self.params)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, **dict(self.params)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], where: str = "action") -> ActionSpec:
        raw = fields.mapping(raw, where)
        params = {k: v for k, v in raw.items() if k not in ("name", "type")}
        return cls(fields.required(raw, "name", where), fields.required(raw, "type", where), params)


def _check_webhook(params: Mapping[str, Any]) -> None:
    if not params["url"].startswith(("http://", "https://")):
        raise InvalidSpec("webhook url must be http(s)", {"field": "actions.url"})
    if params.get("secret") is not None and not isinstance(params["secret"], str):  # null: no secret
        raise InvalidSpec("webhook secret is the name of a secret, a string", {"field": "actions.secret"})
    timeout = params.get("timeout_s", 1.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not fields.finite(timeout) or timeout <= 0:
        raise InvalidSpec("webhook timeout_s must be a finite number of seconds > 0", {"field": "actions.timeout_s"})
