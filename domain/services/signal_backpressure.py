"""SignalBackpressure: a pipeline stops taking new events while the readers of its signals lag too far.

The signals stream never drops a signal its recorder (a consumer group) has not acked, so a
recorder slower than the pipeline, or stopped, would grow it without end. Past a bound the
pipeline's consumers stop reading new input instead: those events stay in the input stream,
unread and unacked (durable, nothing lost), until the recorder is back under the bound.

Whether a consumer holds depends on its own past (the resume threshold is lower than the pause
one), which no other process can recompute from the backlog: so a paused consumer marks the
pause in the sink, where the pipeline's stats read it, and clears the mark when it resumes.
"""

from __future__ import annotations

import contextlib
import logging
import uuid

from domain.types.errors import TransientError
from ports.clock import Clock
from ports.signal_sink import SignalSink

DEFAULT_MAX_BACKLOG = 1_000_000
# A paused pipeline resumes once the backlog is under this share of the limit, not just under it:
# a recorder steadily slower than the pipeline would otherwise pause and resume it every second.
RESUME_BELOW = 0.9
# How long a pause mark outlives its last renewal (a paused consumer renews it at each check): long
# enough to ride out a slow batch, short enough that a crashed consumer's pause is soon forgotten.
MARK_TTL_S = 10.0
log = logging.getLogger(__name__)


def pause_reason(backlog: int, limit: int) -> str | None:
    """Why new input starts waiting, or None: one wording for the consumer's log and the pipeline's stats."""
    return _reason(backlog, limit) if backlog > limit else None


def _reason(backlog: int, limit: int) -> str:
    return f"signals recorder is {backlog} entries behind (limit {limit})"


class SignalBackpressure:
    """Asks the sink how far behind its readers are at most every `check_every_s` (a round trip per
    second, not per batch) and answers from that in between; logs once when a pause starts and
    once when it ends. While paused it renews its mark in the sink at each check."""

    def __init__(self, pipeline: str, signals: SignalSink, clock: Clock, limit: int = DEFAULT_MAX_BACKLOG,
                 check_every_s: float = 1.0, holder: str | None = None) -> None:
        self._pipeline, self._signals, self._clock = pipeline, signals, clock
        self._holder = holder or uuid.uuid4().hex[:12]  # whose mark: another consumer resuming leaves this one's
        self._limit, self._every = limit, check_every_s
        self._mark_ttl_s = max(MARK_TTL_S, 3 * check_every_s)  # renewed every check_every_s
        self._next_check = 0.0
        self.reason: str | None = None

    async def holds(self) -> bool:
        """True while new input must wait. Raises TransientError when the sink cannot tell."""
        now = self._clock.now().timestamp()
        if now >= self._next_check:
            self._next_check = now + self._every
            reason = self._reason_at(await self._signals.backlog(self._pipeline))
            if reason is not None or self.reason is not None:  # nothing to write while running unpaused
                await self._signals.mark_paused(self._pipeline, self._holder, reason, self._mark_ttl_s)
            self._update(reason)
        return self.reason is not None

    async def release(self) -> None:
        """A consumer that stops holds nothing any more: clear its mark now rather than at its expiry
        (the pause itself is remembered: run again, it goes on from there). Best effort: an
        unreachable sink lets the mark expire by itself."""
        if self.reason is not None:
            with contextlib.suppress(TransientError):
                await self._signals.mark_paused(self._pipeline, self._holder, None, self._mark_ttl_s)

    def _reason_at(self, backlog: int) -> str | None:
        if (reason := pause_reason(backlog, self._limit)) is not None:
            return reason
        if self.reason is not None and backlog > self._limit * RESUME_BELOW:
            resume_at = int(self._limit * RESUME_BELOW)
            return f"{_reason(backlog, self._limit)}, resuming at {resume_at} or fewer"
        return None

    def _update(self, reason: str | None) -> None:
        if reason is not None and self.reason is None:
            log.warning("pipeline %s paused: new events wait in the input stream: %s", self._pipeline, reason)
        elif reason is None and self.reason is not None:
            log.info("pipeline %s resumed: the signals recorder is back under %d%% of the limit", self._pipeline,
                     round(RESUME_BELOW * 100))
        self.reason = reason
