"""The model lifecycle over HTTP: aliases with CAS and history, artifacts, deletion rules,
retention, retraining and schedules, against a real daemon."""

from __future__ import annotations

import io
import zipfile

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess, module_daemon
from tests.support.ws_client import DEMO_SPEC, collect_events, submit

pytestmark = pytest.mark.e2e
MODEL = "lifecycle"


daemon = module_daemon("lifecycle", {"MLPLANE_DEMO_ROWS": "5000"})


async def train(http: aiohttp.ClientSession, daemon: DaemonProcess) -> int:
    job_id = (await submit(http, daemon.url, {**DEMO_SPEC, "model_name": MODEL}))["job_id"]
    return (await collect_events(http, daemon.url, job_id))[-1]["data"]["version"]


async def test_aliases_move_by_cas_and_keep_an_audit_trail(http, daemon) -> None:
    first, second = await train(http, daemon), await train(http, daemon)
    async with http.put(f"/v1/models/{MODEL}/aliases/production",
                        json={"version": first, "expected_version": None, "reason": "launch", "by": "ana"}) as r:
        assert r.status == 200 and (await r.json())["seq"] == 1
    async with http.put(f"/v1/models/{MODEL}/aliases/production",
                        json={"version": second, "expected_version": 99, "reason": "stale"}) as r:
        assert r.status == 409 and (await r.json())["error"]["details"]["current_version"] == first
    async with http.put(f"/v1/models/{MODEL}/aliases/production",
                        json={"version": second, "expected_version": first, "reason": "better"}) as r:
        assert r.status == 200
    async with http.get(f"/v1/models/{MODEL}/aliases/production/history") as r:
        history = (await r.json())["history"]
    assert [(h["from_version"], h["to_version"], h["reason"]) for h in history] == [
        (None, first, "launch"), (first, second, "better")]
    async with http.get(f"/v1/models/{MODEL}/aliases/production/history",
                        params={"at": history[0]["at"]}) as r:
        assert (await r.json())["version"] == first
    async with http.delete(f"/v1/models/{MODEL}/versions/{second}") as r:
        assert r.status == 409 and "production" in (await r.json())["error"]["message"]


async def test_artifacts_download_as_one_file_or_a_zip(http, daemon) -> None:
    version = await train(http, daemon)
    async with http.get(f"/v1/models/{MODEL}/versions/{version}/artifact") as r:
        names = zipfile.ZipFile(io.BytesIO(await r.read())).namelist()
    assert "model.skops" in names and "manifest.json" not in names
    async with http.get(f"/v1/models/{MODEL}/versions/{version}/artifact", params={"file": "model.skops"}) as r:
        assert r.status == 200 and (await r.read())[:2] == b"PK"
    async with http.get(f"/v1/models/{MODEL}/versions/{version}/artifact", params={"file": "nope"}) as r:
        assert r.status == 422


async def test_retention_plans_then_applies_without_touching_aliases(http, daemon) -> None:
    for _ in range(2):
        await train(http, daemon)
    async with http.put(f"/v1/models/{MODEL}/retention", json={"keep_last": 1, "keep_days": 0, "alias_days": 0}) as r:
        assert r.status == 200
    async with http.get(f"/v1/models/{MODEL}/retention/plan") as r:
        plan = await r.json()
    async with http.get(f"/v1/models/{MODEL}/aliases") as r:
        served = set((await r.json())["aliases"].values())
    assert plan["delete"] and not served & set(plan["delete"]) and plan["bytes_reclaimed"] > 0
    async with http.post(f"/v1/models/{MODEL}/retention/apply") as r:
        assert (await r.json())["delete"] == plan["delete"]
    async with http.get(f"/v1/models/{MODEL}/versions") as r:
        remaining = {v["version"] for v in (await r.json())["versions"]}
    assert remaining == set(plan["keep"])


async def retrain(http: aiohttp.ClientSession, daemon: DaemonProcess, **body: object) -> dict:
    async with http.post(f"/v1/models/{MODEL}/retrain", json=body) as r:
        assert r.status == 202
        job_id = (await r.json())["job_id"]
    final = (await collect_events(http, daemon.url, job_id))[-1]
    assert final["type"] == "completed", final
    return dict(final["data"])


async def test_retrain_promotes_only_a_better_challenger_and_schedules_list_next_runs(http, daemon) -> None:
    async with http.get(f"/v1/models/{MODEL}/aliases") as r:
        champion = (await r.json())["aliases"]["production"]
    # Same data, same spec: an equal challenger, and both scored on rows neither trained on.
    equal = await retrain(http, daemon, metric="accuracy")
    assert equal["decision"] == "kept champion" and equal["challenger"] == equal["champion"], equal
    assert equal["fair"] is True and equal["champion_version"] == champion
    within = await retrain(http, daemon, metric="accuracy", tolerance=0.01)
    assert within["decision"] == "promoted" and within["champion_version"] == champion, within
    async with http.put(f"/v1/models/{MODEL}/schedule", json={"cron": "30 2 * * *", "timezone": "Europe/Paris"}) as r:
        assert r.status == 200
    async with http.get("/v1/schedules") as r:
        (schedule,) = [s for s in (await r.json())["schedules"] if s["model"] == MODEL]
    assert len(schedule["next_runs"]) == 5 and all(t.endswith(":30:00Z") for t in schedule["next_runs"])
    async with http.put(f"/v1/models/{MODEL}/schedule", json={"cron": "every day"}) as r:
        assert r.status == 422 and "cron" in (await r.json())["error"]["message"]
    async with http.post("/v1/models/ghost/retrain") as r:
        assert r.status == 404
