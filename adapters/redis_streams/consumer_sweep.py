"""Forget consumer names that hold nothing and have been idle long: each process start adds one.

Every `mlplane up`, `mlplane inference` or recorder process joins its groups under a new name
(host, pid, random), and Redis keeps a name forever. A name with no pending entry that has not
read for an hour belongs to a process that is gone (a live consumer reads at least every few
seconds, and one that does come back is re-created by its next read), so it is deleted. The
check and the delete run in one script: a consumer that read in between would lose its pending
entries with its name, so the two must not be split.
"""

from __future__ import annotations

from redis.asyncio import Redis

FORGET_IDLE_MS = 3_600_000

_FORGET = """
local removed = 0
for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #consumer, 2 do info[consumer[i]] = consumer[i + 1] end
  if info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    removed = removed + 1
  end
end
return removed
"""


async def forget_idle_consumers(redis: Redis, stream: str, group: str, min_idle_ms: int = FORGET_IDLE_MS) -> int:
    """How many consumer names of `group` on `stream` were deleted (none with a pending entry)."""
    return int(await redis.eval(_FORGET, 1, stream, group, str(min_idle_ms)))  # type: ignore[misc]
