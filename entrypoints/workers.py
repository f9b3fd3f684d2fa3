"""Builds the queue workers a process runs. Each kind of work has its own queue and timeouts,
because arq's redelivery delay follows the longest timeout in a worker."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Mapping
from typing import Any

import structlog

from adapters.arq.worker import ArqWorker, QueueSettings, TaskHandler
from domain.services.training import TRAIN_TASK, TRAINING_QUEUE
from entrypoints.container import Container

QUEUES = (TRAINING_QUEUE,)
# Queues whose tasks open the warehouse; with DuckDB only the daemon's process may do that.
WAREHOUSE_QUEUES = frozenset({TRAINING_QUEUE})


class WorkerRefused(RuntimeError):
    """This process may not serve the requested queue; the message says why and what to do."""


def check_queue_allowed(queue: str, profile: str, in_daemon: bool) -> None:
    if queue not in QUEUES:
        raise WorkerRefused(f"unknown queue {queue!r}; known queues: {', '.join(QUEUES)}")
    if queue in WAREHOUSE_QUEUES and profile == "local" and not in_daemon:
        raise WorkerRefused(
            f"the {queue!r} queue reads the warehouse, and in the 'local' profile the DuckDB file is "
            "owned by the daemon ('mlplane up'), which already runs this queue. Run separate "
            "training workers with the 'emulated' or 'gcp' profile (BigQuery serves every worker)."
        )


def build_worker(container: Container, queue: str) -> ArqWorker:
    settings = container.settings()
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    handlers = _handlers(container)[queue]
    return ArqWorker(container.redis_url(), settings.namespace, _queue_settings(container, queue),
                     handlers, worker_id)


def _queue_settings(container: Container, queue: str) -> QueueSettings:
    s = container.settings()
    return QueueSettings(queue=queue, timeout_s=s.training_timeout_s, max_tries=s.training_max_tries,
                         concurrency=s.training_concurrency)


def _handlers(container: Container) -> dict[str, list[TaskHandler]]:
    runner = container.training_runner()

    async def train(payload: Mapping[str, Any]) -> None:
        with structlog.contextvars.bound_contextvars(job_id=payload["job_id"]):
            await runner.run(payload["job_id"])

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        await runner.fail(payload["job_id"], message)

    return {TRAINING_QUEUE: [TaskHandler(TRAIN_TASK, train, give_up)]}
