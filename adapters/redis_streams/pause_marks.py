"""Per-consumer marks in a hash, one field per consumer, each with its own expiry: the consumers'
pause marks (why one holds new input) and serving records (what one serves, or why nothing).

A pipeline is paused while any of its consumers holds new input, and one consumer resuming must
not clear another's mark (a single shared key did: with two consumers in the hysteresis band,
the first to resume made the stats say `paused: null` while the other still held its input).
Likewise a pipeline is served while any consumer serves: a consumer with nothing to serve takes
no events, so it must not make the stats say `paused` (a single shared version did, whichever
consumer wrote last). Each field holds "<expiry ms>|<value>" in Redis server time, so consumers on
machines whose clocks disagree still agree on what has expired; the key expires after the latest
renewal, so the marks of crashed consumers go by themselves, and expired fields are pruned at each
write. A serving record's value is "<version>|<reason>" (version 0: none; the reason says why).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from adapters.redis_streams.keys import text

MARK = """
local key, holder, value, ttl = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if value == '' then
  redis.call('HDEL', key, holder)
else
  redis.call('HSET', key, holder, (now + ttl) .. '|' .. value)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
local fields = redis.call('HGETALL', key)
for i = 1, #fields, 2 do
  if tonumber(string.match(fields[i + 1], '^(%d+)|')) <= now then redis.call('HDEL', key, fields[i]) end
end
return 1
"""


class Serving(NamedTuple):
    """What the live serving records say: `versions`, every one a consumer serves (highest last; empty:
    no consumer serves); `reason`, why none does (None while one does); `live`: any record at all."""

    versions: tuple[int, ...]
    reason: str | None
    live: bool


def serving_value(version: int | None, reason: str | None) -> str:
    """A serving record's value for MARK (never empty: an empty value deletes the record)."""
    return f"{version or 0}|{reason or ''}"


def live_serving(fields: Any, server_time: Any) -> Serving:
    """The serving records, HGETALL's answer, that have not expired at `server_time` (TIME's answer)."""
    records = [(expiry, value.split("|", 1)) for expiry, value in _live(fields, server_time)]
    served = [int(version) for _, (version, _) in records if int(version) > 0]
    if served:
        return Serving(tuple(sorted(set(served))), None, True)
    reasons = sorted((expiry, reason) for expiry, (_, reason) in records if reason)
    return Serving((), reasons[-1][1] if reasons else None, bool(records))


def live_reason(fields: Any, server_time: Any) -> str | None:
    """The reason of the most recently renewed pause mark that has not expired (None: nobody holds input).
    `fields` and `server_time` are HGETALL's and TIME's answers, read in one round trip."""
    live = _live(fields, server_time)
    return max(live)[1] if live else None


def _live(fields: Any, server_time: Any) -> list[tuple[int, str]]:
    """(expiry ms, value) of each field that has not expired."""
    if not isinstance(fields, dict) or not isinstance(server_time, list | tuple):
        return []  # no marks yet, or an error answer: the stats say what they can
    seconds, micros = (int(part) for part in server_time)
    now_ms = seconds * 1000 + micros // 1000
    marks = [text(value).split("|", 1) for value in fields.values()]
    return [(int(expiry), value) for expiry, value in marks if int(expiry) > now_ms]
