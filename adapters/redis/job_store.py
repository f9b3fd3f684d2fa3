"""RedisJobStore: job records as Redis hashes, with state transitions checked inside Lua.

A finished job's record and event stream expire together, after the configured retention.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis

from adapters.redis.errors import text, transient_errors
from adapters.redis.event_log import topic_stream_key
from domain.types.errors import Conflict, InvalidTransition, JobNotFound
from domain.types.events import job_topic
from domain.types.jobs import TERMINAL_STATES, JobRecord, JobState

_DATETIMES = frozenset({"created_at", "started_at", "finished_at"})
_MAPPINGS = frozenset({"spec", "result"})
_FIELDS = frozenset(f.name for f in fields(JobRecord))
# `id` never changes and `state` only moves through `transition`.
_CHANGEABLE = _FIELDS - {"id", "state"}

# A record is only ever written whole, so "exists" can be tested on any field.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(cjson.decode(ARGV[1])))
return 1
"""

# KEYS: the record, the job's event stream. ARGV: target state ('' = keep the state), JSON list of
# allowed current states, JSON flat list of field/value pairs to set, JSON list of fields to delete
# (set to None), seconds both keys are kept from now ('0' = keep them forever).
# The TTLs are set here, with the transition, so a crash never leaves one key expiring and not the other.
_APPLY = """
local current = redis.call('HGET', KEYS[1], 'state')
if not current then return {'missing'} end
if ARGV[1] ~= '' then
  local allowed = false
  for _, state in ipairs(cjson.decode(ARGV[2])) do
    if state == current then allowed = true end
  end
  if not allowed then return {'refused', current} end
end
local sets = cjson.decode(ARGV[3])
if #sets > 0 then redis.call('HSET', KEYS[1], unpack(sets)) end
local dels = cjson.decode(ARGV[4])
if #dels > 0 then redis.call('HDEL', KEYS[1], unpack(dels)) end
local keep_s = tonumber(ARGV[5])
if keep_s > 0 then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    -- No event yet (a crash right after create): an empty stream now, so the terminal event
    -- appended next lands in a key that already expires instead of creating one kept forever.
    redis.call('XADD', KEYS[2], 'MAXLEN', '0', '*', 'type', 'placeholder')
  end
  redis.call('EXPIRE', KEYS[1], keep_s)
  redis.call('EXPIRE', KEYS[2], keep_s)
end
return {'ok', redis.call('HGETALL', KEYS[1])}
"""


def _dumps(value: Any) -> str:
    # Lua's cjson reads UTF-8 as is; no \u escapes to round-trip.
    return json.dumps(value, ensure_ascii=False)


def _iso(value: datetime) -> str:
    # Naive datetimes are taken as UTC: the domain only produces aware ones.
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _encode(name: str, value: Any) -> str:
    if name in _DATETIMES:
        return _iso(value)
    if name in _MAPPINGS:
        return _dumps(dict(value))
    if name == "cancel_requested":
        return "1" if value else "0"
    return str(value.value if isinstance(value, JobState) else value)


def _decode(name: str, raw: str) -> Any:
    if name in _DATETIMES:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if name in _MAPPINGS:
        return json.loads(raw)
    if name == "cancel_requested":
        return raw == "1"
    if name == "attempts":
        return int(raw)
    return JobState(raw) if name == "state" else raw


def _split_changes(changes: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Field/value pairs to HSET and field names to HDEL (None is stored as an absent field)."""
    unknown = set(changes) - _CHANGEABLE
    if unknown:
        raise ValueError(f"cannot change job fields {sorted(unknown)}")
    sets: list[str] = []
    for name, value in changes.items():
        if value is not None:
            sets += [name, _encode(name, value)]
    return sets, [name for name, value in changes.items() if value is None]


class RedisJobStore:
    """JobStore on Redis: key `{namespace}job:{id}` is a hash with one field per JobRecord field.

    A job that ends (completed, failed, cancelled) keeps its record and its event topic for
    `retention_s` seconds more, then Redis deletes both; 0 keeps them forever.
    """

    def __init__(self, redis: Redis, namespace: str, retention_s: int = 0) -> None:
        if retention_s < 0:
            raise ValueError("retention_s must be 0 (keep forever) or positive")
        self._redis = redis
        self._namespace = namespace
        self._retention_s = retention_s
        self._create = redis.register_script(_CREATE)
        self._apply = redis.register_script(_APPLY)

    def _key(self, job_id: str) -> str:
        return f"{self._namespace}job:{job_id}"

    async def create(self, record: JobRecord) -> None:
        sets, _ = _split_changes({name: getattr(record, name) for name in _CHANGEABLE})
        pairs = ["id", record.id, "state", record.state.value, *sets]
        with transient_errors("job create"):
            created = await self._create(keys=[self._key(record.id)], args=[_dumps(pairs)])
        if not created:
            raise Conflict(f"job {record.id} already exists", {"job_id": record.id})

    async def get(self, job_id: str) -> JobRecord:
        with transient_errors("job get"):
            raw = await self._redis.hgetall(self._key(job_id))  # type: ignore[misc]
        if not raw:
            raise JobNotFound(f"job {job_id} not found", {"job_id": job_id})
        return _record({text(k): text(v) for k, v in raw.items()})

    async def transition(
        self,
        job_id: str,
        to: JobState,
        allowed_from: frozenset[JobState],
        changes: Mapping[str, Any] | None = None,
    ) -> JobRecord:
        sets, dels = _split_changes(changes or {})
        allowed = json.dumps(sorted(s.value for s in allowed_from))
        keep_s = self._retention_s if to in TERMINAL_STATES else 0
        return await self._run_apply(job_id, to.value, allowed, ["state", to.value, *sets], dels, keep_s)

    async def update(self, job_id: str, changes: Mapping[str, Any]) -> JobRecord:
        # Leaves TTLs alone: HSET/HDEL on a finished record keep the expiry its transition set.
        sets, dels = _split_changes(changes)
        return await self._run_apply(job_id, "", "[]", sets, dels, 0)

    async def _run_apply(
        self, job_id: str, to: str, allowed: str, sets: list[str], dels: list[str], keep_s: int
    ) -> JobRecord:
        keys = [self._key(job_id), topic_stream_key(self._namespace, job_topic(job_id))]
        with transient_errors("job transition" if to else "job update"):
            reply = await self._apply(keys=keys, args=[to, allowed, _dumps(sets), _dumps(dels), keep_s])
        status = text(reply[0])
        if status == "missing":
            raise JobNotFound(f"job {job_id} not found", {"job_id": job_id})
        if status == "refused":
            current = text(reply[1])
            raise InvalidTransition(
                f"job {job_id} cannot move from {current} to {to}",
                {"job_id": job_id, "current": current, "target": to},
            )
        flat = [text(item) for item in reply[1]]
        return _record(dict(zip(flat[::2], flat[1::2], strict=True)))


def _record(raw: Mapping[str, str]) -> JobRecord:
    # Fields missing from the hash are None (or the dataclass default).
    return JobRecord(**{name: _decode(name, value) for name, value in raw.items() if name in _FIELDS})
