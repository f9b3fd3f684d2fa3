"""The process's copy of recently used windows, so a batch need not fetch windows it already holds.

Redis stays the source of truth: each copy is kept with the 24 bytes that identify the window
state it mirrors (the key's epoch and its last record id), and the script sends a window back
whenever those bytes no longer match what is stored (another consumer appended, the key expired
or was cleared). A stale copy therefore costs one fetch, never a wrong feature. The copies are
bounded in bytes, least recently used first out.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import numpy.typing as npt

UNKNOWN = bytes(24)  # what the script is told for a window this process holds no copy of
Rows = npt.NDArray[np.float64]


class WindowCache:
    def __init__(self, max_bytes: int) -> None:
        self._max_bytes, self._bytes = max_bytes, 0
        self._copies: OrderedDict[str, tuple[bytes, Rows]] = OrderedDict()

    def held(self, keys: list[str]) -> list[tuple[bytes, Rows] | None]:
        """Per key, the state held and its 24 bytes (None when none), marking each as recently used.
        The caller keeps these: a copy evicted meanwhile (by another pipeline's batch) is still valid."""
        out = []
        for key in keys:
            copy = self._copies.get(key)
            if copy is not None:
                self._copies.move_to_end(key)
            out.append(copy)
        return out

    def put(self, key: str, epoch: bytes, rows: Rows) -> None:
        """Hold `rows` (a copy: never a view that would keep a whole batch alive) as the key's state."""
        self.discard(key)
        size = rows.nbytes
        if size and size <= self._max_bytes:
            self._copies[key] = (epoch + rows[-1, :2].tobytes(), rows)
            self._bytes += size
            while self._bytes > self._max_bytes:
                _key, (_token, evicted) = self._copies.popitem(last=False)
                self._bytes -= evicted.nbytes

    def discard(self, key: str) -> None:
        held = self._copies.pop(key, None)
        if held is not None:
            self._bytes -= held[1].nbytes

    def discard_prefix(self, prefix: str) -> None:
        for key in [k for k in self._copies if k.startswith(prefix)]:
            self.discard(key)
