"""Runs one training job: load, clean, split, fit, evaluate, store, register.

A re-run after a crash reuses the version the job already claimed (see Trainer and
ModelRegistry.claim_version); the job lifecycle makes the rest idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.services.job_events import JobEvents
from domain.services.job_lifecycle import JobLifecycle
from domain.services.trainer import Trainer
from domain.types.jobs import JobRecord
from domain.types.training import TrainingSpec


class TrainingRunner:
    def __init__(self, *, trainer: Trainer, lifecycle: JobLifecycle) -> None:
        self._trainer = trainer
        self._lifecycle = lifecycle

    async def run(self, job_id: str) -> None:
        """Run or resume the job. TransientError propagates so the queue can retry it."""
        await self._lifecycle.execute(job_id, self._train)

    async def fail(self, job_id: str, message: str) -> None:
        await self._lifecycle.fail(job_id, message)

    async def _train(self, record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
        spec = TrainingSpec.from_dict(record.spec)
        done = await self._trainer.finished_version(spec.model_name, record.id)
        if done is not None:  # finished before a crash: complete without training again
            return {"model_name": spec.model_name, "version": done.version}

        async def check_cancel() -> None:
            await self._lifecycle.check_cancel(record.id)

        prepared = await self._trainer.prepare(spec, events, check_cancel)
        model = await self._trainer.fit(spec, prepared.train, events, check_cancel)
        metrics = await self._trainer.evaluate(model, spec, prepared.holdout, events)
        await check_cancel()
        manifest = await self._trainer.store(record.id, spec, model, metrics, prepared, events)
        return {"model_name": spec.model_name, "version": manifest.version}
