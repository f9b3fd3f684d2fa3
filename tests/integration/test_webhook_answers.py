"""How WebhookExecutor reads a receiver's answer over real HTTP: Retry-After is honoured within a
bound (a receiver cannot park an action for good), anything but ASCII seconds is left to our own
backoff, and a huge body is not read whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from adapters.secrets.providers import EnvSecretProvider
from adapters.webhook.executor import MAX_RETRY_AFTER_S, WebhookExecutor
from domain.types.errors import PermanentError, TransientError
from domain.types.rules import ActionSpec
from tests.support.http_fixtures import serving

pytestmark = pytest.mark.integration


HUGE_CHUNKS = 1024  # of 64 KiB: 64 MiB, far more than socket buffers hold
sent: list[int] = []  # chunks the /huge answer managed to write


@pytest.fixture
async def receiver() -> AsyncIterator[str]:
    """Answers POST /{status}?retry_after=V with that status and header; /huge streams 64 MiB."""

    async def answer(request: web.Request) -> web.StreamResponse:
        if request.match_info["status"] == "huge":
            reply = web.StreamResponse(status=200)
            await reply.prepare(request)
            sent.clear()
            for n in range(HUGE_CHUNKS):
                await reply.write(b"x" * 65536)  # raises once the client has gone
                sent.append(n)
            return reply
        headers = {"Retry-After": request.query["retry_after"]} if "retry_after" in request.query else {}
        return web.Response(status=int(request.match_info["status"]), headers=headers)

    app = web.Application()
    app.router.add_post("/{status}", answer)
    async with serving(app) as url:
        yield url


async def call(url: str) -> None:
    executor = WebhookExecutor(EnvSecretProvider(), default_timeout_s=5.0)
    try:
        await executor.execute(ActionSpec("hook", "webhook", {"url": url}), "p:1-0:hook", {"score": 0.9})
    finally:
        await executor.close()


@pytest.mark.parametrize(("header", "expected"), [
    ("7", 7), (" 120 ", 120), (str(MAX_RETRY_AFTER_S + 1), MAX_RETRY_AFTER_S),
    ("9" * 20, MAX_RETRY_AFTER_S), ("9" * 5000, MAX_RETRY_AFTER_S),  # past int()'s 4300-digit limit
    ("\u00b2", None), ("\u0661", None), ("-5", None), ("1.5", None),
    ("Wed, 21 Oct 2026 07:28:00 GMT", None), (None, None),
])
async def test_a_503_is_transient_with_a_bounded_retry_after(receiver: str, header: str | None,
                                                             expected: int | None) -> None:
    query = "" if header is None else f"?retry_after={header}"
    with pytest.raises(TransientError) as caught:
        await call(f"{receiver}/503{query}")
    assert caught.value.details.get("retry_after_s") == expected and caught.value.details["status"] == 503


async def test_a_400_is_permanent(receiver: str) -> None:
    with pytest.raises(PermanentError, match="400"):
        await call(f"{receiver}/400")


async def test_a_huge_answer_body_is_not_read_whole_and_still_counts_as_delivered(receiver: str) -> None:
    await call(f"{receiver}/huge")  # no exception: delivered
    await asyncio.sleep(0.2)  # the receiver's next write finds the connection closed
    assert 0 < len(sent) < HUGE_CHUNKS // 2
