"""A webhook receiver on 127.0.0.1 that answers each Idempotency-Key with a scripted list of statuses.

`script["k"] = [503, 503, 400]` answers the first three deliveries of key `k` with those codes;
keys without a script (or past its end) get 200. Every delivery is counted per key.
"""

from __future__ import annotations

from collections import Counter

from aiohttp import web


class ScriptedSink:
    def __init__(self, script: dict[str, list[int]] | None = None) -> None:
        self.script = script or {}
        self.attempts: Counter[str] = Counter()
        self.delivered: Counter[str] = Counter()  # 2xx answers per key
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        key = request.headers.get("Idempotency-Key", "")
        self.attempts[key] += 1
        planned = self.script.get(key, [])
        status = planned[self.attempts[key] - 1] if self.attempts[key] <= len(planned) else 200
        if status < 300:
            self.delivered[key] += 1
        # Retry-After 0: the worker's own backoff decides the pace, not the receiver.
        return web.Response(status=status, headers={"Retry-After": "0"} if status == 503 else {})

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
