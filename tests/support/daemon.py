"""Runs `mlplane up` as a real subprocess on a free loopback port, for e2e and integration tests."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

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
