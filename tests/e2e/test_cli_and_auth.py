"""The command line against a daemon that requires a bearer token, and the worker's refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess
from tests.support.ws_client import DEMO_SPEC

pytestmark = pytest.mark.e2e
TOKEN = "test-token-not-a-real-secret"


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    process = DaemonProcess(tmp_path_factory.mktemp("auth"),
                            {"MLPLANE_DEMO_ROWS": "5000", "MLPLANE_SECRET_API_TOKEN": TOKEN})
    process.start()
    yield process
    assert process.stop() == 0
    assert TOKEN not in process.log_text()  # secrets never reach the logs


def mlplane(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "entrypoints.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=Path(__file__).resolve().parents[2])


async def test_requests_without_the_token_are_refused_except_health(daemon: DaemonProcess) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{daemon.url}/v1/tables") as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "unauthorized"
        async with session.get(f"{daemon.url}/v1/tables", headers={"Authorization": "Bearer wrong"}) as response:
            assert response.status == 401
        async with session.get(f"{daemon.url}/healthz") as response:
            assert response.status == 200
        async with session.get(f"{daemon.url}/v1/tables", headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 200


def test_train_follow_exits_0_when_the_model_is_ready(daemon: DaemonProcess, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**DEMO_SPEC, "model_name": "cli-model"}))
    result = mlplane("train", str(spec), "--follow", "--url", daemon.url, "--token", TOKEN)
    assert result.returncode == 0, result.stderr
    assert "model cli-model version 1 is ready" in result.stderr
    assert result.stdout.strip().startswith("job_")


def test_train_with_a_bad_spec_exits_non_zero_with_the_cause(daemon: DaemonProcess, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**DEMO_SPEC, "algorithm": "nope"}))
    result = mlplane("train", str(spec), "--follow", "--url", daemon.url, "--token", TOKEN)
    assert result.returncode != 0 and "unknown algorithm 'nope'" in result.stderr


def test_train_without_the_token_says_it_was_refused(daemon: DaemonProcess, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(DEMO_SPEC))
    result = mlplane("train", str(spec), "--url", daemon.url)
    assert result.returncode != 0 and "401" in result.stderr


@pytest.mark.parametrize("queue", ["training", "commits"])
def test_a_separate_worker_refuses_the_warehouse_queues_in_the_local_profile(tmp_path: Path, queue: str) -> None:
    result = mlplane("worker", "--queue", queue, "--data-dir", str(tmp_path), timeout=60)
    assert result.returncode == 2
    assert "owned by the daemon" in result.stderr and "'emulated' or 'gcp'" in result.stderr


def test_an_unknown_queue_is_refused_by_name(tmp_path: Path) -> None:
    result = mlplane("worker", "--queue", "nope", "--data-dir", str(tmp_path), timeout=60)
    assert result.returncode == 2 and "unknown queue 'nope'" in result.stderr


def test_binding_beyond_loopback_without_a_token_is_refused_before_anything_binds(tmp_path: Path) -> None:
    result = mlplane("up", "--host", "0.0.0.0", "--port", "0", "--data-dir", str(tmp_path), timeout=60)
    assert result.returncode == 2 and "without authentication" in result.stderr
    assert not (tmp_path / "redis").exists()  # refused before even the embedded Redis started


def test_the_daemon_refuses_to_leave_the_warehouse_queues_to_others_in_local(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPLANE_")}
    result = subprocess.run([sys.executable, "-m", "entrypoints.cli", "up", "--port", "0", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
                            env={**env, "MLPLANE_DAEMON_QUEUES": '["training", "ingestion", "actions"]'})
    assert result.returncode != 0
    assert "MLPLANE_DAEMON_QUEUES must include 'training' and 'commits'" in result.stderr + result.stdout
