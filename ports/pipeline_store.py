"""PipelineStore port: pipeline configurations, shared by every API and inference process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.types.pipelines import PipelineConfig


class PipelineStore(Protocol):
    """`put` replaces atomically; `get` raises NotFound; `delete` of a missing name is a no-op."""

    async def put(self, config: PipelineConfig) -> None: ...

    async def get(self, name: str) -> PipelineConfig: ...

    async def list(self) -> Sequence[PipelineConfig]: ...

    async def delete(self, name: str) -> None: ...
