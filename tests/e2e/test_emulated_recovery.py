"""The emulated daemon when its emulators fail it: BigQuery answering 503 is a prompt 503 at the API (it
hung 10 minutes, then a 500), emulators restarted empty (their default is in memory) are taken up again
(it was 404 and 500 until a restart), and a daemon restarted over them trains the demo model again (its
pipeline stayed paused for want of a model)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import redis

from emulators.bigquery.server import BigQueryEmulator
from emulators.gcs.server import GcsEmulatorThread
from tests.support.daemon import DaemonProcess, poll_json, request_json
from tests.support.emulator_fixtures import Emulators, _admin
from tests.support.ws_client import DEMO_SPEC

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


class RestartableEmulators:
    """Both emulators (in memory, as `mlplane emulators` runs by default), restarted empty on the same ports."""

    def __init__(self) -> None:
        self._gcs, self._bq, self.ports = self._start(0, 0)

    def _start(self, gcs_port: int, bq_port: int) -> tuple[GcsEmulatorThread, BigQueryEmulator, tuple[int, int]]:
        gcs = GcsEmulatorThread(host="127.0.0.1", port=gcs_port)
        gcs_url = gcs.start()
        bq = BigQueryEmulator(host="127.0.0.1", port=bq_port, gcs_url=gcs_url)
        bq.start()
        return gcs, bq, (int(gcs_url.rsplit(":", 1)[1]), bq.port)

    @property
    def urls(self) -> Emulators:
        return Emulators(self._gcs.url, self._bq.url)

    def restart_empty(self) -> None:
        self.stop()
        self._gcs, self._bq, _ = self._start(*self.ports)

    def stop(self) -> None:
        self._bq.stop()
        self._gcs.stop()


@pytest.fixture
def emulators_pair() -> Iterator[RestartableEmulators]:
    pair = RestartableEmulators()
    yield pair
    pair.stop()


@pytest.fixture
def env(emulators_pair: RestartableEmulators, redis_url: str) -> Iterator[dict[str, str]]:
    name = f"recover-{uuid.uuid4().hex[:6]}"
    yield {**emulators_pair.urls.profile_env(name), "MLPLANE_REDIS_URL": redis_url, "MLPLANE_DEMO_ROWS": "2000"}
    with redis.Redis.from_url(redis_url) as client:
        keys = list(client.scan_iter(match=f"mlplane:{name}:*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def started(tmp_path: Path, env: dict[str, str], **extra: str) -> DaemonProcess:
    daemon = DaemonProcess(tmp_path, {**env, **extra})
    daemon.start(timeout=120)
    return daemon


async def timed(session: aiohttp.ClientSession, method: str, url: str, body: object = None) -> tuple[int, dict, float]:
    began = time.monotonic()
    status, answer = await request_json(session, method, url, body)
    return status, answer, time.monotonic() - began


async def test_bigquery_answering_503_is_a_prompt_503_and_emulators_restarted_empty_are_taken_up(
        emulators_pair, env, tmp_path, session) -> None:
    daemon = started(tmp_path, env, MLPLANE_SEED_DEMO="false")
    try:
        assert (await request_json(session, "GET", f"{daemon.url}/v1/tables"))[0] == 200
        _admin(emulators_pair.urls.bigquery_url, "POST", {"error_rate": 1.0, "status": 503, "operations": ["*"]})
        status, answer, took = await timed(session, "GET", f"{daemon.url}/v1/tables/demo_events")
        assert (status, answer["error"]["code"]) == (503, "transient") and took < 30, (answer, took)
        assert "BigQuery is unavailable for now" in answer["error"]["message"]
        status, answer, took = await timed(session, "POST", f"{daemon.url}/v1/training-jobs", DEMO_SPEC)
        assert status == 503 and took < 30, (answer, took)
        _admin(emulators_pair.urls.bigquery_url, "DELETE", None)

        emulators_pair.restart_empty()
        assert await request_json(session, "GET", f"{daemon.url}/v1/tables") == (200, {"tables": []})
        status, answer = await request_json(session, "GET", f"{daemon.url}/v1/models")
        assert status == 200, answer
        await poll_json(session, f"{daemon.url}/readyz", lambda body: body["status"] == "ready", timeout=30)
        status, answer = await request_json(session, "POST", f"{daemon.url}/v1/ingestions",
                                            {"sources": ["gs://no-such-bucket-q7/a.csv"], "table": "d1"})
        assert status == 422 and "no-such-bucket-q7" in answer["error"]["message"], answer
    finally:
        assert daemon.stop() == 0, daemon.log_text()[-3000:]


async def test_a_daemon_restarted_over_emptied_emulators_trains_the_demo_model_again(
        emulators_pair, env, tmp_path, session) -> None:
    versions = "/v1/models/demo-churn/versions"
    daemon = started(tmp_path / "first", env)
    try:
        await poll_json(session, f"{daemon.url}{versions}", lambda body: len(body["versions"]) == 1)
        await poll_json(session, f"{daemon.url}/v1/pipelines/demo", lambda body: True)
    finally:
        assert daemon.stop() == 0, daemon.log_text()[-3000:]
    emulators_pair.restart_empty()
    daemon = started(tmp_path / "second", env)  # the same Redis: the pipeline record is still there
    try:
        await poll_json(session, f"{daemon.url}{versions}", lambda body: len(body["versions"]) == 1, timeout=150)
        await poll_json(session, f"{daemon.url}/v1/models/demo-churn/aliases",
                        lambda body: body["aliases"].get("production") == 1, timeout=30)
    finally:
        assert daemon.stop() == 0, daemon.log_text()[-3000:]
