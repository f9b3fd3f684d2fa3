"""A local webhook receiver on 127.0.0.1 that counts deliveries per Idempotency-Key and checks HMACs.

`mode`: "ok"; "flaky" (keys whose hash is even get 503 twice, then 200); "bad" (400 always).
A separate process can run it too: `python -m tests.support.webhook_sink PORT_FILE SECRET`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
import zlib
from collections import Counter
from pathlib import Path

from aiohttp import web


class WebhookSink:
    def __init__(self, secret: str, mode: str = "ok") -> None:
        self.secret, self.mode = secret, mode
        self.delivered: Counter[str] = Counter()  # 2xx answers per key
        self.attempts: Counter[str] = Counter()
        self.bad_signatures = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body, key = await request.read(), request.headers.get("Idempotency-Key", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, request.headers.get("X-Mlplane-Signature", "")):
            self.bad_signatures += 1
            return web.Response(status=401)
        self.attempts[key] += 1
        if self.mode == "bad":
            return web.Response(status=400, text="bad request")
        if self.mode == "flaky" and zlib.crc32(key.encode()) % 2 == 0 and self.attempts[key] <= 2:
            return web.Response(status=503, headers={"Retry-After": "0"})
        self.delivered[key] += 1
        return web.json_response({"ok": True})

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{bound}/hook"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def _serve(port_file: Path, secret: str) -> None:
    sink = WebhookSink(secret)
    await sink.start()
    port_file.write_text(sink.url)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_serve(Path(sys.argv[1]), sys.argv[2]))
