"""Translate redis-py failures into the port error family, in one place."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import exceptions as redis_errors

from domain.types.errors import TransientError


@contextmanager
def transient_errors(operation: str) -> Iterator[None]:
    """Map a lost or slow connection to TransientError so callers (arq wrapper, API) may retry.

    BusyLoadingError (server replaying its AOF after a restart) is a ConnectionError subclass,
    so it is transient too. Other redis errors are bugs or misconfiguration and propagate.
    """
    try:
        yield
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, ConnectionError) as exc:
        raise TransientError(f"redis unavailable during {operation}: {exc}", {"operation": operation}) from exc


def text(value: bytes | str) -> str:
    """Clients may or may not use decode_responses=True; adapters accept both."""
    return value.decode() if isinstance(value, bytes) else value
