"""A batch kept as columns that still reads as a Sequence of row objects.

Hot paths use the columns; code that wants rows (rules, tests, older callers) indexes the batch,
and only the rows it looks at are built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar, overload

T = TypeVar("T")


class ColumnBatch(Sequence[T]):
    """Subclasses say how long they are and how to build row i."""

    def _row(self, i: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[T]: ...
    def __getitem__(self, i: int | slice) -> T | Sequence[T]:
        if isinstance(i, slice):
            return [self._row(j) for j in range(len(self))[i]]
        return self._row(i)
