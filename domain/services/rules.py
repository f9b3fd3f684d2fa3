"""Rule evaluation: which actions a signal triggers, given what the entity's previous signal was.

Pure functions over data. Events of one entity in a batch are evaluated in order, each seeing
the state the previous one left, so a batch decides exactly what one-by-one processing would.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from domain.types.rules import Condition, RuleSpec
from domain.types.streams import EntityState, Signal

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
}


def subject_value(condition: Condition, signal: Signal, previous: EntityState) -> Any:
    if condition.on == "score":
        return signal.score
    if condition.on == "label":
        return signal.label
    if condition.on == "score_change":
        return 0.0 if previous.score is None else abs(signal.score - previous.score)
    if condition.on == "label_changed":
        return float(previous.label is not None and previous.label != signal.label)
    return signal.features.get(condition.on.removeprefix("feature:"))


def holds(condition: Condition, signal: Signal, previous: EntityState) -> bool:
    value = subject_value(condition, signal, previous)
    if value is None:
        return False
    if condition.op == "in":
        return value in condition.value or str(value) in [str(v) for v in condition.value]
    try:
        return _COMPARE[condition.op](value, condition.value)
    except TypeError:  # comparing a label string with a number: the rule simply does not hold
        return False


def fired_rules(rules: Sequence[RuleSpec], signal: Signal, previous: EntityState, now: float) -> list[RuleSpec]:
    fired = []
    for rule in rules:
        last = previous.fired_at.get(rule.name)
        if last is not None and now - last < rule.cooldown_s:
            continue
        if all(holds(c, signal, previous) for c in rule.when):
            fired.append(rule)
    return fired


def evaluate_batch(
    rules: Sequence[RuleSpec], signals: Sequence[Signal], states: Mapping[str, EntityState], now: float
) -> tuple[list[tuple[Signal, str]], dict[str, EntityState]]:
    """(signal, action name) pairs to run, in event order, and each entity's new state."""
    current = dict(states)
    triggered: list[tuple[Signal, str]] = []
    for signal in signals:
        previous = current.get(signal.entity, EntityState())
        fired = fired_rules(rules, signal, previous, now)
        for rule in fired:
            triggered.extend((signal, action) for action in rule.actions)
        fired_at = {**previous.fired_at, **{r.name: now for r in fired}}
        current[signal.entity] = replace(previous, score=signal.score, label=signal.label, fired_at=fired_at)
    # Two rules may name the same action: it runs once per event (one idempotency key).
    return _unique(triggered), current


def _unique(pairs: list[tuple[Signal, str]]) -> list[tuple[Signal, str]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for signal, action in pairs:
        if (signal.event_id, action) not in seen:
            seen.add((signal.event_id, action))
            out.append((signal, action))
    return out
