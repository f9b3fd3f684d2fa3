"""Retention on a real daemon keeps the version a pipeline still serves: the demo pipeline refuses the
alias's new version (other features) and keeps serving v1, which the plan lists as kept ("served by
pipeline demo"), apply leaves in place, and a DELETE refuses with a 409 naming the pipeline."""

from __future__ import annotations

import aiohttp
import pytest

from tests.support.daemon import DaemonProcess, module_daemon, poll_json, request_json
from tests.support.ws_client import DEMO_SPEC, collect_events, submit

pytestmark = pytest.mark.e2e
MODEL = "demo-churn"
FOUR_FEATURES = {**DEMO_SPEC, "source": {**DEMO_SPEC["source"], "features": ["f0", "f1", "f2", "f3"]}}

daemon = module_daemon("retention-served", {"MLPLANE_DEMO_ROWS": "3000"})


async def train(http: aiohttp.ClientSession, daemon: DaemonProcess) -> int:
    job_id = (await submit(http, daemon.url, FOUR_FEATURES))["job_id"]
    return int((await collect_events(http, daemon.url, job_id))[-1]["data"]["version"])


async def test_retention_keeps_the_version_the_demo_pipeline_still_serves(http, daemon: DaemonProcess) -> None:
    await poll_json(http, f"{daemon.url}/v1/pipelines/demo", lambda b: b["stats"]["model_version"] == 1)
    unaliased, newest = await train(http, daemon), await train(http, daemon)
    status, moved = await request_json(http, "PUT", f"/v1/models/{MODEL}/aliases/production", {"version": newest})
    assert status == 200 and "pipeline 'demo' will keep its current version" in moved["warnings"][0]
    policy = {"keep_last": 1, "keep_days": 0, "alias_days": 0}
    assert (await request_json(http, "PUT", f"/v1/models/{MODEL}/retention", policy))[0] == 200

    status, plan = await request_json(http, "GET", f"/v1/models/{MODEL}/retention/plan")
    assert status == 200 and plan["delete"] == [unaliased] and plan["keep"] == [1, newest]
    assert plan["reasons"]["1"] == "served by pipeline demo"
    status, applied = await request_json(http, "POST", f"/v1/models/{MODEL}/retention/apply")
    assert status == 200 and applied["delete"] == [unaliased]
    assert (await request_json(http, "GET", f"/v1/models/{MODEL}/versions/1"))[0] == 200
    status, refused = await request_json(http, "DELETE", f"/v1/models/{MODEL}/versions/1")
    assert status == 409 and "served by pipeline demo" in refused["error"]["message"]
    status, pipeline = await request_json(http, "GET", f"{daemon.url}/v1/pipelines/demo")
    assert pipeline["stats"]["model_version"] == 1 and pipeline["stats"]["paused"] is None
