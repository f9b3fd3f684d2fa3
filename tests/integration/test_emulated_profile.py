"""The emulated profile: BigQuery and Cloud Storage adapters through our emulators, with faults,
and training scaled out over separate API and worker processes sharing one Redis."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import uuid
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio as aioredis
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from adapters.arq.task_queue import arq_job_id
from tests.support.daemon import DaemonProcess
from tests.support.emulator_fixtures import Emulators
from tests.support.ws_client import DEMO_SPEC, collect_events, submit

pytestmark = pytest.mark.integration


def model_bytes(emulators: Emulators, env_name: str, model: str, version: int) -> dict[str, str]:
    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options=ClientOptions(api_endpoint=emulators.gcs_url))
    prefix = f"{env_name}/models/{model}/versions/{version}/"
    manifest = json.loads(client.bucket("mlplane").blob(prefix + "manifest.json").download_as_bytes())
    return {f["name"]: hashlib.sha256(client.bucket("mlplane").blob(prefix + f["name"]).download_as_bytes())
            .hexdigest() for f in manifest["files"]}


def complete_versions(emulators: Emulators, env_name: str, model: str) -> list[int]:
    client = storage.Client(project="test", credentials=AnonymousCredentials(),
                            client_options=ClientOptions(api_endpoint=emulators.gcs_url))
    blobs = client.list_blobs("mlplane", prefix=f"{env_name}/models/{model}/versions/")
    return sorted(int(b.name.split("/")[4]) for b in blobs if b.name.endswith("/manifest.json"))


async def test_training_under_20_percent_503s_and_latency_gives_identical_artifacts(
    emulators: Emulators, redis_url: str, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    env_name = f"faults-{uuid.uuid4().hex[:6]}"
    daemon = DaemonProcess(tmp_path, {**emulators.profile_env(env_name), "MLPLANE_REDIS_URL": redis_url,
                                      "MLPLANE_DEMO_ROWS": "20000"})
    daemon.start(timeout=120)
    try:
        clean = await submit(session, daemon.url, {**DEMO_SPEC, "model_name": "clean"})
        assert (await collect_events(session, daemon.url, clean["job_id"]))[-1]["type"] == "completed"
        emulators.set_faults({"error_rate": 0.2, "status": 503, "latency_ms": 200, "seed": 3})
        faulty = await submit(session, daemon.url, {**DEMO_SPEC, "model_name": "faulty"})
        events = await collect_events(session, daemon.url, faulty["job_id"], timeout=170)
        assert events[-1]["type"] == "completed", events[-1]
    finally:
        emulators.clear_faults()
        assert daemon.stop() == 0, daemon.log_text()[-3000:]
    assert model_bytes(emulators, env_name, "faulty", 1) == model_bytes(emulators, env_name, "clean", 1)


async def test_kill_9_of_the_worker_running_a_job_lets_the_other_worker_finish_it(
    emulators: Emulators, redis_url: str, tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    env_name = f"scale-{uuid.uuid4().hex[:6]}"
    env = {**emulators.profile_env(env_name), "MLPLANE_REDIS_URL": redis_url, "MLPLANE_DEMO_ROWS": "300000"}
    api = DaemonProcess(tmp_path / "api", env, command=("api", "--port", "0"))
    workers = [DaemonProcess(tmp_path / f"w{i}", env, command=("worker", "--queue", "training")) for i in (1, 2)]
    api.start(timeout=120)
    for worker in workers:
        worker.start()
    try:
        spec = {**DEMO_SPEC, "model_name": "scaled", "hyperparameters": {"max_depth": None}}
        job_id = (await submit(session, api.url, spec))["job_id"]
        events = await collect_events(session, api.url, job_id, stop_after=5)
        assert events[-1]["data"].get("stage") == "fit", events
        victim = await running_worker_pid(redis_url, env_name, job_id)
        os.kill(victim, signal.SIGKILL)
        final = await collect_events(session, api.url, job_id, timeout=150)
        assert final[-1]["type"] == "completed", final[-1]
        assert complete_versions(emulators, env_name, "scaled") == [1]
        assert victim in {w.pid for w in workers}
    finally:
        for process in (*workers, api):
            process.kill() if process.process and process.process.poll() is None else None


async def running_worker_pid(redis_url: str, env_name: str, job_id: str) -> int:
    """Worker ids are host-pid-random; the lease hash (keyed by arq's job id) says which worker runs the job."""
    client = aioredis.Redis.from_url(redis_url)
    namespace = f"mlplane:{env_name}:"
    try:
        owner = await client.hget(f"{namespace}running-jobs", arq_job_id(namespace, job_id))
    finally:
        await client.aclose()
    assert owner is not None
    return int(owner.decode().rsplit("-", 2)[1])
