"""RedisWindowStore: each entity's window is one Redis string of fixed-width binary records, the source of truth.

A record is the event's position (StreamEntry.position: its stream id, or for a replayed event its
replay entry's id; ms, seq), its time and its values, as little-endian float64s;
the string starts with a header (layout tag, record size, epoch), so a window written with other
fields starts again rather than being misread. One Lua call per batch (window_script.py) appends
each entity's new records (idempotent by position) and sends back only the windows this
process's copy (window_cache.py) does not already mirror; copies are checked against Redis on
every call, so any consumer can serve any entity and a restart loses nothing. Every event's window
is then rebuilt here with numpy, no per-event Python object: the rows of a window are its entity's
rows with a position at or before the event's, the last `max_events` of them, less the leading ones
older than `max_age_s` (the newest always kept). A redelivered event gets the window it had: trims
keep every row from `keep_from` (the oldest event still pending) on, and the `max_events` before it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from redis.asyncio import Redis
from redis.client import NEVER_DECODE
from redis.exceptions import NoScriptError

from adapters.redis_streams.keys import Keys, transient_errors
from adapters.redis_streams.window_cache import UNKNOWN, Rows, WindowCache
from adapters.redis_streams.window_script import HEADER_BYTES, WINDOW_BATCH
from domain.types.event_batch import EventBatch
from domain.types.events import event_id_key
from domain.types.streams import ParsedEvent
from ports.window_store import WindowBatch

_META = 3  # id ms, id seq, ts: the columns before the values
Ints = npt.NDArray[np.int64]


class RedisWindowStore:
    """Windows of entities silent for `ttl_s` expire in Redis; the process holds copies of at most
    `cache_bytes` (64 MiB: about 760k records of 8 fields)."""

    def __init__(self, redis: Redis, namespace: str, ttl_s: int = 7 * 24 * 3600, cache_bytes: int = 64 << 20) -> None:
        self._redis, self._keys, self._ttl = redis, Keys(namespace), ttl_s
        self._cache = WindowCache(cache_bytes)
        self._sha: str | None = None

    async def append(
        self, pipeline: str, events: Sequence[ParsedEvent], max_events: int, max_age_s: float | None,
        keep_from: str | None = None,
    ) -> WindowBatch:
        batch = EventBatch.of(events)
        if not len(batch):
            return WindowBatch.of([], 0)
        names: dict[str, int] = {}
        slots = np.fromiter((names.setdefault(e, len(names)) for e in batch.entities), np.int64, len(batch))
        records = _records(batch)
        sent = _appendable(records, slots)  # in entity order, positions increasing within each entity
        keys = [self._keys.window(pipeline, entity) for entity in names]
        held = self._cache.held(keys)
        args = [records.shape[1] * 8, max_events, -1 if max_age_s is None else max_age_s, self._ttl,
                _new_epoch(), b"".join(UNKNOWN if h is None else h[0] for h in held),
                np.bincount(slots[sent], minlength=len(keys)).astype("<i4").tobytes(), records[sent].tobytes(),
                *_floor(keep_from)]
        with transient_errors("window append"):
            reply = await self._eval(keys, args)
        epochs, before = _before(reply, held, records.shape[1])
        rows, row_slots = _history(before, records[sent], slots[sent])
        self._remember(keys, epochs, [int(c or 0) for c in reply[0::2]], rows, row_slots)
        return _windows(rows, row_slots, records, slots, max_events, max_age_s)

    def _remember(self, keys: list[str], epochs: list[bytes], counts: list[int], rows: Rows, row_slots: Ints) -> None:
        """Hold each window as the script left it: its rows here, less the leading ones it trimmed."""
        ends = np.cumsum(np.bincount(row_slots, minlength=len(keys))).tolist()
        start = 0
        for key, epoch, count, end in zip(keys, epochs, counts, ends, strict=True):
            if count >= 0:  # -1: nothing appended, the window is what it was
                self._cache.put(key, epoch, rows[max(start, end - count):end].copy())
            start = end

    async def _eval(self, keys: list[str], args: list[bytes | int | float]) -> list[int | bytes | None]:
        # The reply is binary: read it undecoded whatever the client's decode_responses says.
        if self._sha is None:
            self._sha = await self._redis.script_load(WINDOW_BATCH)
        try:
            return await self._redis.execute_command(  # type: ignore[no-any-return]
                "EVALSHA", self._sha, len(keys), *keys, *args, **{NEVER_DECODE: True})
        except NoScriptError:  # the server restarted or flushed its scripts
            self._sha = await self._redis.script_load(WINDOW_BATCH)
            return await self._eval(keys, args)

    async def clear(self, pipeline: str) -> None:
        with transient_errors("window clear"):
            keys = [k async for k in self._redis.scan_iter(match=self._keys.window_prefix(pipeline) + "*", count=1000)]
            if keys:
                await self._redis.delete(*keys)
        self._cache.discard_prefix(self._keys.window_prefix(pipeline))


def _floor(keep_from: str | None) -> tuple[int, int]:
    """The script's ARGV for the oldest pending event: its position's (ms, seq), or (-1, -1)."""
    return (-1, -1) if keep_from is None else event_id_key(keep_from)


def _new_epoch() -> bytes:
    """Tags the windows this call creates: a key deleted and written again is another window."""
    return os.urandom(8)


def _before(reply: list[int | bytes | None], held: list[tuple[bytes, Rows] | None],
            width: int) -> tuple[list[bytes], list[Rows]]:
    """Per key, its epoch and its rows before the call: sent back by the script, else the copy held."""
    epochs, windows = [], []
    for window, copy in zip(reply[1::2], held, strict=True):
        if isinstance(window, bytes):
            epochs.append(window[8:HEADER_BYTES])
            windows.append(np.frombuffer(window, dtype="<f8", offset=HEADER_BYTES).reshape(-1, width))
        elif copy is not None:
            epochs.append(copy[0][:8])
            windows.append(copy[1])
        else:  # cannot happen: no stored window matches the bytes of "no copy"
            raise RuntimeError("the window script sent no window for a key this process holds no copy of")
    return epochs, windows


def _records(batch: EventBatch) -> npt.NDArray[np.float64]:
    records = np.empty((len(batch), _META + batch.values.shape[1]), dtype="<f8")
    records[:, :2] = batch.position_parts()
    records[:, 2], records[:, _META:] = batch.ts, batch.values
    return records


def _appendable(records: npt.NDArray[np.float64], slots: Ints) -> Ints:
    """The events to append, grouped by entity, positions strictly increasing within each (a position
    twice in the batch is sent once). Sorted, not dropped, when out of order: a replayed event may
    come in one batch with events of its entity placed after it, and its window must hold it."""
    ms, seq = records[:, 0], records[:, 1]
    if np.all((ms[1:] > ms[:-1]) | ((ms[1:] == ms[:-1]) & (seq[1:] > seq[:-1]))):
        return np.argsort(slots, kind="stable")  # the usual batch: positions increasing
    order = np.lexsort((seq, ms, slots))
    s, m, q = slots[order], ms[order], seq[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (m[1:] != m[:-1]) | (q[1:] != q[:-1])
    return order[first]


def _history(before: list[Rows], sent: Rows, sent_slots: Ints) -> tuple[Rows, Ints]:
    """Every entity's rows after the batch, grouped by entity, oldest first, with each row's entity:
    the window before plus the sent records after its last position (what the script appended)."""
    sizes = np.fromiter((len(b) for b in before), np.int64, len(before))
    old = np.concatenate(before) if before else np.empty((0, sent.shape[1]))
    last = np.full((len(before), 2), -1.0)
    last[sizes > 0] = old[np.cumsum(sizes)[sizes > 0] - 1, :2]
    lms, lseq = last[sent_slots, 0], last[sent_slots, 1]
    new = (sent[:, 0] > lms) | ((sent[:, 0] == lms) & (sent[:, 1] > lseq))
    rows = np.concatenate([old, sent[new]])
    row_slots = np.concatenate([np.repeat(np.arange(len(before)), sizes), sent_slots[new]])
    order = np.argsort(row_slots, kind="stable")  # old rows, then new ones, per entity
    return rows[order], row_slots[order]


def _windows(rows: npt.NDArray[np.float64], row_slots: Ints, records: npt.NDArray[np.float64], slots: Ints,
             max_events: int, max_age_s: float | None) -> WindowBatch:
    # end: one past the last row of the event's entity with a position at or before the event's. Sorting
    # rows and events together by (entity, ms, seq, row-before-event) counts the rows before each event.
    flag = np.concatenate([np.zeros(len(rows), np.int64), np.ones(len(records), np.int64)])
    every = np.concatenate([rows[:, :2], records[:, :2]])
    order = np.lexsort((flag, every[:, 1], every[:, 0], np.concatenate([row_slots, slots])))
    rows_before = np.cumsum(flag[order] == 0)
    end = np.empty(len(records), np.int64)
    end[order[flag[order] == 1] - len(rows)] = rows_before[flag[order] == 1]
    entity_start = np.searchsorted(row_slots, slots)
    first = np.maximum(end - max_events, entity_start)
    if max_age_s is not None:
        first = _age_trim(rows[:, 2], first, end, records[:, 2] - max_age_s)
    return WindowBatch(rows[:, 2], rows[:, _META:], first, end - first)


def _age_trim(times: npt.NDArray[np.float64], first: Ints, end: Ints, cutoff: npt.NDArray[np.float64]) -> Ints:
    """Drop each window's leading rows older than its cutoff, always keeping its newest row."""
    width = int((end - first).max(initial=0))
    index = first[:, None] + np.arange(width)
    stale = (index < end[:, None] - 1) & (times[np.minimum(index, len(times) - 1)] < cutoff[:, None])
    leading = np.where(stale.all(axis=1), width, np.argmin(stale, axis=1))
    return first + leading
