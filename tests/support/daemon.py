"""Runs `mlplane up` as a real subprocess on a free loopback port, for e2e and integration tests;
`module_daemon` makes the per-module `daemon` fixture, `request_json`/`poll_json` talk to it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

BANNER = re.compile(r"mlplane serving (http://127\.0\.0\.1:\d+)|mlplane worker ready")


class DaemonProcess:
    """`mlplane up` by default; `command` runs another role (`api`, `worker --queue training`)."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None,
                 command: tuple[str, ...] = ("up", "--port", "0")) -> None:
        self.data_dir = data_dir
        self.command = command
        base = {k: v for k, v in os.environ.items() if not k.startswith("MLPLANE_")}
        # No MLPLANE_REDIS_URL: embedded Redis. Tests write their sources under the temp dir.
        self.env = {**base, "MLPLANE_ENV": "test", "MLPLANE_INGEST_LOCAL_ROOTS": json.dumps([tempfile.gettempdir()]),
                    **(env or {})}
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.output: list[str] = []

    def start(self, timeout: float = 60.0) -> str:
        command = [sys.executable, "-m", "entrypoints.cli", *self.command, "--data-dir", str(self.data_dir)]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        found = threading.Event()
        threading.Thread(target=self._pump, args=(found,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found.wait(0.2):
            if self.process.poll() is not None or time.monotonic() > deadline:  # exited, or hung
                self.kill()
                time.sleep(0.2)  # let the reader thread collect the last lines
                raise RuntimeError("mlplane did not start:\n" + "".join(self.output[-40:]))
        return self.url

    def _pump(self, found: threading.Event) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if match := BANNER.search(line):
                self.url = match.group(1) or ""
                found.set()

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait: the graceful path."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: the crash path; the embedded Redis dies with it (PDEATHSIG)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
            time.sleep(0.5)  # let the orphaned Redis flush its AOF on the SIGTERM it receives

    def log_text(self) -> str:
        return "".join(self.output)


def run_until_teardown(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[DaemonProcess]:
    """The body of a `daemon` fixture (`yield from` it): start, lend the process to the tests, then stop it
    gracefully. A non-zero exit fails the teardown showing the log's tail, where the cause is."""
    process = DaemonProcess(data_dir, env)
    process.start()
    yield process
    assert process.stop() == 0, process.log_text()[-3000:]


def run_on_tests_redis(redis_url: str, data_dir: Path, env_name: str,
                       env: Mapping[str, str] | None = None) -> Iterator[DaemonProcess]:
    """`run_until_teardown` on the tests' Redis under the namespace `mlplane:{env_name}:`, so a test can
    look at the daemon's keys (streams, groups); they are deleted after."""
    yield from run_until_teardown(data_dir, {"MLPLANE_REDIS_URL": redis_url, "MLPLANE_ENV": env_name, **(env or {})})
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"mlplane:{env_name}:*", count=1000))
        if keys:
            client.delete(*keys)


def module_daemon(folder: str, env: Mapping[str, str]) -> Any:
    """A module-scoped `daemon` fixture (assign it to `daemon` in the test module): starting one costs
    seconds, so a module's tests share it. `folder` names its data dir under pytest's temp dir."""

    @pytest.fixture(scope="module")
    def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
        yield from run_until_teardown(tmp_path_factory.mktemp(folder), env)

    return daemon


async def request_json(session: aiohttp.ClientSession, method: str, url: str,
                       body: Any = None) -> tuple[int, Any]:
    """The status and the JSON answer of one call; a 204 has no body to parse, so it answers {}."""
    async with session.request(method, url, json=body) as response:
        return response.status, (await response.json() if response.status != 204 else {})


async def poll_json(session: aiohttp.ClientSession, url: str, ready: Callable[[Any], bool],
                    timeout: float = 120.0) -> Any:
    """GET `url` until it answers 200 with a body `ready` accepts: the daemon reaches most states
    (a trained demo model, processed events) in the background, after the call that asked for them."""
    async with asyncio.timeout(timeout):
        while True:
            async with session.get(url) as reply:
                if reply.status == 200 and ready(body := await reply.json()):
                    return body
            await asyncio.sleep(0.2)
