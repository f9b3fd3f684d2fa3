"""Key layout of the streaming adapters, in one place, every key under the environment's namespace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis import exceptions as redis_errors

from domain.types.errors import TransientError


class Keys:
    def __init__(self, namespace: str) -> None:
        self.ns = namespace

    def stream(self, name: str) -> str:
        return f"{self.ns}stream:{name}"

    def signals(self, pipeline: str) -> str:
        return f"{self.ns}signals:{pipeline}"

    def window(self, pipeline: str, entity: str) -> str:
        return f"{self.ns}pl:{pipeline}:win:{entity}"

    def window_prefix(self, pipeline: str) -> str:
        return f"{self.ns}pl:{pipeline}:win:"

    def entity_state(self, pipeline: str) -> str:
        return f"{self.ns}pl:{pipeline}:state"

    def stats(self, pipeline: str, part: str) -> str:
        return f"{self.ns}pl:{pipeline}:stats:{part}"

    def pipelines(self) -> str:
        return f"{self.ns}pipelines"

    def dlq(self, part: str) -> str:
        return f"{self.ns}dlq:{part}"

    def done(self, key: str) -> str:
        return f"{self.ns}done:{key}"


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@contextmanager
def transient_errors(operation: str) -> Iterator[None]:
    """A lost or slow connection is TransientError (the loop pauses and retries); the rest propagates."""
    try:
        yield
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, ConnectionError) as exc:
        raise TransientError(f"redis unavailable during {operation}: {exc}", {"operation": operation}) from exc
