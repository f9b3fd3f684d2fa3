"""SignalSink port: where predictions go (`signals:{pipeline}` stream) and pipeline live stats."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from domain.types.streams import Signal


class SignalSink(Protocol):
    """`write` appends one signal per event, in order (a redelivered event may write a second
    signal with the same event id: readers dedupe by `event_id`). The stream is capped, but a
    signal a reader of it (a consumer group: the signals_table recorder) has not acked is never
    dropped. `record_batch` adds a batch's counters to the pipeline's stats, which any process
    can read with `stats`; `record_serving` and `mark_paused` are how consumers tell those stats what
    they serve and that they hold new input.
    """

    async def write(self, pipeline: str, signals: Sequence[Signal]) -> None: ...

    async def record_batch(self, pipeline: str, size: int, latencies_ms: Sequence[float], model_version: int) -> None:
        ...

    async def record_serving(self, pipeline: str, holder: str, version: int | None, reason: str | None,
                             ttl_s: float) -> None:
        """The version consumer `holder` serves now (None: none, and `reason` says why), for every
        process's `stats`. Each consumer has its own record, lasting `ttl_s` unless renewed, so one a
        crashed consumer left goes by itself. Raises TransientError when the backend is unreachable."""
        ...

    async def forget_serving(self, pipeline: str, holder: str) -> None:
        """Consumer `holder` stopped: its serving record goes now. Raises TransientError when the
        backend is unreachable (the record then expires by itself)."""
        ...

    async def backlog(self, pipeline: str) -> int:
        """Signals the slowest reader has not acked yet (0 without readers): what the stream must keep.
        One round trip; raises TransientError when the backend is unreachable."""
        ...

    async def mark_paused(self, pipeline: str, holder: str, reason: str | None, ttl_s: float) -> None:
        """Why consumer `holder` holds new input now, for every process's `stats`; None: it resumed.
        Each consumer has its own mark (the pipeline is paused while any is live), lasting `ttl_s`
        unless renewed, so one a crashed consumer left goes by itself. Raises TransientError when
        the backend is unreachable."""
        ...

    async def stats(self, pipeline: str) -> Mapping[str, Any]:
        """events_processed, events_per_s, batch_size_avg, p50_ms, p99_ms, signals_backlog,
        model_version: the highest version a live serving record names (without any, the version of
        the recent batches; None: nothing served), model_versions: every such version, ascending, and
        paused: why no live consumer serves, when none does but one says why, else the reason of a live
        pause mark (None without one)."""
        ...
