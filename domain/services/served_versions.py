"""Which versions of a model the pipelines serve right now: their configs, and the version their
consumers state in the pipeline's stats (`model_versions`: SignalSink.record_serving, and every batch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ports.pipeline_store import PipelineStore
from ports.signal_sink import SignalSink


class PipelineServedVersions:
    """The ServedVersions port over the pipelines' configs and stats."""

    def __init__(self, pipelines: PipelineStore, signals: SignalSink) -> None:
        self._pipelines = pipelines
        self._signals = signals

    async def served(self, model: str) -> Mapping[int, Sequence[str]]:
        served: dict[int, list[str]] = {}
        for config in await self._pipelines.list():
            if config.model != model:
                continue
            # Every version a live consumer serves: while consumers switch (or one fell back) they differ.
            for version in (await self._signals.stats(config.name)).get("model_versions") or []:
                served.setdefault(int(version), []).append(config.name)
        return served
