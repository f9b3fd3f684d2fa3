"""EnvSecretProvider, DirectorySecretProvider and ChainedSecretProvider (first answer wins)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import anyio

from domain.types.identifiers import sql_identifier
from domain.types.secrets import Secret
from ports.secrets import SecretProvider


def _env_name(name: str) -> str:
    return "MLPLANE_SECRET_" + name.upper().replace("-", "_")


class EnvSecretProvider:
    """`api-token` is read from MLPLANE_SECRET_API_TOKEN."""

    async def get(self, name: str) -> Secret | None:
        value = os.environ.get(_env_name(name))
        return Secret(value) if value else None


class DirectorySecretProvider:
    """One file per secret (Kubernetes / Docker secrets style); trailing newline ignored."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    async def get(self, name: str) -> Secret | None:
        sql_identifier(name.replace("-", "_"), "secret name")  # no path tricks in names
        path = self._directory / name
        if not await anyio.Path(path).is_file():
            return None
        value = (await anyio.Path(path).read_text()).strip()
        return Secret(value) if value else None


class ChainedSecretProvider:
    def __init__(self, providers: Sequence[SecretProvider]) -> None:
        self._providers = providers

    async def get(self, name: str) -> Secret | None:
        for provider in self._providers:
            secret = await provider.get(name)
            if secret is not None:
                return secret
        return None
