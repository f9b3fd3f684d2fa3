"""Rule evaluation: which actions a batch's signals trigger, given what each entity's state allows.

Pure functions over data, in two steps. `candidates` keeps, per signal, the rules whose conditions
on the signal itself hold. Whether they fire also depends on the entity's shared state (cooldowns,
the previous signal), which several consumers may be handling at the same time: the
EntityStateStore decides that, atomically per entity, with the semantics `decide` defines here.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from domain.types.events import event_id_key
from domain.types.rules import ON_PREVIOUS, Condition, RuleCandidate, RuleInput, RuleSpec, label_key
from domain.types.streams import EntityState, Signal

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
}


def candidates(rules: Sequence[RuleSpec], signals: Sequence[Signal], positions: Sequence[str],
               with_previous: bool) -> list[tuple[int, RuleInput]]:
    """(index, input) of each signal (its event at `positions[index]`) with the rules that may fire for
    it. Signals with no candidate are left out unless `with_previous`: some rule reads the entity's
    previous signal, so every signal must be remembered."""
    inputs = []
    for index, (signal, position) in enumerate(zip(signals, positions, strict=True)):
        fits = tuple(RuleCandidate(r.name, r.cooldown_s, tuple(c for c in r.when if c.on in ON_PREVIOUS))
                     for r in rules if all(holds(c, signal) for c in r.when if c.on not in ON_PREVIOUS))
        if fits or with_previous:
            score = signal.score if math.isfinite(signal.score) else None
            label = label_key(signal.label)
            inputs.append((index, RuleInput(signal.event_id, signal.entity, position, score, label, fits)))
    return inputs


def reads_previous(rules: Sequence[RuleSpec]) -> bool:
    return any(c.on in ON_PREVIOUS for r in rules for c in r.when)


def holds(condition: Condition, signal: Signal) -> bool:
    """A condition on the signal itself: its score, label or one of its features."""
    value: Any
    if condition.on == "score":
        value = signal.score
    elif condition.on == "label":
        value = signal.label
    else:
        value = signal.features.get(condition.on.removeprefix("feature:"))
    if value is None:
        return False
    if condition.op == "in":
        return value in condition.value or str(value) in [str(v) for v in condition.value]
    try:
        return _COMPARE[condition.op](value, condition.value)
    except TypeError:  # a label string compared with a number: the rule simply does not hold
        return False


def decide(state: EntityState, signal: RuleInput, now: float) -> tuple[list[str], EntityState]:
    """The rules of `signal` that fire, and the entity's state after it: EntityStateStore.fire's semantics.

    The previous signal is the entity's newest one. An event at or before its position (redelivered,
    or handled after a newer one by another consumer) is compared with nothing, so it shows no
    change, and it leaves that newest signal as it is. A rule fires when its conditions on the
    previous signal hold and `cooldown_s` has passed since it last fired. A rule that already fired
    for this very event fires again (its actions go to the queue under the same keys: the earlier
    try may have died before they did) without restarting its cooldown."""
    newer = state.position is None or event_id_key(signal.position) > event_id_key(state.position)
    previous = state if newer else EntityState()
    fired = [c.rule for c in signal.candidates if _may_fire(c, signal, state, previous, now)]
    fresh = [rule for rule in fired if state.fired_by.get(rule) != signal.event_id]
    after = replace(state, fired_at={**state.fired_at, **dict.fromkeys(fresh, now)},
                    fired_by={**state.fired_by, **dict.fromkeys(fresh, signal.event_id)})
    if newer:
        after = replace(after, score=signal.score, label=signal.label, position=signal.position)
    return fired, after


def _may_fire(candidate: RuleCandidate, signal: RuleInput, state: EntityState, previous: EntityState,
              now: float) -> bool:
    if state.fired_by.get(candidate.rule) == signal.event_id:
        return True
    last = state.fired_at.get(candidate.rule)
    if last is not None and now - last < candidate.cooldown_s:
        return False
    return all(_holds_on_previous(c, signal, previous) for c in candidate.on_previous)


def _holds_on_previous(condition: Condition, signal: RuleInput, previous: EntityState) -> bool:
    """`score_change`: the absolute difference; `label_changed`: 1.0 or 0.0 (0.0 with no previous signal)."""
    if condition.on == "score_change":
        value = 0.0 if previous.score is None or signal.score is None else abs(signal.score - previous.score)
    else:
        value = float(previous.label is not None and previous.label != signal.label)
    if condition.op == "in":
        return any(value == v for v in condition.value)
    return _COMPARE[condition.op](value, condition.value)


def triggered(rules: Sequence[RuleSpec], fired: Sequence[tuple[Signal, Sequence[str]]]) -> list[tuple[Signal, str]]:
    """(signal, action name) pairs to run, in event order, from each signal's fired rules. Two rules
    may name the same action: it runs once per event (one idempotency key)."""
    by_name = {r.name: r for r in rules}
    pairs = [(signal, action) for signal, names in fired for name in names for action in by_name[name].actions]
    seen: set[tuple[str, str]] = set()
    out = []
    for signal, action in pairs:
        if (signal.event_id, action) not in seen:
            seen.add((signal.event_id, action))
            out.append((signal, action))
    return out
