"""The embedded Redis server the daemon starts when no MLPLANE_REDIS_URL is given."""

from adapters.embedded_redis.binary import EmbeddedRedisError, find_binary
from adapters.embedded_redis.server import EmbeddedRedisServer

__all__ = ["EmbeddedRedisError", "EmbeddedRedisServer", "find_binary"]
