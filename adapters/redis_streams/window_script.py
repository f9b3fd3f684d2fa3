"""The Lua script that appends a whole batch to its entities' windows in one call (layout: windows.py).

KEYS: the batch's distinct entity windows. ARGV: record size in bytes, max events, max age (-1:
none), ttl, then per key the batch's records for it, back to back, ids strictly increasing. A
record is little-endian float64s: id ms, id seq, ts, values; ids compare as (ms, seq) doubles,
exact for any real stream id (seq below 2^53). The work is per entity, not per event (a Lua step
per event cost more than everything else in the batch): skip the records at or before the
window's last id (redeliveries), append the rest, trim by count then age (the newest kept),
write the window once. Reply per key: its window as it was before this call, without the header;
the caller knows the records it sent, so it rebuilds every event's window from that alone.
"""

from __future__ import annotations

WINDOW_BATCH = """
local size, max_events, max_age, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local header = struct.pack('<i4', size)
local function ts_at(rows, j) return (struct.unpack('<d', rows, j * size + 17)) end
local reply = {}
for k = 1, #KEYS do
  -- a window of another layout (an older format, other fields) cannot be read: it starts again
  local stored = redis.pcall('GET', KEYS[k])
  if type(stored) ~= 'string' or string.sub(stored, 1, 4) ~= header then stored = header end
  local window, batch = string.sub(stored, 5), ARGV[4 + k]
  local n, m, skip = #window / size, #batch / size, 0
  if n > 0 then
    local lms, lseq = struct.unpack('<dd', window, (n - 1) * size + 1)
    while skip < m do
      local ms, seq = struct.unpack('<dd', batch, skip * size + 1)
      if lms < ms or (lms == ms and lseq < seq) then break end
      skip = skip + 1
    end
  end
  if skip < m then
    local rows = window .. string.sub(batch, skip * size + 1)
    local total = n + m - skip
    local lo = math.max(0, total - max_events)
    if max_age >= 0 then
      local newest = ts_at(rows, total - 1)
      while lo < total - 1 and ts_at(rows, lo) < newest - max_age do lo = lo + 1 end
    end
    redis.call('SET', KEYS[k], header .. string.sub(rows, lo * size + 1), 'EX', ttl)
  end
  reply[k] = window
end
return reply
"""
