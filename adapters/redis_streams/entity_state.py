"""RedisEntityStateStore: rule state per entity, one JSON value per entity in a pipeline's hash,
decided and recorded by one Lua call per batch.

The script is `domain.services.rules.decide` over each input in order: Redis runs it alone, so
consumers handling one entity at the same time see each other's fires and signals (the earlier
HMGET, evaluate, HSET let both fire inside a cooldown, the last writer winning). The contract
tests hold it to the same answers as the in-memory store, which calls `decide` itself.
KEYS[1]: the pipeline's hash. ARGV: now (seconds), then the inputs as JSON, each
[entity, event id, position, score or null, label text, [[rule, cooldown_s, [[on, op, value]]]]].
A state an older release wrote (no position; its label a raw JSON value) is read as the same state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis

from adapters.redis_streams.keys import Keys, text, transient_errors
from domain.types.rules import Condition, RuleInput

FIRE = """
local key, now, inputs = KEYS[1], tonumber(ARGV[1]), cjson.decode(ARGV[2])
local states, touched = {}, {}
local function known(v) if v == cjson.null then return nil end return v end

local function load(entity)
  if states[entity] then return states[entity] end
  local raw, st = redis.call('HGET', key, entity), {}
  if raw then
    local ok, doc = pcall(cjson.decode, raw)
    if ok and type(doc) == 'table' then st = doc end  -- an unreadable state starts again
  end
  st.score, st.label, st.position = known(st.score), known(st.label), known(st.position)
  if st.position == nil and st.label ~= nil then st.label = cjson.encode(st.label) end
  if type(st.fired_at) ~= 'table' then st.fired_at = {} end
  if type(st.fired_by) ~= 'table' then st.fired_by = {} end
  states[entity], touched[#touched + 1] = st, entity
  return st
end

local function after(position, than)  -- stream positions 'ms-seq', compared as numbers
  if than == nil then return true end
  local ms, seq = string.match(position, '^(%d+)-(%d+)$')
  local tms, tseq = string.match(than, '^(%d+)-(%d+)$')
  ms, seq, tms, tseq = tonumber(ms), tonumber(seq), tonumber(tms), tonumber(tseq)
  return ms > tms or (ms == tms and seq > tseq)
end

local function compare(value, op, target)
  if op == 'in' then
    for _, t in ipairs(target) do if value == t then return true end end
    return false
  end
  if op == '>' then return value > target elseif op == '>=' then return value >= target
  elseif op == '<' then return value < target elseif op == '<=' then return value <= target
  elseif op == '==' then return value == target end
  return value ~= target
end

local function holds(cond, score, label, prev)
  local value = 0
  if cond[1] == 'score_change' then
    if prev.score ~= nil and score ~= nil then value = math.abs(score - prev.score) end
  elseif prev.label ~= nil and prev.label ~= label then value = 1 end
  return compare(value, cond[2], cond[3])
end

local reply = {}
for i, input in ipairs(inputs) do
  local entity, event, position, score, label = input[1], input[2], input[3], known(input[4]), input[5]
  local st = load(entity)
  local newer = after(position, st.position)
  local prev = newer and {score = st.score, label = st.label} or {}
  local fired = {}
  for _, c in ipairs(input[6]) do
    local rule, ok = c[1], st.fired_by[c[1]] == event
    if not ok then
      local last = st.fired_at[rule]
      ok = last == nil or now - last >= c[2]
      for _, cond in ipairs(c[3]) do ok = ok and holds(cond, score, label, prev) end
      if ok then st.fired_at[rule], st.fired_by[rule] = now, event end
    end
    if ok then fired[#fired + 1] = rule end
  end
  if newer then st.score, st.label, st.position = score, label, position end
  reply[i] = fired
end
for _, entity in ipairs(touched) do redis.call('HSET', key, entity, cjson.encode(states[entity])) end
return reply
"""


class RedisEntityStateStore:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis, self._keys = redis, Keys(namespace)
        self._fire = redis.register_script(FIRE)

    async def fire(self, pipeline: str, inputs: Sequence[RuleInput], now: float) -> list[list[str]]:
        if not inputs:
            return []
        wire = json.dumps([_wire(i) for i in inputs], separators=(",", ":"), allow_nan=False)
        with transient_errors("rule state"):
            reply = await self._fire(keys=[self._keys.entity_state(pipeline)], args=[repr(float(now)), wire])
        return [[text(name) for name in names] for names in reply]


def _wire(item: RuleInput) -> list[Any]:
    return [item.entity, item.event_id, item.position, item.score, item.label,
            [[c.rule, c.cooldown_s, [_condition(k) for k in c.on_previous]] for c in item.candidates]]


def _condition(condition: Condition) -> list[Any]:
    """Values as numbers (the script compares numbers; `label_changed == true` means 1.0)."""
    value = condition.value
    return [condition.on, condition.op, [float(v) for v in value] if condition.op == "in" else float(value)]
