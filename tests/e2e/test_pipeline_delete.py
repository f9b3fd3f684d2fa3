"""DELETE /v1/pipelines/{name} on a real daemon: the pipeline and its consumer group go (a group left
behind would pin its stream's trimming for ever), its consumers stop, other pipelines go on; moving a
pipeline to another stream drops its group on the old one; a body naming another pipeline is a 422; an
alias moved to a version a pipeline will refuse is answered with a warning naming the pipeline."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import redis
import redis.asyncio as aioredis

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.system.clock import SystemClock
from domain.services.registry import ModelRegistry
from tests.support.daemon import DaemonProcess, poll_json, request_json, run_on_tests_redis

pytestmark = pytest.mark.e2e
ENV = f"pldelete-{uuid4().hex[:8]}"
poll = partial(poll_json, timeout=90.0)
FEATURES = [f"f{i}" for i in range(8)]


@pytest.fixture(scope="module")
def daemon(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    """One daemon with the demo model and pipeline, on the tests' Redis under its own namespace, so the
    tests can look at the consumer groups (its keys are deleted after)."""
    # Claim rounds every 0.25 s (claim_idle_ms / 4): a deleted pipeline's consumers go through several
    # before the runner's config scan stops them, and a claim on the dropped group must not fail.
    env = {"MLPLANE_DEMO_ROWS": "3000", "MLPLANE_INFERENCE_CLAIM_IDLE_MS": "1000"}
    yield from run_on_tests_redis(redis_url, Path(tmp_path_factory.mktemp("pipeline-delete")), ENV, env)


def events(n: int) -> list[dict[str, Any]]:
    return [{"entity_id": f"e{i % 5}", **{f: float(i % 7) for f in FEATURES}} for i in range(n)]


async def groups(redis_url: str, stream: str) -> list[str]:
    client = aioredis.from_url(redis_url)
    try:
        return sorted(g["name"].decode() for g in await client.xinfo_groups(f"mlplane:{ENV}:stream:{stream}"))
    except redis.ResponseError:  # no such stream
        return []
    finally:
        await client.aclose()


async def test_a_deleted_pipeline_stops_and_leaves_no_group_on_its_stream(daemon: DaemonProcess, http,
                                                                          redis_url: str) -> None:
    await poll(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    config = {"stream": "shared", "model": "demo-churn", "features": FEATURES}
    for name in ("keeps", "goes"):
        status, _ = await request_json(http, "PUT", f"{daemon.url}/v1/pipelines/{name}", config)
        assert status == 200
    await request_json(http, "POST", f"{daemon.url}/v1/streams/shared/events", {"events": events(20)})
    for name in ("keeps", "goes"):
        await poll(http, f"{daemon.url}/v1/pipelines/{name}", lambda b: b["stats"]["events_processed"] >= 20)
    assert await groups(redis_url, "shared") == ["pipeline:goes", "pipeline:keeps"]

    async with http.delete(f"{daemon.url}/v1/pipelines/goes") as reply:
        assert reply.status == 204
    assert await groups(redis_url, "shared") == ["pipeline:keeps"]
    status, missing = await request_json(http, "GET", f"{daemon.url}/v1/pipelines/goes")
    assert status == 404 and "goes" in missing["error"]["message"]
    await asyncio.sleep(3)  # past the consumers' config scan: a stopped consumer must not recreate its group
    await request_json(http, "POST", f"{daemon.url}/v1/streams/shared/events", {"events": events(10)})
    await poll(http, f"{daemon.url}/v1/pipelines/keeps", lambda b: b["stats"]["events_processed"] >= 30)
    assert await groups(redis_url, "shared") == ["pipeline:keeps"]
    async with http.delete(f"{daemon.url}/v1/pipelines/goes") as reply:
        assert reply.status == 404
    assert not errors_about(daemon, "goes")  # its consumer idled until stopped: no failed batches


def errors_about(daemon: DaemonProcess, pipeline: str) -> list[str]:
    return [line for line in daemon.log_text().splitlines() if '"level": "error"' in line and pipeline in line]


async def test_moving_a_pipeline_to_another_stream_drops_its_group_on_the_old_one(daemon: DaemonProcess, http,
                                                                                 redis_url: str) -> None:
    await poll(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    config = {"stream": "first", "model": "demo-churn", "features": FEATURES}
    assert (await request_json(http, "PUT", f"{daemon.url}/v1/pipelines/mover", config))[0] == 200
    await request_json(http, "POST", f"{daemon.url}/v1/streams/first/events", {"events": events(5)})
    await poll(http, f"{daemon.url}/v1/pipelines/mover", lambda b: b["stats"]["events_processed"] >= 5)
    assert (await request_json(http, "PUT", f"{daemon.url}/v1/pipelines/mover", {**config, "stream": "second"}))[0] \
        == 200
    assert await groups(redis_url, "first") == []
    await asyncio.sleep(3)  # past the config scan that moves its consumer
    assert not errors_about(daemon, "mover")


async def test_a_body_naming_another_pipeline_is_refused(daemon: DaemonProcess, http) -> None:
    await poll(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    body = {"name": "other", "stream": "s", "model": "demo-churn", "features": FEATURES}
    status, refused = await request_json(http, "PUT", f"{daemon.url}/v1/pipelines/named", body)
    assert status == 422 and refused["error"]["details"]["field"] == "name"
    status, _ = await request_json(http, "GET", f"{daemon.url}/v1/pipelines/other")
    assert status == 404


async def test_an_alias_move_that_pipelines_will_refuse_stands_and_names_them(daemon: DaemonProcess, http) -> None:
    await poll(http, f"{daemon.url}/v1/pipelines/demo", lambda b: True)
    registry = ModelRegistry(FilesystemArtifactStore(daemon.data_dir / "artifacts"), SystemClock())
    narrow = await registry.claim_version("demo-churn", "job-narrow")
    await registry.publish("demo-churn", narrow, {"model.bin": b"x"}, job_id="job-narrow", algorithm="a",
                           spec={"task": "classification", "source": {"features": ["f0", "f1", "f2"]}}, metrics={},
                           data={}, library_versions={}, created_at="2026-01-01T00:00:00Z")
    status, moved = await request_json(http, "PUT", f"{daemon.url}/v1/models/demo-churn/aliases/production",
                                       {"version": narrow, "reason": "try the narrow one"})
    assert status == 200 and moved["to_version"] == narrow
    assert any("'demo'" in w and "keep its current version" in w for w in moved["warnings"]), moved
    assert "keep its current version" in daemon.log_text()
    status, back = await request_json(http, "PUT", f"{daemon.url}/v1/models/demo-churn/aliases/production",
                                      {"version": 1, "reason": "back"})
    assert status == 200 and back["warnings"] == []
