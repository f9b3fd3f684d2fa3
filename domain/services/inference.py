"""InferenceService: one pipeline's consumer loop — micro-batch, window, featurize, predict, signal, act, ack.

Order per batch (what makes a crash anywhere safe): dead-letter what can never work, update the
windows (idempotent by StreamEntry.position), predict, write the signals, decide which rules fire
(atomically per entity, with the rule state shared by every consumer), enqueue their actions
(idempotent by key), and only then ack (the batch's stats are recorded alongside). A consumer killed
before the ack leaves its entries pending; another consumer claims them after `claim_idle_ms` and
redoes the same steps, which produce the same signal (deduped by event id downstream) and the same
action keys (a rule fired for an event fires again for it: rules.decide).
While the signals recorder lags more than `max_signal_backlog` entries, new input waits unread; while
this consumer has no model to serve, it reads and claims nothing at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import numpy as np

from domain.services import features, rules
from domain.services.serving import ModelWatcher, NoServableModel, Served
from domain.services.signal_backpressure import DEFAULT_MAX_BACKLOG, SignalBackpressure
from domain.types.errors import TransientError
from domain.types.event_batch import EventBatch, parse_batch
from domain.types.pipelines import PipelineConfig
from domain.types.signal_batch import SignalBatch
from domain.types.streams import Prediction, StreamEntry
from ports.clock import Clock
from ports.dead_letters import DeadLetters
from ports.entity_state import EntityStateStore
from ports.event_source import EventSource
from ports.signal_sink import SignalSink
from ports.task_queue import TaskQueue
from ports.window_store import WindowStore

ACTIONS_QUEUE = "actions"
ACTION_TASK = "run_action"
PAUSED_POLL_S = 0.1  # while paused: how soon stop and claims are looked at again
log = logging.getLogger(__name__)


def action_key(pipeline: str, event_id: str, action: str) -> str:
    return f"{pipeline}:{event_id}:{action}"


class InferenceService:
    def __init__(self, config: PipelineConfig, *, source: EventSource, windows: WindowStore,
                 states: EntityStateStore, signals: SignalSink, dead_letters: DeadLetters, queue: TaskQueue,
                 watcher: ModelWatcher, clock: Clock, claim_idle_ms: int = 30_000,
                 max_signal_backlog: int = DEFAULT_MAX_BACKLOG, backlog_check_s: float = 1.0) -> None:
        self.config = config
        self._source, self._windows, self._states, self._signals = source, windows, states, signals
        self._dlq, self._queue, self._watcher, self._clock = dead_letters, queue, watcher, clock
        self._claim_idle_ms = claim_idle_ms
        self._backpressure = SignalBackpressure(config.name, signals, clock, max_signal_backlog, backlog_check_s)
        self._fields = config.fields  # a property that builds a tuple: computed once, used per batch
        self._actions = {a.name: a for a in config.actions}  # names are unique (PipelineConfig checks)
        self._reads_previous = rules.reads_previous(config.rules)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set; transient failures pause and retry (nothing is acked meanwhile).

        One batch at a time, on purpose: preparing batch N+1 while N is still unacked doubles what a
        crash leaves pending per entity, and a redelivered event whose window rows were trimmed
        meanwhile would get different features (measured gain of the overlap: ~1.1x).
        A pause for the signals recorder stops new reads only: stale entries are still claimed, and
        the pipeline's stats show `paused` until this consumer resumes or stops. With no model, the
        consumer takes nothing: what it held would wait, be claimed again (a delivery more each
        time), and be dead-lettered as redelivered too often while another consumer serves."""
        claim_every = max(0.05, self._claim_idle_ms / 4000)
        next_claim = 0.0
        while not stop.is_set():
            try:  # an exception leaves the failed batch pending: redelivered, then dead-lettered after K tries
                held = await self._backpressure.holds()  # told to the stats even while there is no model
                await self._watcher.current()  # NoServableModel: read and claim nothing (see above)
                if (now := self._clock.now().timestamp()) >= next_claim:
                    next_claim = now + claim_every
                    await self.process(await self.source_claim())
                if held:
                    await self._clock.sleep(PAUSED_POLL_S)
                    continue
                await self.process(await self.collect())
            except TransientError as exc:
                level = logging.INFO if isinstance(exc, NoServableModel) else logging.WARNING
                log.log(level, "pipeline %s paused: %s", self.config.name, exc.message)
                await self._clock.sleep(0.5)
            except Exception:  # a bad batch must not kill the consumer
                log.exception("pipeline %s: batch failed; its events will be redelivered", self.config.name)
                await self._clock.sleep(0.5)
        await self._backpressure.release()

    async def warm_up(self) -> int:
        """Load the model the alias points to before taking traffic; returns its version."""
        return (await self._watcher.current()).version

    async def trim_stream(self) -> int:
        """Drop acked history from the input stream (never an entry some group still has pending)."""
        return await self._source.trim()

    async def source_claim(self) -> list[StreamEntry]:
        """Entries other consumers left pending longer than the idle timeout (they died or stalled)."""
        return list(await self._source.claim_stale(self._claim_idle_ms, self.config.batch_size))

    async def collect(self) -> list[StreamEntry]:
        """What the stream holds, up to batch_size entries, waiting at most max_wait_ms for the first.

        A batch never waits for events that are not coming. Under load, events pile up while a batch
        is processed, so the next batch is bigger by itself; lingering for more (the earlier policy)
        added latency, and at half load made the consumer fall behind. A second read for what
        arrived meanwhile was measured to come back empty nearly always: one round trip for nothing."""
        return list(await self._source.read(self.config.batch_size, self.config.max_wait_ms))

    async def process(self, entries: Sequence[StreamEntry]) -> int:
        """Handle one batch end to end; returns how many events produced a signal."""
        if not entries:
            return 0
        events = await self._triage(entries)
        ids = [e.id for e in entries]  # the rejected ones were parked in _triage
        if len(events):
            served = await self._watcher.current()
            window = self.config.window
            keep_from = await self._source.oldest_pending()  # this batch's, or an older one a dead consumer left
            # (positions, as the windows order events: a replayed event's is its replay entry's id)
            windows = await self._windows.append(self.config.name, events, window.events, window.seconds, keep_from)
            matrix = features.compute(windows, self._fields, served.specs)
            predictions = await served.predictor.predict(matrix)
            now = self._clock.now().timestamp()
            signals = _signals(events, served, predictions, matrix.tolist(), now)
            await self._signals.write(self.config.name, signals)
            await self._act(signals, events.positions, now)
            await self._ack_and_record(ids, signals, served.version)
        else:
            await self._source.ack(ids)
        return len(events)

    async def _ack_and_record(self, ids: list[str], signals: SignalBatch, version: int) -> None:
        """The ack and the batch's stats in one round trip's time; stats are best effort: their failure
        must not redeliver a batch whose signals are written."""
        stats = self._signals.record_batch(self.config.name, len(signals), signals.latencies_ms, version)
        acked, recorded = await asyncio.gather(self._source.ack(ids), stats, return_exceptions=True)
        if isinstance(acked, BaseException):
            raise acked
        if isinstance(recorded, Exception):
            log.warning("pipeline %s: batch stats not recorded: %s", self.config.name, recorded)

    async def _triage(self, entries: Sequence[StreamEntry]) -> EventBatch:
        """The events worth processing; the others go to the dead-letter queue with the reason."""
        limit = self.config.max_deliveries
        events, rejected = parse_batch([e for e in entries if e.deliveries <= limit], self.config.entity_key,
                                       self._fields)
        rejected += [(e, f"delivered {e.deliveries} times (limit {limit})") for e in entries if e.deliveries > limit]
        for entry, reason in rejected:
            await self._dlq.park("event", self.config.name, f"{self.config.name}:{entry.id}", reason,
                                 entry.deliveries, {"stream": self.config.stream, "id": entry.id, "raw": entry.raw})
        return events

    async def _act(self, signals: SignalBatch, positions: Sequence[str], now: float) -> None:
        """Enqueue the actions of the rules that fire. The entity state decides and records what fires before
        the enqueue: a crash between the two fires the same rules again at the redelivery (same keys)."""
        if not self.config.rules:
            return
        picked = rules.candidates(self.config.rules, signals, positions, self._reads_previous)
        if not picked:
            return
        fired = await self._states.fire(self.config.name, [item for _, item in picked], now)
        chosen = [(signals[index], names) for (index, _), names in zip(picked, fired, strict=True) if names]
        for signal, name in rules.triggered(self.config.rules, chosen):
            key = action_key(self.config.name, signal.event_id, name)
            payload = {"pipeline": self.config.name, "key": key, "action": self._actions[name].to_dict(),
                       "body": {"pipeline": self.config.name, "action": name, **signal.to_dict()}}
            await self._queue.enqueue(ACTION_TASK, payload, job_id=key, queue=ACTIONS_QUEUE)


def _signals(events: EventBatch, served: Served, predictions: list[Prediction], rows: list[list[float]],
             now: float) -> SignalBatch:
    """One signal per event; latency is from its position's time (when the event was added to its stream,
    or replayed: time spent in the dead-letter queue is not the pipeline's latency) to now."""
    added_ms = events.position_parts()[:, 0]
    latencies = np.round(np.maximum(0.0, now * 1000 - added_ms), 3).tolist()  # rounded as Signal.to_dict does
    return SignalBatch(events.ids, events.entities, served.version, predictions, [s.name for s in served.specs],
                       rows, latencies)
