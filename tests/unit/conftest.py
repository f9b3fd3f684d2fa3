"""Unit-test wiring: the real domain services over in-memory fakes of every port (training, ingestion)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pytest

from adapters.cron.calendar import CroniterCalendar
from domain.services.aliases import AliasService
from domain.services.ingestion import COMMIT_TASK, PLAN_TASK, STAGE_TASK, IngestionService
from domain.services.ingestion_commit import IngestionCommitter
from domain.services.ingestion_planning import IngestionPlanner
from domain.services.ingestion_run import PartitionStager
from domain.services.job_lifecycle import JobLifecycle
from domain.services.registry import ModelRegistry
from domain.services.retention import RetentionService
from domain.services.retrain_jobs import RetrainJobs
from domain.services.retraining import RetrainRunner
from domain.services.schedules import ScheduleService
from domain.services.trainer import Trainer
from domain.services.training import TrainingService
from domain.services.training_run import TrainingRunner
from domain.types.lifecycle import RetentionPolicy
from tests.fakes.artifact_store import InMemoryArtifactStore
from tests.fakes.bulk_files import InMemoryBulkFiles
from tests.fakes.clock import FakeClock, SequentialIds
from tests.fakes.event_log import InMemoryEventLog
from tests.fakes.job_store import InMemoryJobStore
from tests.fakes.model_backend import MajorityModelBackend
from tests.fakes.task_queue import InMemoryTaskQueue, QueuedTask
from tests.fakes.warehouse import InMemoryWarehouse


@dataclass
class World:
    warehouse: InMemoryWarehouse
    artifacts: InMemoryArtifactStore
    backend: MajorityModelBackend
    jobs: InMemoryJobStore
    events: InMemoryEventLog
    queue: InMemoryTaskQueue
    clock: FakeClock
    service: TrainingService
    runner: TrainingRunner
    registry: ModelRegistry
    aliases: AliasService
    retention: RetentionService
    retrains: RetrainJobs
    retrain_runner: RetrainRunner
    schedules: ScheduleService


def people_table(rows: int = 200, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 2))
    return pa.table({"name": [f"p{i}" for i in range(rows)], "x0": x[:, 0], "x1": x[:, 1],
                     "y": (x[:, 0] > 0).astype("int64")})


@pytest.fixture
async def world() -> World:
    warehouse, artifacts, backend = InMemoryWarehouse(), InMemoryArtifactStore(), MajorityModelBackend()
    jobs, events, queue, clock = InMemoryJobStore(), InMemoryEventLog(), InMemoryTaskQueue(), FakeClock()
    registry = ModelRegistry(artifacts, clock)
    await warehouse.append("people", people_table())
    ids = SequentialIds()
    service = TrainingService(warehouse=warehouse, backend=backend, jobs=jobs, events=events, queue=queue,
                              clock=clock, ids=ids)
    trainer = Trainer(warehouse=warehouse, backend=backend, registry=registry, clock=clock)
    lifecycle = JobLifecycle(jobs, events, clock)
    runner = TrainingRunner(trainer=trainer, lifecycle=lifecycle)
    aliases = AliasService(artifacts, registry, clock)
    retention = RetentionService(artifacts, registry, aliases, clock, RetentionPolicy(), timedelta(hours=1))
    retrains = RetrainJobs(jobs=jobs, events=events, queue=queue, clock=clock, ids=ids, aliases=aliases)
    retrain_runner = RetrainRunner(trainer=trainer, lifecycle=lifecycle, aliases=aliases, retention=retention)
    schedules = ScheduleService(artifacts, CroniterCalendar(), clock, retrains)
    return World(warehouse, artifacts, backend, jobs, events, queue, clock, service, runner, registry, aliases,
                 retention, retrains, retrain_runner, schedules)


@dataclass
class Ingest:
    """The ingestion services over fakes, and what the workers would do with their queued tasks."""

    files: InMemoryBulkFiles
    warehouse: InMemoryWarehouse
    jobs: InMemoryJobStore
    events: InMemoryEventLog
    queue: InMemoryTaskQueue
    service: IngestionService
    planner: IngestionPlanner
    stager: PartitionStager
    committer: IngestionCommitter
    artifacts: InMemoryArtifactStore

    async def plan_all(self) -> None:
        for task in self.tasks(PLAN_TASK):
            await self.planner.run(task.payload["ingestion_id"])

    async def run_all(self) -> None:
        """Every queued plan, then every partition, then the commit."""
        await self.plan_all()
        for task in self.tasks(STAGE_TASK):
            await self.stager.run_partition(task.payload["ingestion_id"], task.payload["partition"])
        for task in self.tasks(COMMIT_TASK):
            await self.committer.commit(task.payload["ingestion_id"])

    def tasks(self, name: str) -> list[QueuedTask]:
        return [t for t in self.queue.tasks if t.name == name]

    async def types(self, job_id: str) -> list[str]:
        return [e.type for e in await self.events.read(f"job:{job_id}")]


@pytest.fixture
def ingest() -> Ingest:
    files, jobs, events, queue, clock = (InMemoryBulkFiles(), InMemoryJobStore(), InMemoryEventLog(),
                                         InMemoryTaskQueue(), FakeClock())
    warehouse, artifacts = InMemoryWarehouse(files.staged), InMemoryArtifactStore()
    lifecycle = JobLifecycle(jobs, events, clock)
    service = IngestionService(files=files, jobs=jobs, events=events, queue=queue, clock=clock, ids=SequentialIds())
    planner = IngestionPlanner(files=files, jobs=jobs, queue=queue, lifecycle=lifecycle)
    stager = PartitionStager(files=files, artifacts=artifacts, jobs=jobs, queue=queue, clock=clock, lifecycle=lifecycle)
    committer = IngestionCommitter(artifacts=artifacts, warehouse=warehouse, lifecycle=lifecycle)
    return Ingest(files, warehouse, jobs, events, queue, service, planner, stager, committer, artifacts)
