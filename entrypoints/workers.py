"""Builds the queue workers a process runs. Each kind of work has its own queue and timeouts,
because arq's redelivery delay follows the longest timeout in a worker."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Mapping
from typing import Any

import structlog

from adapters.arq.worker import ArqWorker, CronTask, QueueSettings, TaskHandler
from domain.services.inference import ACTIONS_QUEUE
from domain.services.ingestion import COMMIT_QUEUE, COMMIT_TASK, INGESTION_QUEUE, PLAN_TASK, STAGE_TASK
from domain.services.retrain_jobs import RETRAIN_TASK
from domain.services.training import TRAIN_TASK, TRAINING_QUEUE
from entrypoints.action_worker import action_handlers, action_queue_settings
from entrypoints.container import Container

QUEUES = (TRAINING_QUEUE, INGESTION_QUEUE, COMMIT_QUEUE, ACTIONS_QUEUE)
# Queues whose tasks open the warehouse; with DuckDB only the daemon's process may do that.
# Ingestion partitions never open it, so any process may stage them.
WAREHOUSE_QUEUES = frozenset({TRAINING_QUEUE, COMMIT_QUEUE})
# The schedule ticks and the retention sweep (arq cron jobs) run on a queue of their own, served next to
# every training worker, where they ran before: on the training queue itself they waited behind a fit
# (MLPLANE_TRAINING_CONCURRENCY at a time, 1 by default) for up to the training timeout. arq derives a
# tick's job id from its name and time, so however many processes serve this queue, a tick runs once.
TICKS_QUEUE = "ticks"
TICK_TIMEOUT_S = 300.0


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


class WorkerGroup:
    """Workers started and stopped as one: a training worker and the ticks' worker beside it."""

    def __init__(self, *workers: ArqWorker) -> None:
        self.workers = workers
        self.lease_s = workers[0].lease_s

    async def start(self) -> None:
        for worker in self.workers:
            await worker.start()

    async def stop(self, grace_s: float) -> None:
        await asyncio.gather(*(worker.stop(grace_s) for worker in self.workers))


def build_worker(container: Container, queue: str) -> ArqWorker | WorkerGroup:
    """The worker of `queue`; for training, with the ticks' worker beside it (see TICKS_QUEUE)."""
    settings = container.settings()
    # Only this queue's handlers are built: training ones open the warehouse, which an ingestion
    # worker in the 'local' profile must never do (the daemon holds the DuckDB file).
    if queue == ACTIONS_QUEUE:
        return ArqWorker(container.redis_url(), settings.namespace, action_queue_settings(container),
                         action_handlers(container), _worker_id(), lease_s=settings.worker_lease_seconds)
    handlers = _stage_handlers(container) if queue == INGESTION_QUEUE else _handlers(container)[queue]
    worker = ArqWorker(container.redis_url(), settings.namespace, _queue_settings(container, queue),
                       handlers, _worker_id(), lease_s=settings.worker_lease_seconds)
    return WorkerGroup(worker, _tick_worker(container)) if queue == TRAINING_QUEUE else worker


def _worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _tick_worker(container: Container) -> ArqWorker:
    """Runs nothing but the cron ticks, each kind in a slot of its own: none waits behind another."""
    settings, crons = container.settings(), _cron_tasks(container)
    queue = QueueSettings(queue=TICKS_QUEUE, timeout_s=TICK_TIMEOUT_S, max_tries=1, concurrency=len(crons))
    return ArqWorker(container.redis_url(), settings.namespace, queue, [], _worker_id(), crons,
                     lease_s=settings.worker_lease_seconds)


def _cron_tasks(container: Container) -> list[CronTask]:
    """Schedules (retraining and ingestion) are checked every minute; retention sweeps every model daily
    at 04:00 UTC. Each schedule kind ticks on its own, so a failure in one never skips the other."""
    async def schedule_tick() -> None:
        await container.schedules().tick()

    async def ingestion_schedule_tick() -> None:
        await container.ingestion_schedules().tick()

    async def retention_sweep() -> None:
        for model in await container.registry().list_models():
            await container.retention().apply(model)

    return [CronTask("schedule_tick", schedule_tick), CronTask("ingestion_schedule_tick", ingestion_schedule_tick),
            CronTask("retention_sweep", retention_sweep, hour=4, minute=0)]


def _queue_settings(container: Container, queue: str) -> QueueSettings:
    s = container.settings()
    if queue == INGESTION_QUEUE:  # one partition in flight per staging process
        return QueueSettings(queue=queue, timeout_s=s.ingestion_timeout_s, max_tries=s.ingestion_max_tries,
                             concurrency=max(1, s.ingestion_processes))
    if queue == COMMIT_QUEUE:  # one at a time: a warehouse load is the writer, and DuckDB has one
        return QueueSettings(queue=queue, timeout_s=s.ingestion_timeout_s, max_tries=s.ingestion_max_tries,
                             concurrency=1)
    return QueueSettings(queue=queue, timeout_s=s.training_timeout_s, max_tries=s.training_max_tries,
                         concurrency=s.training_concurrency)


def _handlers(container: Container) -> dict[str, list[TaskHandler]]:
    runner = container.training_runner()

    async def train(payload: Mapping[str, Any]) -> None:
        with structlog.contextvars.bound_contextvars(job_id=payload["job_id"]):
            await runner.run(payload["job_id"])

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        await runner.fail(payload["job_id"], message)

    retrainer = container.retrain_runner()

    async def retrain(payload: Mapping[str, Any]) -> None:
        with structlog.contextvars.bound_contextvars(job_id=payload["job_id"]):
            await retrainer.run(payload["job_id"])

    async def give_up_retrain(payload: Mapping[str, Any], message: str) -> None:
        await retrainer.fail(payload["job_id"], message)

    return {TRAINING_QUEUE: [TaskHandler(TRAIN_TASK, train, give_up),
                             TaskHandler(RETRAIN_TASK, retrain, give_up_retrain)],
            COMMIT_QUEUE: [_commit_handler(container)]}


def _stage_handlers(container: Container) -> list[TaskHandler]:
    async def stage(payload: Mapping[str, Any]) -> None:
        with structlog.contextvars.bound_contextvars(job_id=payload["ingestion_id"], partition=payload["partition"]):
            await container.partition_stager().run_partition(payload["ingestion_id"], int(payload["partition"]))

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        await container.partition_stager().fail(payload["ingestion_id"], f"partition {payload['partition']}: {message}")

    return [_plan_handler(container), TaskHandler(STAGE_TASK, stage, give_up)]


def _plan_handler(container: Container) -> TaskHandler:
    """Planning reads the source files but never the warehouse: it runs wherever partitions are staged."""
    async def plan(payload: Mapping[str, Any]) -> None:
        with structlog.contextvars.bound_contextvars(job_id=payload["ingestion_id"]):
            await container.ingestion_planner().run(payload["ingestion_id"])

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        await container.ingestion_planner().fail(payload["ingestion_id"], f"could not plan the ingestion: {message}")

    return TaskHandler(PLAN_TASK, plan, give_up)


def _commit_handler(container: Container) -> TaskHandler:
    async def commit(payload: Mapping[str, Any]) -> None:
        with structlog.contextvars.bound_contextvars(job_id=payload["ingestion_id"]):
            await container.ingestion_committer().commit(payload["ingestion_id"])

    async def give_up(payload: Mapping[str, Any], message: str) -> None:
        await container.ingestion_committer().fail(payload["ingestion_id"], message)

    return TaskHandler(COMMIT_TASK, commit, give_up)
