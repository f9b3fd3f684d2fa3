"""GivingUp: a task's give_up, tried again within its try, and remembered across tries when it still fails.

A give_up is a few writes (a dead letter, a job record); a Redis blip can fail one. It is tried again a few
times within GIVE_UP_S. If it still fails, the try leaves a record that the task is being given up (a Redis
key with the cause and the tries) and arq runs the task again later: that try finds the record and only gives
up. Running the handler again instead would repeat what failed: a bug, a hung try, a 4-hour training.

The record names the job's enqueue time: a job enqueued again later under the same id is not given up by
a record its predecessor left (the record is deleted once given up, but that delete may fail too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arq.worker import Retry
from redis.asyncio import Redis

from adapters.arq.leases import REDIS_AWAY
from domain.types.redaction import redact_urls
from domain.types.retry import backoff_seconds

log = logging.getLogger(__name__)
# A give_up is bounded, so a hung one cannot run into arq's own timeout, which would end the job `failed`
# with nobody told: all its calls together take GIVE_UP_S at most.
GIVE_UP_S = 10.0
GIVE_UP_CALLS = 3  # within GIVE_UP_S, 0.5-1 s then 1-2 s apart
RECORD_S = 2.0  # writing the record is one SET: bounded too, within the slack arq's timeout leaves
RECORD_TTL_S = 86400  # outlives any retry's deferral (capped at minutes) by far


@dataclass(frozen=True)
class Pending:
    """A give_up that an earlier try of this job could not complete."""

    cause: str
    tries: int


class GivingUp:
    def __init__(self, redis: Redis, namespace: str) -> None:
        self._redis = redis
        self._namespace = namespace

    async def pending(self, ctx: dict[str, Any]) -> Pending | None:
        """The give_up an earlier try of this job left to do, if any (ctx: arq's, of this try). Redis away:
        a Retry, as the handler must not run without knowing (arq would end the job `failed` on the error)."""
        try:
            raw = await self._redis.get(self._key(ctx["job_id"]))
        except REDIS_AWAY as exc:
            raise Retry(defer=backoff_seconds(ctx["job_try"], base=1.0, cap=30.0)) from exc
        if raw is None:
            return None
        record = json.loads(raw)
        if record.get("enqueued") != _enqueued(ctx):
            return None  # left by an earlier job of the same id
        return Pending(str(record["cause"]), int(record["tries"]))

    async def give_up(self, ctx: dict[str, Any], call: Callable[[], Awaitable[None]], cause: str, tries: int) -> bool:
        """Run `call` (the handler's give_up), again on failure; False when it never succeeded, after
        recording `cause` and `tries` for the next try. A record of an earlier try is deleted once given up."""
        try:
            await self._calls(call, ctx["job_id"])
        except Exception as exc:
            log.warning("task %s could not give up on try %s (%s: %s); its next try only gives up", ctx["job_id"],
                        ctx["job_try"], type(exc).__name__, redact_urls(str(exc)))
            await self._record(ctx, cause, tries)
            return False
        with contextlib.suppress(Exception):  # a record left behind names this job's enqueue time: harmless
            async with asyncio.timeout(RECORD_S):
                await self._redis.delete(self._key(ctx["job_id"]))
        return True

    async def _calls(self, call: Callable[[], Awaitable[None]], job_id: str) -> None:
        async with asyncio.timeout(GIVE_UP_S):
            for number in range(1, GIVE_UP_CALLS + 1):
                try:
                    await call()
                    return
                except Exception as exc:
                    if number == GIVE_UP_CALLS:
                        raise
                    log.info("task %s: give_up failed (%s: %s); calling it again", job_id, type(exc).__name__,
                             redact_urls(str(exc)))
                await asyncio.sleep(backoff_seconds(number, base=1.0, cap=2.0))

    async def _record(self, ctx: dict[str, Any], cause: str, tries: int) -> None:
        record = json.dumps({"cause": cause, "tries": tries, "enqueued": _enqueued(ctx)})
        try:
            async with asyncio.timeout(RECORD_S):
                await self._redis.set(self._key(ctx["job_id"]), record, ex=RECORD_TTL_S)
        except Exception as exc:  # nowhere else to keep it: the next try runs the handler again
            log.error("task %s: could not record that it is being given up (%s: %s); its next try runs it again",
                      ctx["job_id"], type(exc).__name__, redact_urls(str(exc)))

    def _key(self, job_id: str) -> str:
        return f"{self._namespace}giving-up:{job_id}"


def _enqueued(ctx: dict[str, Any]) -> str:
    enqueued = ctx.get("enqueue_time")
    return enqueued.isoformat() if isinstance(enqueued, datetime) else ""
