"""The consumers' pause marks: one field per consumer in a hash, each with its own expiry.

A pipeline is paused while any of its consumers holds new input, and one consumer resuming must
not clear another's mark (a single shared key did: with two consumers in the hysteresis band,
the first to resume made the stats say `paused: null` while the other still held its input).
Each field holds "<expiry ms>|<reason>" in Redis server time, so consumers on machines whose
clocks disagree still agree on what has expired; the key expires after the latest renewal, so
the marks of crashed consumers go by themselves, and expired fields are pruned at each write.
"""

from __future__ import annotations

from typing import Any

from adapters.redis_streams.keys import text

MARK = """
local key, holder, reason, ttl = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if reason == '' then
  redis.call('HDEL', key, holder)
else
  redis.call('HSET', key, holder, (now + ttl) .. '|' .. reason)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  if tonumber(string.match(fields[i + 1], '^(%d+)|')) <= now then redis.call('HDEL', key, fields[i]) end
end
return 1
"""


def live_reason(fields: Any, server_time: Any) -> str | None:
    """The reason of the most recently renewed mark that has not expired (None: nobody holds input).
    `fields` and `server_time` are HGETALL's and TIME's answers, read in one round trip."""
    if not isinstance(fields, dict) or not isinstance(server_time, list | tuple):
        return None  # no marks yet, or an error answer: the stats say what they can
    seconds, micros = (int(part) for part in server_time)
    now_ms = seconds * 1000 + micros // 1000
    marks = [text(value).split("|", 1) for value in fields.values()]
    live = [(int(expiry), reason) for expiry, reason in marks if int(expiry) > now_ms]
    return max(live)[1] if live else None
