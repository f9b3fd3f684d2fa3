"""InMemoryArtifactStore: the ArtifactStore port on a dict."""

from __future__ import annotations

from domain.types.errors import ArtifactNotFound


class InMemoryArtifactStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes) -> None:
        self.blobs[key] = bytes(data)

    async def create(self, key: str, data: bytes) -> bool:
        if key in self.blobs:
            return False
        self.blobs[key] = bytes(data)
        return True

    async def get(self, key: str) -> bytes:
        try:
            return self.blobs[key]
        except KeyError:
            raise ArtifactNotFound(f"no artifact at {key!r}", {"key": key}) from None

    async def list(self, prefix: str) -> list[str]:
        return sorted(k for k in self.blobs if k.startswith(prefix))

    async def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    def uri(self, key: str) -> str:
        return f"memory://{key}"
