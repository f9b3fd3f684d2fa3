"""Retrain and schedule input a real daemon judges before any training: a metric the model's task
does not report is a 422 naming the allowed ones, a cron field out of range is named, and a model
schedule set before the first promotion is kept with a warning."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from tests.support.daemon import DaemonProcess, module_daemon
from tests.support.ws_client import DEMO_SPEC, collect_events, submit

pytestmark = pytest.mark.e2e
MODEL = "checked"  # a classification model
CLASSIFICATION = "accuracy, precision, recall, f1, log_loss, roc_auc"

daemon = module_daemon("retrain-checks", {"MLPLANE_DEMO_ROWS": "2000"})


@pytest.fixture(scope="module")
def trained(daemon: DaemonProcess) -> int:
    """The model's one version, trained once for the module (its own event loop: the tests' are per test)."""
    async def train() -> int:
        async with aiohttp.ClientSession() as http:
            job_id = (await submit(http, daemon.url, {**DEMO_SPEC, "model_name": MODEL}))["job_id"]
            final = (await collect_events(http, daemon.url, job_id))[-1]
        assert final["type"] == "completed", final
        return int(final["data"]["version"])

    return asyncio.run(train())


async def test_a_schedule_before_the_first_promotion_is_kept_with_a_warning_but_a_bad_metric_is_not(
        http: aiohttp.ClientSession, trained: int) -> None:
    async with http.put(f"/v1/models/{MODEL}/schedule", json={"retrain": {"metric": "bogus"}}) as r:
        assert r.status == 422 and "use one of accuracy" in (await r.json())["error"]["message"]
    async with http.put(f"/v1/models/{MODEL}/schedule", json={"retrain": {"metric": "rmse"}}) as r:
        error = (await r.json())["error"]
        assert r.status == 422 and CLASSIFICATION in error["message"] and error["details"]["field"] == "metric"
    async with http.put(f"/v1/models/{MODEL}/schedule", json={"retrain": {"metric": "f1"}}) as r:
        answer = await r.json()
    assert r.status == 200 and "no alias 'production' yet" in answer["warnings"][0]
    assert answer["created_at"] and answer["active_since"]


async def test_an_on_demand_retrain_with_a_metric_the_task_lacks_is_a_422_not_a_training_run(
        http: aiohttp.ClientSession, trained: int) -> None:
    async with http.put(f"/v1/models/{MODEL}/aliases/production", json={"version": trained, "reason": "t"}) as r:
        assert r.status == 200
    for metric in ("bogus", "r2"):
        async with http.post(f"/v1/models/{MODEL}/retrain", json={"metric": metric}) as r:
            assert r.status == 422, await r.text()
            assert "accuracy" in (await r.json())["error"]["message"]
    async with http.put(f"/v1/models/{MODEL}/schedule", json={"retrain": {"metric": "accuracy"}}) as r:
        assert r.status == 200 and (await r.json())["warnings"] == []


async def test_a_cron_field_out_of_range_is_named(http: aiohttp.ClientSession, trained: int) -> None:
    async with http.put(f"/v1/models/{MODEL}/schedule", json={"cron": "61 * * * *"}) as r:
        message = (await r.json())["error"]["message"]
    assert r.status == 422 and "the minute field '61' is out of range: minute takes 0-59" in message
    body = {"cron": "0 25 * * *", "ingestion": {"sources": ["nothing/*.csv"], "table": "t"}}
    async with http.put("/v1/ingestion-schedules/late", json=body) as r:
        message = (await r.json())["error"]["message"]
    assert r.status == 422 and "the hour field '25' is out of range: hour takes 0-23" in message


async def test_a_schedule_reads_back_and_deletes_and_each_missing_one_is_a_404(
        http: aiohttp.ClientSession, trained: int) -> None:
    async with http.put(f"/v1/models/{MODEL}/schedule", json={"cron": "30 4 * * *", "timezone": "Europe/Paris"}) as r:
        assert r.status == 200
    async with http.get(f"/v1/models/{MODEL}/schedule") as r:
        shown = await r.json()
    assert r.status == 200 and (shown["cron"], shown["timezone"]) == ("30 4 * * *", "Europe/Paris")
    assert len(shown["next_runs"]) == 5
    async with http.delete(f"/v1/models/{MODEL}/schedule") as r:
        assert r.status == 204
    async with http.get("/v1/schedules") as r:
        assert MODEL not in [s["model"] for s in (await r.json())["schedules"]]
    for method in ("GET", "DELETE"):
        async with http.request(method, f"/v1/models/{MODEL}/schedule") as r:
            error = (await r.json())["error"]
        assert r.status == 404 and error["code"] == "schedule_not_found" and MODEL in error["message"]
    async with http.get("/v1/models/never-trained/schedule") as r:
        assert r.status == 404 and (await r.json())["error"]["code"] == "model_not_found"


async def test_a_stored_schedule_whose_cron_is_now_refused_is_shown_with_its_error_not_a_422(
        daemon: DaemonProcess, http: aiohttp.ClientSession, trained: int) -> None:
    """A six-field cron an older release stored: the listings still answer, naming what to fix."""
    store = FilesystemArtifactStore(daemon.data_dir / "artifacts")
    await store.put(f"models/{MODEL}/schedule.json", json.dumps(
        {"model": MODEL, "cron": "*/30 * * * * *", "timezone": "UTC", "enabled": True, "retrain": None}).encode())
    ingestion = {"sources": ["nothing/*.csv"], "table": "t"}
    await store.put("schedules/ingestions/old.json", json.dumps(
        {"name": "old", "cron": "*/30 * * * * *", "timezone": "UTC", "enabled": True, "ingestion": ingestion}).encode())
    for path, key in (("/v1/schedules", "model"), ("/v1/ingestion-schedules", "name")):
        async with http.get(path) as r:
            listed = {s[key]: s for s in (await r.json())["schedules"]}
        old = listed[MODEL if key == "model" else "old"]
        assert r.status == 200 and old["next_runs"] == [] and "PUT the schedule again" in old["error"], old
