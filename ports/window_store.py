"""WindowStore port: per-entity rolling windows kept outside the process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from domain.types.column_batch import ColumnBatch
from domain.types.streams import ParsedEvent

# One row per event in the window, oldest first: (timestamp, values in the pipeline's field order).
Window = Sequence[tuple[float, Sequence[float]]]


class WindowBatch(ColumnBatch[Window]):
    """A batch's windows as rows of two flat arrays, so features need no per-event objects: event
    i's window is rows starts[i] .. starts[i] + lengths[i] - 1 of `times` [rows] and `values`
    [rows, fields]. Windows may share rows (one entity's successive events)."""

    def __init__(self, times: npt.NDArray[np.float64], values: npt.NDArray[np.float64],
                 starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]) -> None:
        self.times, self.values, self.starts, self.lengths = times, values, starts, lengths

    @classmethod
    def of(cls, windows: Sequence[Window], n_fields: int) -> WindowBatch:
        if isinstance(windows, WindowBatch):
            return windows
        rows = [row for window in windows for row in window]
        lengths = np.fromiter((len(w) for w in windows), dtype=np.int64, count=len(windows))
        values = np.array([row[1] for row in rows], dtype=np.float64).reshape(len(rows), n_fields)
        return cls(np.array([row[0] for row in rows], dtype=np.float64), values, np.cumsum(lengths) - lengths, lengths)

    def __len__(self) -> int:
        return len(self.starts)

    def _row(self, i: int) -> Window:
        rows = slice(int(self.starts[i]), int(self.starts[i] + self.lengths[i]))
        return list(zip(self.times[rows].tolist(), self.values[rows].tolist(), strict=True))


class WindowStore(Protocol):
    """Any consumer can serve any entity, and a restart loses nothing.

    `append` adds each event to its entity's window, in the order of their positions
    (ParsedEvent.position: the stream id, or for a replayed event its replay entry's id), and
    returns the window as of that event (including it). Idempotent by position: an event at or
    before the entity's last applied position is not added again, and the window returned is the
    one it had then, so a redelivered event yields the same features. For that, history is kept
    back to `keep_from` (the position of the oldest event still pending: it may be redelivered)
    and the `max_events` rows before it, however far its entity has moved on; older history may go.
    Adapters may return a WindowBatch (the fast path for features) or any other sequence of windows.
    """

    async def append(
        self, pipeline: str, events: Sequence[ParsedEvent], max_events: int, max_age_s: float | None,
        keep_from: str | None = None,
    ) -> Sequence[Window]: ...

    async def clear(self, pipeline: str) -> None: ...
