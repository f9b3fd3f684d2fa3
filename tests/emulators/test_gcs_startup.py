"""Starting the GCS emulator: the command line and the asyncio context manager."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import aiohttp
import pytest

from emulators.gcs import GcsEmulatorThread, running_gcs_emulator
from tests.emulators.gcs_fixtures import get_faults, make_client

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(60)]

REPO = Path(__file__).resolve().parents[2]


def _pump(proc: subprocess.Popen[str], lines: queue.Queue[str]) -> threading.Thread:
    """Copy the child's stdout lines into ``lines`` from a thread, so reads never block."""

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.put(line)

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    return thread


def _read_url(lines: queue.Queue[str], deadline_s: float = 20.0) -> str:
    """Return the URL from the STORAGE_EMULATOR_HOST line, waiting at most ``deadline_s``."""
    deadline = time.monotonic() + deadline_s
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            break
        if line.startswith("export STORAGE_EMULATOR_HOST="):
            return line.split("=", 1)[1].strip()
    raise AssertionError("the emulator did not print its URL")


def test_command_line_starts_serves_and_stops(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "emulators.gcs", "--host", "127.0.0.1", "--port", "0",
           "--data-dir", str(tmp_path), "--fail-nth", "object.get:99", "--log-level", "WARNING"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    lines: queue.Queue[str] = queue.Queue()
    pump = _pump(proc, lines)
    try:
        url = _read_url(lines)
        assert url.startswith("http://127.0.0.1:")
        client = make_client(url)
        client.create_bucket("from-cli").blob("a").upload_from_string(b"cli")
        assert client.bucket("from-cli").blob("a").download_as_bytes() == b"cli"
        assert get_faults(url)["config"]["fail_nth"] == {"operation": "object.get", "n": 99}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
            pump.join(timeout=5)  # EOF once the child is gone; then closing is safe
            proc.stdout.close()  # type: ignore[union-attr]
    assert proc.returncode == 0
    assert (tmp_path / "buckets" / "from-cli" / "bucket.json").exists()


async def test_async_context_manager() -> None:
    async with running_gcs_emulator(port=0) as url, aiohttp.ClientSession() as http:
        assert url.startswith("http://127.0.0.1:")
        created = await http.post(f"{url}/storage/v1/b?project=p", json={"name": "async-bkt"})
        assert created.status == 200
        upload = await http.post(
            f"{url}/upload/storage/v1/b/async-bkt/o?uploadType=media&name=a%2Fb",
            data=b"payload", headers={"Content-Type": "application/octet-stream"})
        assert (await upload.json())["size"] == "7"
        media = await http.get(f"{url}/storage/v1/b/async-bkt/o/a%2Fb?alt=media")
        assert await media.read() == b"payload"
        missing = await http.get(f"{url}/storage/v1/b/async-bkt/o/missing")
        assert missing.status == 404
        assert (await missing.json())["error"]["errors"][0]["reason"] == "notFound"


def test_thread_runner_reports_a_taken_port_and_cleans_up() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        runner = GcsEmulatorThread(host="127.0.0.1", port=taken.getsockname()[1])
        with pytest.raises(OSError):
            runner.start()
    assert not runner.running
