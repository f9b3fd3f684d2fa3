"""One data dir, one owner: a second `mlplane up` (or a worker that would start its own embedded Redis) on
a data dir a live daemon uses is refused with exit status 2 and leaves the daemon and its Redis alone; a
worker joining through the daemon's MLPLANE_REDIS_URL shares it as before; a kill -9'd daemon never
blocks the next start."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.e2e
QUIET = {"MLPLANE_SEED_DEMO": "false"}


@pytest.fixture
def first(tmp_path: Path) -> Iterator[DaemonProcess]:
    daemon = DaemonProcess(tmp_path / "data", QUIET)
    daemon.start()
    yield daemon
    assert daemon.stop() == 0, daemon.log_text()[-3000:]


def redis_pid(data_dir: Path) -> int:
    return int((data_dir / "redis" / "redis.pid").read_text())


def alive(pid: int) -> bool:
    try:
        return bool(Path(f"/proc/{pid}/cmdline").read_bytes())  # a zombie's is empty
    except OSError:
        return False


def run_beside(daemon: DaemonProcess, *command: str) -> subprocess.CompletedProcess[str]:
    """Runs another mlplane process on the daemon's data dir; one that does not exit in time is stopped."""
    env = DaemonProcess(daemon.data_dir, QUIET).env  # the environment the tests' daemons get
    process = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", *command, "--data-dir", str(daemon.data_dir)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:  # it started instead of refusing: stop it, the test fails below
        process.terminate()
        out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(command, process.returncode, out, err)


async def ready(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/readyz") as reply:
        return reply.status


async def test_a_second_daemon_on_a_live_data_dir_is_refused_and_the_first_keeps_its_redis(
        first: DaemonProcess) -> None:
    before = redis_pid(first.data_dir)

    second = run_beside(first, "up", "--port", "0")

    assert second.returncode == 2, second
    assert f"data dir {first.data_dir.resolve()} is in use by mlplane pid {first.pid}" in second.stderr
    assert "MLPLANE_DATA_DIR" in second.stderr
    assert redis_pid(first.data_dir) == before and alive(before)
    assert await ready(first.url) == 200


async def test_a_worker_starting_its_own_redis_is_refused_but_one_joining_the_daemons_redis_runs(
        first: DaemonProcess) -> None:
    before = redis_pid(first.data_dir)

    own_redis = run_beside(first, "worker", "--queue", "ingestion")
    assert own_redis.returncode == 2, own_redis
    assert f"is in use by mlplane pid {first.pid}" in own_redis.stderr
    assert "MLPLANE_REDIS_URL" in own_redis.stderr  # how to join it instead
    assert redis_pid(first.data_dir) == before and alive(before)

    port = (first.data_dir / "redis" / "redis.port").read_text().strip()
    joining = DaemonProcess(first.data_dir, {**QUIET, "MLPLANE_REDIS_URL": f"redis://127.0.0.1:{port}/0"},
                            command=("worker", "--queue", "ingestion"))
    joining.start()
    try:
        assert await ready(first.url) == 200
    finally:
        assert joining.stop() == 0, joining.log_text()[-3000:]
    assert redis_pid(first.data_dir) == before


async def test_a_kill_9_daemon_does_not_block_the_next_start(tmp_path: Path) -> None:
    crashed = DaemonProcess(tmp_path / "data", QUIET)
    crashed.start()
    crashed.kill()

    restarted = DaemonProcess(tmp_path / "data", QUIET)
    restarted.start()
    try:
        assert await ready(restarted.url) == 200
    finally:
        assert restarted.stop() == 0, restarted.log_text()[-3000:]
