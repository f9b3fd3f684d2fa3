"""The embedded Redis server the daemon starts when no MLPLANE_REDIS_URL is given."""

from adapters.embedded_redis.binary import EmbeddedRedisError, find_binary
from adapters.embedded_redis.data_dir_lock import DataDirInUse, DataDirLock
from adapters.embedded_redis.server import EmbeddedRedisServer
from adapters.embedded_redis.supervisor import EmbeddedRedisSupervisor

__all__ = ["DataDirInUse", "DataDirLock", "EmbeddedRedisError", "EmbeddedRedisServer", "EmbeddedRedisSupervisor",
           "find_binary"]
