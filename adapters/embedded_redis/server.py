"""A private redis-server/valkey-server child process for the `local` profile and for tests.

Append-only file in the data dir (so queued jobs survive a restart), bound to one host on the port of
its last start when that port is free (so a separate consumer's MLPLANE_REDIS_URL stays right across a
restart), else on a free one, and tied to our process with PR_SET_PDEATHSIG so it never outlives a
kill -9 of the daemon. Its caller owns the data dir (data_dir_lock.py), since `start()` stops whatever
server the pidfile names; supervisor.py restarts it when it dies under us.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from adapters.embedded_redis.binary import EmbeddedRedisError, die_with_parent, find_binary, free_port, stop_leftover


class EmbeddedRedisServer:
    """Start with `await start()` (returns the URL) or `async with`; stop with `await stop()`."""

    def __init__(self, data_dir: Path, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()  # the server's --dir must not depend on its cwd
        self.host = host
        self.port = port
        self._fixed_port = port
        self.pidfile = self.data_dir / "redis.pid"
        self.portfile = self.data_dir / "redis.port"  # the port of the last start, tried first
        self.logfile = self.data_dir / "redis.log"
        self._process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    async def start(self, timeout: float = 10.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await stop_leftover(self.pidfile)
        binary = find_binary()
        for port in self._candidate_ports():
            self.port = port
            process = await self._spawn(binary)
            if await self._became_ready(process, timeout):
                self._remember_port()
                return self.url
        raise self._failure(f"exited with status {process.returncode}")

    async def restart(self, timeout: float = 10.0) -> None:
        """Start again after the server died under us: on the same port (every client of ours holds
        this URL), from the same append-only file. Raises EmbeddedRedisError if it will not come up."""
        process = await self._spawn(find_binary())
        if not await self._became_ready(process, timeout):
            raise self._failure(f"exited with status {process.returncode}")

    async def wait_exited(self) -> int | None:
        """Returns once the running server exits, with its status; None when it was stopped (stop()
        forgets the process first) or none was running: nothing to restart then."""
        process = self._process
        if process is None:
            return None
        status = await process.wait()
        return status if self._process is process else None

    def _candidate_ports(self) -> Iterator[int]:
        """The port we were given; else the last start's, then free ones (a port found free by
        bind-and-close can be taken before the server binds it: three tries)."""
        if self._fixed_port is not None:
            yield self._fixed_port
            return
        if (last := self.remembered_port()) is not None:
            yield last
        for _ in range(3):
            yield free_port(self.host)

    def remembered_port(self) -> int | None:
        try:
            port = int(self.portfile.read_text().strip())
        except (OSError, ValueError):  # a first start, or an unreadable file: any free port will do
            return None
        return port if 0 < port < 65536 else None  # port 0 would mean no TCP listener at all

    def _remember_port(self) -> None:
        with contextlib.suppress(OSError):  # only a convenience: the next start then takes a free port
            self.portfile.write_text(f"{self.port}\n")

    async def _spawn(self, binary: Path) -> asyncio.subprocess.Process:
        preexec = functools.partial(die_with_parent, os.getpid()) if sys.platform == "linux" else None
        self._process = await asyncio.create_subprocess_exec(
            str(binary), *self._arguments(),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL, preexec_fn=preexec,
            # Its own session: Ctrl-C in a terminal signals the whole foreground process group,
            # and Redis must outlive the daemon's graceful shutdown, which stops it last.
            start_new_session=True,
        )  # fmt: skip
        return self._process

    def _arguments(self) -> list[str]:
        return [
            "--port", str(self.port), "--bind", self.host, "--protected-mode", "yes",
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--dir", str(self.data_dir), "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile), "--daemonize", "no",
        ]  # fmt: skip

    async def _became_ready(self, process: asyncio.subprocess.Process, timeout: float) -> bool:
        """True once OUR process answers PING, False if it exited (port taken, bad config...)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # Another server already on the port would answer PING too: check who answers.
        while not (await self._answers_ping() and await self._server_pid() == process.pid):
            if process.returncode is not None:
                return False
            if loop.time() > deadline:
                await self.stop()
                raise self._failure(f"did not answer PING within {timeout:.0f}s")
            await asyncio.sleep(0.05)
        return True

    def _failure(self, what: str) -> EmbeddedRedisError:
        try:
            tail = "\n".join(self.logfile.read_text(errors="replace").splitlines()[-15:])
        except OSError:
            tail = "(no log file)"
        return EmbeddedRedisError(f"embedded redis on {self.url} {what}; log tail:\n{tail}",
                                  {"what": what, "log_tail": tail})

    async def _answers_ping(self) -> bool:
        # Raw RESP keeps this module free of a client library; "-LOADING" (AOF replay) is not ready.
        return await self._command(b"PING\r\n") == b"+PONG\r\n"

    async def _server_pid(self) -> int | None:
        for line in (await self._command(b"INFO server\r\n")).splitlines():
            if line.startswith(b"process_id:"):
                return int(line.split(b":", 1)[1])
        return None

    async def _command(self, payload: bytes) -> bytes:
        """Send one command; the reply line, or the body of a bulk reply; b"" on any failure."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 1.0)
        except (OSError, TimeoutError):
            return b""
        try:
            writer.write(payload)
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), 1.0)
            if not line.startswith(b"$") or line.startswith(b"$-1"):
                return line
            return await asyncio.wait_for(reader.readexactly(int(line[1:]) + 2), 1.0)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError):
            return b""
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def stop(self, timeout: float = 10.0) -> None:
        """SHUTDOWN (flushes the AOF), wait for the exit, SIGKILL if it does not come."""
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        await self._command(b"SHUTDOWN\r\n")  # the server closes the connection without a reply
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def __aenter__(self) -> EmbeddedRedisServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
