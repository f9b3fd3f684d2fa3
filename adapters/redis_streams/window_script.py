"""The Lua script that appends a whole batch to its entities' windows in one call (layout: windows.py).

KEYS: the batch's distinct entity windows. ARGV: record size in bytes, max events, max age (-1:
none), ttl, the epoch for windows created now (8 bytes), then three blobs: per key the 24 bytes
the caller holds for it (epoch and last id; zeros when it holds nothing), per key its record
count (little-endian int32), and every key's records back to back, ids strictly increasing per key;
last, the id (ms, seq) of the oldest event still pending in the pipeline's group (-1: none).
A record is little-endian float64s: id ms, id seq, ts, values; ids compare as (ms, seq) doubles,
exact for any real stream id (seq below 2^53).

The work is per entity and touches only the ends of a window when the caller's copy is current:
read the header and the last id, skip the records at or before it (redeliveries), APPEND the rest.
A window is rewritten only when it holds twice `max events` records (or its first row is older
than twice `max age`), so the store holds at most twice what the features read, except that a
trim keeps every row from the oldest pending event on, and the `max events` rows before it: an
event redelivered after its entity moved on still finds exactly the window it had. Reply per key: the
record count after the call (-1 when nothing was appended), then the whole window as it was before
the call (header included) when the caller's 24 bytes do not match it, else nil.
A window of another layout (an older format, other fields) cannot be read: it starts again.
"""

from __future__ import annotations

HEADER_BYTES = 16  # b"mlw2", record size (int32), epoch (8 bytes: which incarnation of the key)
MAGIC = b"mlw2"

WINDOW_BATCH = """
local size, max_events, max_age, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local prefix, known, counts, records = 'mlw2' .. struct.pack('<i4', size), ARGV[6], ARGV[7], ARGV[8]
local floor_ms, floor_seq = tonumber(ARGV[9]), tonumber(ARGV[10])
local function ts_at(rows, j) return (struct.unpack('<d', rows, j * size + 17)) end

local function first_pending(rows, total)  -- index of the first row at or after the floor (total: none)
  local f = total
  while f > 0 do
    local ms, seq = struct.unpack('<dd', rows, (f - 1) * size + 1)
    if ms < floor_ms or (ms == floor_ms and seq < floor_seq) then break end
    f = f - 1
  end
  return f
end

local function trim(key, epoch)  -- keep the last max_events rows, less leading ones older than max_age
  local rows = string.sub(redis.call('GET', key), 17)
  local total = #rows / size
  local lo = math.max(0, total - max_events)
  if max_age >= 0 then
    local newest = ts_at(rows, total - 1)
    while lo < total - 1 and ts_at(rows, lo) < newest - max_age do lo = lo + 1 end
  end
  if floor_ms >= 0 then lo = math.min(lo, math.max(0, first_pending(rows, total) - max_events)) end
  redis.call('SET', key, prefix .. epoch .. string.sub(rows, lo * size + 1), 'EX', ttl)
  return total - lo
end

local function stale(key, count, new)
  if count > 2 * max_events then return true end
  if max_age < 0 then return false end
  local first = struct.unpack('<d', redis.call('GETRANGE', key, 32, 39))
  return first < ts_at(new, #new / size - 1) - 2 * max_age
end

local reply, at = {}, 1
for k = 1, #KEYS do
  local key, m = KEYS[k], struct.unpack('<i4', counts, k * 4 - 3)
  local batch = string.sub(records, at, at + m * size - 1)
  at = at + m * size
  local head = redis.pcall('GETRANGE', key, 0, 15)
  local fresh = type(head) ~= 'string' or string.sub(head, 1, 8) ~= prefix
  local epoch, last, skip = ARGV[5], string.rep('\\0', 16), 0
  if not fresh then
    epoch, last = string.sub(head, 9, 16), redis.call('GETRANGE', key, -size, -size + 15)
    local lms, lseq = struct.unpack('<dd', last)
    while skip < m do
      local ms, seq = struct.unpack('<dd', batch, skip * size + 1)
      if lms < ms or (lms == ms and lseq < seq) then break end
      skip = skip + 1
    end
  end
  local before = false
  if fresh then before = prefix .. epoch
  elseif string.sub(known, k * 24 - 23, k * 24) ~= epoch .. last then before = redis.call('GET', key) end
  local count = -1
  if skip < m then
    local new = string.sub(batch, skip * size + 1)
    if fresh then
      redis.call('SET', key, prefix .. epoch .. new, 'EX', ttl)
      count = m
    else
      count = (redis.call('APPEND', key, new) - 16) / size
      redis.call('EXPIRE', key, ttl)
    end
    if stale(key, count, new) then count = trim(key, epoch) end
  end
  reply[2 * k - 1], reply[2 * k] = count, before
end
return reply
"""
