"""SystemClock and RandomIds: the real implementations of the Clock and IdGenerator ports."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RandomIds:
    """Time-ordered prefix (sortable in listings) plus 64 random bits (unguessable)."""

    def new_id(self, prefix: str) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        return f"{prefix}_{stamp}_{secrets.token_hex(8)}"
