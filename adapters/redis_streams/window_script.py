"""The Lua script that updates a whole batch's windows in one call (see windows.py for the protocol)."""

from __future__ import annotations

# KEYS: one window list per event (repeats allowed, applied in order).
# ARGV: max events, max age (-1: none), ttl, then one per event: "<expected last id>\t<entry>", the
# entry being `id|ts|v1,v2,...` (one argument per event: redis-py's packing is per argument).
# Reply per event: {'sync'} when the list's last id before the append was the expected one (the
# caller's copy is current: nothing else to send), {'full', entries...} after an append to a list
# the caller did not know, {'prefix', entries...} for an event at or before the last applied one
# (a redelivery: not appended again; the entries up to it).
WINDOW_BATCH = """
local function id_of(entry)
  local ms, seq = string.match(entry, '^(%d+)-(%d+)|')
  return tonumber(ms), tonumber(seq)
end
local max_events, max_age, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local replies = {}
for i, key in ipairs(KEYS) do
  local expected, entry = string.match(ARGV[3 + i], '^([^\t]*)\t(.*)$')
  local ms, seq = id_of(entry)
  local ts = tonumber(string.match(entry, '^[^|]*|([^|]*)|'))
  local last = redis.call('LINDEX', key, -1)
  local last_id = ''
  if last then last_id = string.match(last, '^([^|]*)|') end
  local lms, lseq = -1, -1
  if last then lms, lseq = id_of(last) end
  if last and (lms > ms or (lms == ms and lseq >= seq)) then
    local out = {'prefix'}
    for _, e in ipairs(redis.call('LRANGE', key, 0, -1)) do
      local ems, eseq = id_of(e)
      if ems < ms or (ems == ms and eseq <= seq) then out[#out + 1] = e end
    end
    replies[i] = out
  else
    redis.call('RPUSH', key, entry)
    redis.call('LTRIM', key, -max_events, -1)
    if max_age >= 0 then
      while redis.call('LLEN', key) > 1 do
        local head = redis.call('LINDEX', key, 0)
        if tonumber(string.match(head, '^[^|]*|([^|]*)|')) >= ts - max_age then break end
        redis.call('LPOP', key)
      end
    end
    redis.call('EXPIRE', key, ttl)
    if last_id == expected then
      replies[i] = {'sync'}
    else
      local out = {'full'}
      for _, e in ipairs(redis.call('LRANGE', key, 0, -1)) do out[#out + 1] = e end
      replies[i] = out
    end
  end
end
return replies
"""
