"""Commits an ingestion: check the reject ratio, load every staged file in one load, end the job once.

Runs where the warehouse may be opened (in `local`, the daemon). Idempotent per ingestion id:
the warehouse loads at most once per load id, and JobLifecycle ends the job exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from domain.services.ingestion_run import discard_staged, staging_key
from domain.services.job_events import JobEvents
from domain.services.job_lifecycle import JobLifecycle
from domain.types.errors import ArtifactNotFound, DomainError, PermanentError, TooManyRejects
from domain.types.jobs import JobRecord
from domain.types.partitions import IngestionPlan, IngestionReport, LoadRequest, PartitionReport
from ports.artifact_store import ArtifactStore
from ports.warehouse import Warehouse


class IngestionCommitter:
    def __init__(self, *, artifacts: ArtifactStore, warehouse: Warehouse, lifecycle: JobLifecycle) -> None:
        self._artifacts = artifacts
        self._warehouse = warehouse
        self._lifecycle = lifecycle

    async def commit(self, ingestion_id: str) -> None:
        """TransientError propagates so the queue retries; anything else ends the job with its cause."""
        await self._lifecycle.execute(ingestion_id, self._commit)

    async def fail(self, ingestion_id: str, message: str) -> None:
        await self._lifecycle.fail(ingestion_id, message)
        await discard_staged(self._artifacts, ingestion_id)

    async def _commit(self, record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
        try:
            return await self._load(record, events)
        except (DomainError, PermanentError):  # the job fails (a transient error keeps them for the retry)
            await discard_staged(self._artifacts, record.id)
            raise

    async def _load(self, record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
        plan = IngestionPlan.from_dict(record.spec)
        report = IngestionReport(plan.spec.table, plan.spec.mode, await self._reports(record.id, plan))
        if report.reject_ratio > plan.spec.max_reject_ratio:
            files = ", ".join(p.rejects_uri for p in report.partitions if p.rejects_uri)
            raise TooManyRejects(
                f"{report.rows_rejected} of {report.rows_read} rows were rejected ({report.reject_ratio:.2%}), more "
                f"than max_reject_ratio {plan.spec.max_reject_ratio:.2%} allows; table {plan.spec.table!r} was not "
                f"changed. See the rejects files: {files}", {"rejects_files": files.split(", ")})
        await events.progress("commit", 0.0, {"rows_staged": sum(p.rows_written for p in report.partitions)})
        rows = await self._warehouse.load_parquet(LoadRequest(
            plan.spec.table, _shards(report.partitions), plan.spec.mode, plan.spec.cleaning.dedupe, plan.spec.keys,
            load_id=record.id))
        await discard_staged(self._artifacts, record.id)  # loaded: the staged copies are no longer needed
        return IngestionReport(report.table, report.mode, report.partitions, rows).to_dict()

    async def _reports(self, ingestion_id: str, plan: IngestionPlan) -> list[PartitionReport]:
        reports = []
        for partition in plan.partitions:
            try:
                raw = await self._artifacts.get(staging_key(ingestion_id, f"part-{partition.index}.json"))
            except ArtifactNotFound as exc:
                raise PermanentError(f"partition {partition.index} has no staging report") from exc
            reports.append(PartitionReport.from_dict(json.loads(raw)))
        return reports


def _shards(partitions: Sequence[PartitionReport]) -> tuple[tuple[str, ...], ...]:
    """Shard k's files: the k-th staged file of every partition (all partitions have the plan's shard count)."""
    counts = sorted({len(p.staged_uris) for p in partitions})
    if len(counts) > 1:  # a worker of an older release staged one file where the plan asked for shards
        raise PermanentError(f"partitions were staged with different numbers of shard files {counts}; the "
                             "workers may run different releases: submit the ingestion again once they agree")
    return tuple(zip(*(p.staged_uris for p in partitions), strict=True))
