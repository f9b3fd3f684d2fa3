"""ServedVersions port: the versions of a model that streaming pipelines are serving right now."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class ServedVersions(Protocol):
    """`served(model)` maps each version some pipeline serves now to those pipelines' names, as their
    consumers last stated it (a pipeline keeps serving an older version when it refuses its alias's
    new one, so this is not what the aliases say). Raises TransientError when the state cannot be
    read: a caller about to delete a version must not take that for "nothing served".
    """

    async def served(self, model: str) -> Mapping[int, Sequence[str]]: ...
