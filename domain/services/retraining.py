"""Retraining: train a challenger on fresh data with the champion's spec, evaluate both on the
same new holdout, and move the alias only when the challenger is better (within tolerance).

The holdout holds no row the champion trained on: rows are split by a hash of their content, and
the rows the champion kept for training although their hash would hold them out (its manifest
lists them) stay on the training side. Where that cannot be made sure (a champion split before
row hashes), the decision says the comparison favours the champion.

The decision and both scores go into the challenger's manifest and the alias history. A re-run
after a crash reuses the challenger version the job registered and finishes its promotion.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from domain.services.aliases import AliasConflict, AliasService
from domain.services.data_prep import SplitRecord
from domain.services.deletion_marks import VersionBeingDeleted
from domain.services.job_events import JobEvents
from domain.services.job_lifecycle import JobLifecycle
from domain.services.retention import RetentionService
from domain.services.retrain_policy import RetrainRequest, check_metric, decide, holdout_bias
from domain.services.trainer import PreparedData, Trainer
from domain.types.errors import InvalidSpec, MlplaneError, NotFound
from domain.types.jobs import JobRecord
from domain.types.models import Manifest
from domain.types.training import TrainingSpec


class RetrainRunner:
    def __init__(self, *, trainer: Trainer, lifecycle: JobLifecycle, aliases: AliasService,
                 retention: RetentionService) -> None:
        self._trainer = trainer
        self._lifecycle = lifecycle
        self._aliases = aliases
        self._retention = retention

    async def run(self, job_id: str) -> None:
        await self._lifecycle.execute(job_id, self._retrain)

    async def fail(self, job_id: str, message: str) -> None:
        await self._lifecycle.fail(job_id, message)

    async def _retrain(self, record: JobRecord, events: JobEvents) -> Mapping[str, Any]:
        request = RetrainRequest.from_dict(record.spec)
        champion = await self._champion(request)
        spec = TrainingSpec.from_dict(champion.spec)
        check_metric(request.metric, spec.task)  # fail now, not after training a challenger
        done = await self._trainer.finished_version(request.model, record.id)
        if done is not None:  # the challenger was stored before a crash: finish its promotion
            return await self._conclude(request, record.id, champion, done, dict(done.extra["retrain"]))

        async def check_cancel() -> None:
            await self._lifecycle.check_cancel(record.id)

        champion_split = SplitRecord.from_manifest(champion.data)
        kept = champion_split.kept if champion_split else ()
        prepared = await self._trainer.prepare(spec, events, check_cancel, keep_for_training=kept)
        fresh_rows = prepared.report.rows_read - int(champion.data.get("rows_read", 0))
        if fresh_rows < request.min_new_rows:
            return {"model_name": request.model, "decision": "skipped", "champion_version": champion.version,
                    "reason": f"{fresh_rows} new rows since version {champion.version}; "
                              f"at least {request.min_new_rows} required"}
        model = await self._trainer.fit(spec, prepared.train, events, check_cancel)
        challenger_metrics = await self._trainer.evaluate(model, spec, prepared.holdout, events)
        decision = await self._compare(request, champion, champion_split, challenger_metrics, prepared)
        await check_cancel()
        decision = await self._unless_alias_moved(request, champion, decision)
        manifest = await self._trainer.store(record.id, spec, model, challenger_metrics, prepared, events,
                                             extra={"retrain": decision})
        return await self._conclude(request, record.id, champion, manifest, decision)

    async def _conclude(self, request: RetrainRequest, job_id: str, champion: Manifest, challenger: Manifest,
                        decision: dict[str, Any]) -> Mapping[str, Any]:
        outcome = "promoted" if decision["promote"] else "kept champion"
        if "alias_moved_to" in decision:
            outcome = "not promoted: the alias moved while retraining"
        if decision["promote"] and await self._aliases.current(request.model, request.alias) != challenger.version:
            try:
                await self._aliases.move(
                    request.model, request.alias, challenger.version, expected_version=champion.version,
                    by=f"retrain:{job_id}", reason=f"retrain: {decision['summary']}")
            except AliasConflict:
                outcome = "not promoted: the alias moved while retraining"
            except (VersionBeingDeleted, NotFound) as exc:  # a delete of the challenger won the race: no failure
                outcome = f"not promoted: {exc.message}"
        await self._sweep(request.model)
        return {"model_name": request.model, "version": challenger.version, "decision": outcome,
                "champion_version": champion.version,
                **{k: decision[k] for k in ("metric", "challenger", "champion", "fair", "bias") if k in decision}}

    async def _unless_alias_moved(self, request: RetrainRequest, champion: Manifest,
                                  decision: dict[str, Any]) -> dict[str, Any]:
        """The decision as the manifest should keep it: a challenger that beat a champion the alias no
        longer points to is not promoted (the move is a compare-and-swap from the champion), so it must
        not read `promote: true`. The alias can still move between this check and that swap: then the
        job result and the alias history say so, and the summary says the move was conditional."""
        if not decision["promote"]:
            return decision
        current = await self._aliases.current(request.model, request.alias)
        if current == champion.version:
            return {**decision, "summary": f"{decision['summary']}; moving {request.alias!r} from "
                                           f"v{champion.version} if it still points there"}
        moved = f"moved to v{current}" if current is not None else "was removed"
        return {**decision, "promote": False, "alias_moved_to": current,
                "summary": f"{decision['summary']}; not promoted: {request.alias!r} {moved} while retraining"}

    async def _champion(self, request: RetrainRequest) -> Manifest:
        version = await self._aliases.current(request.model, request.alias)
        if version is None:
            raise InvalidSpec(f"model {request.model!r} has no alias {request.alias!r} to retrain from",
                              {"field": "alias"})
        return await self._trainer.registry.get_version(request.model, version)

    async def _compare(self, request: RetrainRequest, champion: Manifest, champion_split: SplitRecord | None,
                       challenger_metrics: Mapping[str, float], prepared: PreparedData) -> dict[str, Any]:
        """Scores the champion on the challenger's holdout and decides (saying when that favours the champion)."""
        spec = TrainingSpec.from_dict(champion.spec)
        _manifest, files = await self._trainer.registry.load_files(request.model, champion.version)  # sha256 checked
        loaded = await self._trainer.backend.deserialize(champion.algorithm, files)
        champion_metrics = await self._trainer.backend.evaluate(loaded, spec, prepared.holdout)
        bias = holdout_bias(champion.version, champion_split, prepared.split)
        return decide(request, spec.task, challenger_metrics, champion_metrics, champion.version, bias)

    async def _sweep(self, model: str) -> None:
        with contextlib.suppress(MlplaneError):  # housekeeping must not fail the retrain
            await self._retention.apply(model)
