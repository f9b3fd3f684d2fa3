"""The `actions` queue as the daemon wires it (entrypoints.action_worker, real Redis, real DuckDB): an
action task that fails with anything but a transient error, or runs past the queue's timeout, is
dead-lettered with its cause and the tries it took, never dropped as a `failed` arq job."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from aiohttp import web

from domain.services.inference import ACTION_TASK, ACTIONS_QUEUE
from domain.types.streams import DeadLetter
from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.runtime import running_container

pytestmark = pytest.mark.integration
QUEUE_TIMEOUT_S = 2


@pytest.fixture
async def container(tmp_path: Path, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path / "data", redis_url=redis_url, env=f"t{uuid.uuid4().hex[:8]}",
                        seed_demo=False, ingestion_processes=0, fit_processes=0, actions_max_tries=3,
                        actions_timeout_s=QUEUE_TIMEOUT_S, actions_backoff_base_s=0.05)
    async with running_container(settings, queues=("actions",)) as running:
        yield running


@pytest.fixture
async def slow_sink() -> AsyncIterator[tuple[str, list[str]]]:
    """A webhook receiver that takes 10 s to answer; yields its URL and the keys it was called with."""
    calls: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        calls.append(request.headers.get("Idempotency-Key", ""))
        await asyncio.sleep(10)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", calls
    await runner.cleanup()


async def enqueue(container: Container, key: str, action: dict[str, Any], body: dict[str, Any]) -> None:
    payload = {"pipeline": "p1", "key": key, "action": action, "body": body}
    assert await container.queue().enqueue(ACTION_TASK, payload, job_id=key, queue=ACTIONS_QUEUE)


async def letter_for(container: Container, key: str, timeout: float = 20.0) -> DeadLetter:
    async with asyncio.timeout(timeout):
        while True:
            found = [d for d in await container.dead_letters().list("p1", "action") if d.key == key]
            if found:
                return found[0]
            await asyncio.sleep(0.05)


def signal_body(**features: Any) -> dict[str, Any]:
    return {"event_id": "1-0", "entity": "k1", "model_version": 1, "score": 0.9, "label": 1, "features": features}


async def test_a_record_into_a_table_of_another_schema_is_dead_lettered_naming_its_columns(
        container: Container) -> None:
    await container.warehouse().append("demo_events", pa.table({"entity_id": ["a"], "f0": [0.1]}))
    action = {"name": "rec", "type": "record", "table": "demo_events"}
    await enqueue(container, "p1:1-0:rec", action, signal_body(f0=0.5))
    letter = await letter_for(container, "p1:1-0:rec")
    assert letter.attempts == 1, letter
    assert "demo_events" in letter.cause and "key" in letter.cause and "f_f0" in letter.cause, letter.cause
    assert (await container.warehouse().describe("demo_events")).row_count == 1  # nothing half-written


async def test_a_bug_in_an_action_is_dead_lettered_at_once_without_the_credentials_it_names(
        container: Container) -> None:
    # float() of this feature raises a plain ValueError whose message quotes the value.
    body = signal_body(f0="https://bob:hunter2@example.com/x?sig=abc")
    await enqueue(container, "p1:1-0:rec2", {"name": "rec2", "type": "record", "table": "records"}, body)
    letter = await letter_for(container, "p1:1-0:rec2")
    assert letter.attempts == 1 and "ValueError" in letter.cause, letter
    assert "hunter2" not in letter.cause and "sig=abc" not in letter.cause, letter.cause
    assert "Traceback" not in letter.cause


async def test_a_webhook_slower_than_the_queue_timeout_is_dead_lettered_not_dropped(
        container: Container, slow_sink: tuple[str, list[str]]) -> None:
    url, calls = slow_sink
    action = {"name": "wh", "type": "webhook", "url": url, "timeout_s": 60}  # saved before the save-time check
    await enqueue(container, "p1:1-0:wh", action, signal_body(f0=0.5))
    letter = await letter_for(container, "p1:1-0:wh")
    assert f"timed out after {QUEUE_TIMEOUT_S} s" in letter.cause, letter.cause
    assert letter.attempts == 1 and calls == ["p1:1-0:wh"]
