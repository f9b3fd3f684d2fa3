"""In-memory stream broker with consumer groups (Redis Streams semantics), for unit and contract tests."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.types.events import event_id_key
from domain.types.streams import StreamEntry


@dataclass
class _Group:
    next_index: int = 0  # first entry never delivered to the group
    pending: dict[str, list[object]] = field(default_factory=dict)  # id -> [consumer, deliveries, since]


class InMemoryStreams:
    """Also the StreamProducer port."""

    def __init__(self) -> None:
        self.entries: dict[str, list[tuple[str, str]]] = {}
        self.groups: dict[tuple[str, str], _Group] = {}
        self._seq = 0

    async def append(self, stream: str, events: Sequence[str]) -> list[str]:
        ids = []
        for event in events:
            self._seq += 1
            ids.append(f"{1_700_000_000_000 + self._seq}-0")
            self.entries.setdefault(stream, []).append((ids[-1], event))
        return ids

    async def backlog(self, stream: str, group: str) -> dict[str, int]:
        g = self.groups.get((stream, group))
        if g is None:
            return {"lag": 0, "pending": 0}
        return {"lag": len(self.entries.get(stream, [])) - g.next_index, "pending": len(g.pending)}

    async def ensure_group(self, stream: str, group: str) -> None:
        self.group(stream, group)

    async def drop_group(self, stream: str, group: str) -> None:
        self.groups.pop((stream, group), None)

    async def drop_replays(self, group: str) -> None:
        """No replay streams here: the in-memory DLQ records its redeliveries instead."""

    def group(self, stream: str, group: str) -> _Group:
        return self.groups.setdefault((stream, group), _Group())


class InMemoryEventSource:
    def __init__(self, broker: InMemoryStreams, stream: str, group: str, consumer: str) -> None:
        self._b, self._stream, self._consumer = broker, stream, consumer
        self._g = broker.group(stream, group)
        self._own_history = True

    def _raw(self, entry_id: str) -> str | None:
        return next((raw for i, raw in self._b.entries.get(self._stream, []) if i == entry_id), None)

    def _deliver(self, entry_id: str) -> StreamEntry:
        slot = self._g.pending.setdefault(entry_id, [self._consumer, 0, 0.0])
        slot[0], slot[1], slot[2] = self._consumer, int(slot[1]) + 1, time.monotonic()  # type: ignore[call-overload]
        return StreamEntry(entry_id, self._raw(entry_id) or "", int(slot[1]))  # type: ignore[call-overload]

    async def read(self, count: int, block_ms: int) -> Sequence[StreamEntry]:
        if self._own_history:
            mine = [i for i, p in self._g.pending.items() if p[0] == self._consumer][:count]
            if mine:
                return [self._deliver(i) for i in mine]
            self._own_history = False
        entries = self._b.entries.get(self._stream, [])
        batch = entries[self._g.next_index : self._g.next_index + count]
        self._g.next_index += len(batch)
        return [self._deliver(i) for i, _ in batch]

    async def ack(self, ids: Sequence[str]) -> None:
        for entry_id in ids:
            self._g.pending.pop(entry_id, None)

    async def claim_stale(self, min_idle_ms: int, count: int) -> Sequence[StreamEntry]:
        now = time.monotonic()
        stale = [i for i, p in self._g.pending.items() if (now - float(p[2])) * 1000 >= min_idle_ms][:count]  # type: ignore[arg-type]
        return [self._deliver(i) for i in stale]

    async def trim(self) -> int:
        entries = self._b.entries.get(self._stream, [])
        floor = min([self._index(i) for i in self._g.pending] + [self._g.next_index])
        del entries[:floor]
        self._g.next_index -= floor
        return floor

    def _index(self, entry_id: str) -> int:
        return next(n for n, (i, _) in enumerate(self._b.entries[self._stream]) if i == entry_id)

    async def backlog(self) -> dict[str, int]:
        return {"lag": len(self._b.entries.get(self._stream, [])) - self._g.next_index, "pending": len(self._g.pending)}

    async def oldest_pending(self) -> str | None:
        return min(self._g.pending, key=event_id_key, default=None)
