"""SignalSource port: a consumer group of its own over a pipeline's `signals:{pipeline}` stream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.types.streams import StreamEntry


class SignalSource(Protocol):
    """At-least-once, like EventSource: an entry (`raw` = the JSON of `Signal.to_dict()`) stays
    pending until `ack`. `read` returns this consumer's own pending entries first (after a
    restart), then new ones, waiting up to `block_ms`; `claim_stale` takes over entries another
    consumer left pending longer than `min_idle_ms`. All raise TransientError when unreachable.
    """

    async def read(self, count: int, block_ms: int) -> Sequence[StreamEntry]: ...

    async def ack(self, ids: Sequence[str]) -> None: ...

    async def claim_stale(self, min_idle_ms: int, count: int) -> Sequence[StreamEntry]: ...
