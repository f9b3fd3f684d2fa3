"""Rules and actions as data: conditions on a prediction, never code to evaluate.

A condition reads one value: `score`, `label`, `feature:<name>`, or a change since the entity's
previous signal (`score_change`: absolute difference, `label_changed`: 1.0 or 0.0), and compares
it with `op` (`>`, `>=`, `<`, `<=`, `==`, `!=`, `in`). Every subject but `label` is a number and
compares with numbers only: a condition that could never hold is refused, not left to stay silent.
A rule fires when all its conditions hold and its per-entity cooldown (shared by every consumer of
the pipeline) has passed; it then runs its actions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.types import config_fields as fields
from domain.types.errors import InvalidSpec
from domain.types.identifiers import model_name, sql_identifier, stream_name

OPS = frozenset({">", ">=", "<", "<=", "==", "!=", "in"})
SUBJECTS = frozenset({"score", "label", "score_change", "label_changed"})
ON_PREVIOUS = frozenset({"score_change", "label_changed"})  # subjects read from the entity's previous signal
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
        if self.op == "in" and (not isinstance(self.value, list | tuple) or not self.value):
            raise InvalidSpec("operator 'in' takes a list of one value or more", {"field": "rules.when.value"})
        if self.op != "in" and isinstance(self.value, list | tuple | Mapping):  # equal to, or ordered with, nothing
            raise InvalidSpec(f"operator {self.op!r} compares with one value, not {fields.kind(self.value)} "
                              "(operator 'in' takes a list)", {"field": "rules.when.value"})
        values = self.value if self.op == "in" else [self.value]
        # NaN never compares true (the rule would silently never fire) and is not JSON when the config is read back.
        if any(isinstance(v, float) and not fields.finite(v) for v in values):
            raise InvalidSpec(f"condition on {self.on!r}: the value must be a finite number",
                              {"field": "rules.when.value"})
        # Only a label may be text: a number compared with anything else never holds, and the rule never fires.
        bad = [v for v in values if not _is_number(v, self.on)]
        if self.on != "label" and bad:
            wanted = "numbers only" if self.op == "in" else "a number"
            raise InvalidSpec(f"condition on {self.on!r} compares a number: give {wanted} as its value, not "
                              f"{fields.kind(bad[0])}", {"field": "rules.when.value"})


def _is_number(value: Any, subject: str) -> bool:
    """A JSON number; `label_changed` (1.0 or 0.0) may also be compared with true or false."""
    if isinstance(value, bool):
        return subject == "label_changed"
    return isinstance(value, int | float)


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
        name = model_name(fields.required(raw, "name", where), "rule name")
        when = tuple(_condition(c, f"rule {name!r} ({where}.when[{i}])", f"{where}.when[{i}]")
                     for i, c in enumerate(fields.array(raw, "when", where)))
        return cls(name, when, tuple(fields.array(raw, "actions", where)),
                   fields.number(raw, "cooldown_s", 0.0, where) or 0.0)


def _condition(raw: Any, label: str, where: str) -> Condition:
    """`label` names the condition in messages (its rule and place), `where` in the field of the error."""
    raw = fields.mapping(raw, where)
    fields.known_keys(raw, ("on", "op", "value"), where)
    on, op, value = (fields.required(raw, key, where) for key in ("on", "op", "value"))
    try:
        return Condition(on, op, list(value) if isinstance(value, list | tuple) else value)
    except InvalidSpec as exc:  # the condition's own check names the part; here, which rule and condition
        part = str(exc.details.get("field", "")).rpartition(".")[2]
        raise InvalidSpec(f"{label}: {exc.message}", {**exc.details, "field": f"{where}.{part}"}) from None


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


@dataclass(frozen=True, slots=True)
class RuleCandidate:
    """A rule whose conditions on the signal itself hold: it fires if its conditions on the entity's
    previous signal (`on_previous`) hold too and its cooldown has passed, which the entity's shared
    state decides (EntityStateStore)."""

    rule: str
    cooldown_s: float
    on_previous: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class RuleInput:
    """One signal as its entity's rule state sees it: its event's place in the entity's order
    (StreamEntry.position), its score (None when not a finite number), its label as `label_key`
    text, and the rules that may fire for it."""

    event_id: str
    entity: str
    position: str
    score: float | None
    label: str
    candidates: tuple[RuleCandidate, ...]


def label_key(label: Any) -> str:
    """A label as text, equal for equal labels in any process (and in the store's own scripts)."""
    return json.dumps(label, sort_keys=True, default=str)
