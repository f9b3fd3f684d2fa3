"""The embedded Redis server the daemon starts when no MLPLANE_REDIS_URL is given."""

from adapters.embedded_redis.server import EmbeddedRedisError, EmbeddedRedisServer, find_binary

__all__ = ["EmbeddedRedisError", "EmbeddedRedisServer", "find_binary"]
