"""InMemoryArtifactStore: the ArtifactStore port on a dict."""

from __future__ import annotations

from domain.types.errors import ArtifactNotFound, Conflict


class InMemoryArtifactStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.generations: dict[str, int] = {}
        self._last_generation = 0

    async def put(self, key: str, data: bytes) -> None:
        self._write(key, data)

    async def create(self, key: str, data: bytes) -> bool:
        if key in self.blobs:
            return False
        self._write(key, data)
        return True

    async def get_with_generation(self, key: str) -> tuple[bytes, int]:
        return await self.get(key), self.generations[key]

    async def compare_and_swap(self, key: str, data: bytes, expected_generation: int | None) -> int:
        if self.generations.get(key) != expected_generation:
            raise Conflict(f"artifact {key!r} changed concurrently", {"key": key})
        return self._write(key, data)

    def _write(self, key: str, data: bytes) -> int:
        self._last_generation += 1
        self.blobs[key] = bytes(data)
        self.generations[key] = self._last_generation
        return self._last_generation

    async def get(self, key: str) -> bytes:
        try:
            return self.blobs[key]
        except KeyError:
            raise ArtifactNotFound(f"no artifact at {key!r}", {"key": key}) from None

    async def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.blobs if k.startswith(prefix))

    async def delete(self, key: str) -> None:
        self.blobs.pop(key, None)
        self.generations.pop(key, None)

    def uri(self, key: str) -> str:
        return f"memory://{key}"
