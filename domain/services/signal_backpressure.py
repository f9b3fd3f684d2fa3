"""SignalBackpressure: a pipeline stops taking new events while the readers of its signals lag too far.

The signals stream never drops a signal its recorder (a consumer group) has not acked, so a
recorder slower than the pipeline, or stopped, would grow it without end. Past a bound the
pipeline's consumers stop reading new input instead: those events stay in the input stream,
unread and unacked (durable, nothing lost), until the recorder is back under the bound.
"""

from __future__ import annotations

import logging

from ports.clock import Clock
from ports.signal_sink import SignalSink

DEFAULT_MAX_BACKLOG = 1_000_000
# A paused pipeline resumes once the backlog is under this share of the limit, not just under it:
# a recorder steadily slower than the pipeline would otherwise pause and resume it every second.
RESUME_BELOW = 0.9
log = logging.getLogger(__name__)


def pause_reason(backlog: int, limit: int) -> str | None:
    """Why new input waits, or None: one wording for the consumer's log and the pipeline's stats."""
    return _reason(backlog, limit) if backlog > limit else None


def _reason(backlog: int, limit: int) -> str:
    return f"signals recorder is {backlog} entries behind (limit {limit})"


class SignalBackpressure:
    """Asks the sink how far behind its readers are at most every `check_every_s` (a round trip per
    second, not per batch) and answers from that in between; logs once when a pause starts and
    once when it ends."""

    def __init__(self, pipeline: str, signals: SignalSink, clock: Clock, limit: int = DEFAULT_MAX_BACKLOG,
                 check_every_s: float = 1.0) -> None:
        self._pipeline, self._signals, self._clock = pipeline, signals, clock
        self._limit, self._every = limit, check_every_s
        self._next_check = 0.0
        self.reason: str | None = None

    async def holds(self) -> bool:
        """True while new input must wait. Raises TransientError when the sink cannot tell."""
        now = self._clock.now().timestamp()
        if now >= self._next_check:
            self._next_check = now + self._every
            backlog = await self._signals.backlog(self._pipeline)
            still = self.reason is not None and backlog > self._limit * RESUME_BELOW
            self._update(pause_reason(backlog, self._limit) or (_reason(backlog, self._limit) if still else None))
        return self.reason is not None

    def _update(self, reason: str | None) -> None:
        if reason is not None and self.reason is None:
            log.warning("pipeline %s paused: new events wait in the input stream: %s", self._pipeline, reason)
        elif reason is None and self.reason is not None:
            log.info("pipeline %s resumed: the signals recorder is back under %d%% of the limit", self._pipeline,
                     round(RESUME_BELOW * 100))
        self.reason = reason
