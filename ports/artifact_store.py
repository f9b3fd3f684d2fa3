"""ArtifactStore port: blobs under slash-separated keys (a bucket prefix or a directory)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class ArtifactStore(Protocol):
    """Keys are relative (`models/x/versions/1/manifest.json`), validated by the caller.

    `put` replaces atomically: readers see the old bytes or the new ones, never a mix.
    `create` is create-only (GCS `ifGenerationMatch=0`, `O_EXCL`): it returns False, and
    writes nothing, when the key already exists; this is how version numbers are claimed.
    `get` raises ArtifactNotFound; `delete` of a missing key is not an error (idempotent).
    Transient backend errors raise TransientError.
    """

    async def put(self, key: str, data: bytes) -> None: ...

    async def create(self, key: str, data: bytes) -> bool: ...

    async def get(self, key: str) -> bytes: ...

    async def list(self, prefix: str) -> Sequence[str]:
        """Every key starting with `prefix`, sorted. A store whose writes can be cut off half-done
        also clears what those left under `prefix` (never a key, never a write still running)."""
        ...

    async def delete(self, key: str) -> None: ...

    async def get_with_generation(self, key: str) -> tuple[bytes, int]:
        """The bytes and their generation, read together (for compare-and-swap)."""
        ...

    async def compare_and_swap(self, key: str, data: bytes, expected_generation: int | None) -> int:
        """Replace `key` only while it is still at `expected_generation` (None: must not exist).

        Returns the new generation; raises Conflict when someone else wrote first. After a lost
        reply and a retry, Conflict may mean our own write landed: callers re-read and compare.
        """
        ...

    def uri(self, key: str) -> str:
        """Where a key lives, for humans (`file:///...`, `gs://bucket/...`)."""
        ...
