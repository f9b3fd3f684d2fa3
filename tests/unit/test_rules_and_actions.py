"""Rules as data (thresholds, classes, changes, cooldowns) and the idempotent action runner with its DLQ."""

from __future__ import annotations

import pytest

from domain.services.actions import ActionRunner
from domain.services.dead_letter_replay import DeadLetterService
from domain.services.rules import candidates, reads_previous, triggered
from domain.types.errors import InvalidSpec, PermanentError, TransientError
from domain.types.rules import RuleSpec
from domain.types.streams import Signal
from tests.fakes.dead_letters import InMemoryDeadLetters
from tests.fakes.inference import InMemoryActionLedger, InMemoryEntityStateStore, RecordingExecutor
from tests.fakes.task_queue import InMemoryTaskQueue

pytestmark = pytest.mark.unit


def signal(event: str, entity: str, score: float, label: object = 1) -> Signal:
    return Signal(f"{event}-0", entity, 1, score, label, {"f0": score * 10}, 1.0)


def rule(when: list[dict[str, object]], cooldown_s: float = 0.0) -> RuleSpec:
    return RuleSpec.from_dict({"name": "r", "when": when, "actions": ["a"], "cooldown_s": cooldown_s})


async def fired(rules: list[RuleSpec], signals: list[Signal], now: float = 100.0,
                states: InMemoryEntityStateStore | None = None) -> list[str]:
    """The events (their number) whose actions run, deciding as InferenceService does."""
    store = states or InMemoryEntityStateStore()
    picked = candidates(rules, signals, [s.event_id for s in signals], reads_previous(rules))
    names = await store.fire("p1", [item for _, item in picked], now)
    chosen = [(signals[index], fired) for (index, _), fired in zip(picked, names, strict=True)]
    return [s.event_id.removesuffix("-0") for s, _ in triggered(rules, chosen)]


async def test_threshold_class_and_feature_conditions() -> None:
    signals = [signal("1", "a", 0.95, "churn"), signal("2", "b", 0.2, "stay"), signal("3", "c", 0.91, "stay")]
    assert await fired([rule([{"on": "score", "op": ">", "value": 0.9}])], signals) == ["1", "3"]
    assert await fired([rule([{"on": "label", "op": "in", "value": ["churn"]}])], signals) == ["1"]
    both = rule([{"on": "score", "op": ">", "value": 0.9}, {"on": "feature:f0", "op": "<", "value": 9.2}])
    assert await fired([both], signals) == ["3"]


async def test_change_since_the_previous_signal_of_the_same_entity_within_a_batch() -> None:
    signals = [signal("1", "a", 0.1, 0), signal("2", "a", 0.8, 1), signal("3", "a", 0.85, 1)]
    assert await fired([rule([{"on": "label_changed", "op": "==", "value": 1.0}])], signals) == ["2"]
    assert await fired([rule([{"on": "score_change", "op": ">=", "value": 0.5}])], signals) == ["2"]


async def test_cooldown_is_per_entity_and_remembered_across_batches() -> None:
    high, states = rule([{"on": "score", "op": ">", "value": 0.5}], cooldown_s=60), InMemoryEntityStateStore()
    signals = [signal("1", "a", 0.9), signal("2", "a", 0.9), signal("3", "b", 0.9)]
    assert await fired([high], signals, 100.0, states) == ["1", "3"]
    assert await fired([high], [signal("4", "a", 0.9)], 150.0, states) == []
    assert await fired([high], [signal("5", "a", 0.9)], 161.0, states) == ["5"]


def test_rules_refuse_operators_that_are_not_data() -> None:
    with pytest.raises(InvalidSpec):
        rule([{"on": "score", "op": "__import__", "value": 1}])


def action_payload(key: str = "p1:1-0:hook") -> dict[str, object]:
    return {"pipeline": "p1", "key": key, "action": {"name": "hook", "type": "webhook", "url": "http://x/"},
            "body": {"event_id": "1-0"}}


async def test_an_action_runs_once_per_key_even_when_redelivered() -> None:
    executor, ledger, dlq = RecordingExecutor(), InMemoryActionLedger(), InMemoryDeadLetters()
    runner = ActionRunner({"webhook": executor}, ledger, dlq)
    await runner.run(action_payload())
    await runner.run(action_payload())
    assert executor.calls == ["p1:1-0:hook"]


async def test_transient_errors_propagate_for_retry_and_permanent_ones_are_dead_lettered() -> None:
    executor, ledger, dlq = RecordingExecutor(), InMemoryActionLedger(), InMemoryDeadLetters()
    runner = ActionRunner({"webhook": executor}, ledger, dlq)
    executor.failures = [TransientError("503"), PermanentError("webhook answered 400")]
    with pytest.raises(TransientError):
        await runner.run(action_payload())
    await runner.run(action_payload())
    [letter] = await dlq.list("p1", "action")
    assert letter.cause == "webhook answered 400" and letter.key == "p1:1-0:hook"
    assert executor.calls == []


async def test_replaying_a_dead_letter_reenqueues_the_same_idempotency_key() -> None:
    dlq, queue = InMemoryDeadLetters(), InMemoryTaskQueue()
    letter = await dlq.park("action", "p1", "p1:1-0:hook", "400", 1, action_payload())
    replayed = await DeadLetterService(dlq, queue).replay(letter.id)
    assert replayed.id == letter.id and await dlq.list() == []
    [task] = queue.tasks
    assert task.payload["key"] == "p1:1-0:hook" and task.queue == "actions"
    executor = RecordingExecutor()
    await ActionRunner({"webhook": executor}, InMemoryActionLedger(), dlq).run(task.payload)
    assert executor.calls == ["p1:1-0:hook"]


async def test_replaying_a_dead_lettered_event_redelivers_it_to_its_pipeline_alone() -> None:
    dlq = InMemoryDeadLetters()
    letter = await dlq.park("event", "p1", "p1:1-0", "bad JSON", 1, {"stream": "events", "id": "1-0", "raw": "{"})
    await DeadLetterService(dlq, InMemoryTaskQueue()).replay(letter.id)
    assert dlq.redelivered == [("pipeline:p1", "1-0", "{")] and letter.id not in dlq.items
