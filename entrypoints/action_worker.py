"""The `actions` queue: short timeout and its own worker settings, so a killed action is redelivered fast."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from adapters.arq.worker import QueueSettings, TaskHandler
from domain.services.actions import ActionRunner
from domain.services.inference import ACTION_TASK, ACTIONS_QUEUE
from domain.types.rules import ActionSpec
from entrypoints.container import Container


class _LazyRecord:
    """Opens the warehouse only when a `record` action runs, so webhook/publish-only workers never do."""

    def __init__(self, container: Container) -> None:
        self._container = container

    async def execute(self, action: ActionSpec, key: str, body: Mapping[str, Any]) -> None:
        await self._container.record_executor().execute(action, key, body)


def action_runner(container: Container) -> ActionRunner:
    executors = {"webhook": container.webhooks(), "publish": container.publisher(), "record": _LazyRecord(container)}
    return ActionRunner(executors, container.action_ledger(), container.dead_letters())


def action_queue_settings(container: Container) -> QueueSettings:
    s = container.settings()
    return QueueSettings(queue=ACTIONS_QUEUE, timeout_s=s.actions_timeout_s, max_tries=s.actions_max_tries,
                         concurrency=s.actions_concurrency, backoff_base_s=s.actions_backoff_base_s)


def action_handlers(container: Container) -> list[TaskHandler]:
    runner = action_runner(container)

    async def run_try(payload: Mapping[str, Any], attempt: int) -> None:
        with structlog.contextvars.bound_contextvars(pipeline=payload.get("pipeline"), action_key=payload.get("key"),
                                                     attempt=attempt):
            await runner.run(payload, attempt)

    async def run(payload: Mapping[str, Any]) -> None:
        await run_try(payload, 1)

    async def give_up_try(payload: Mapping[str, Any], message: str, tries: int) -> None:
        await runner.give_up(payload, message, tries)

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        await give_up_try(payload, message, container.settings().actions_max_tries)

    # give_up_try: the letter reports the tries made (1 for a failure given up at once, not max_tries).
    return [TaskHandler(ACTION_TASK, run, give_up, run_try=run_try, give_up_try=give_up_try)]
