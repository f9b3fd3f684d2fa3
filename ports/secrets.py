"""SecretProvider port: named secrets from env, a directory, or a secret manager."""

from __future__ import annotations

from typing import Protocol

from domain.types.secrets import Secret


class SecretProvider(Protocol):
    async def get(self, name: str) -> Secret | None:
        """The secret's current value, or None when it is not configured."""
        ...
