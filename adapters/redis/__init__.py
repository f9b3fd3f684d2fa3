"""Redis adapters: job records (JobStore) and event topics (EventLog) on one Redis server."""

from adapters.redis.event_log import RedisEventLog
from adapters.redis.job_store import RedisJobStore

__all__ = ["RedisEventLog", "RedisJobStore"]
